"""The engine: one chat turn from stored input to final snapshot (`turns`), the reasoning loop,
model providers and agents. Imports only the layers below it (tests/unit/test_dependency_rule.py);
never web, server, window or launcher."""
