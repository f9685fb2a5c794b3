"""The engine: one chat turn from stored input to final snapshot (handler), the reasoning loop,
model providers and agents. Imports store, media, protocol, settings, errors; never web/server."""
