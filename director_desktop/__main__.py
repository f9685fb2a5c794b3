"""`python -m director_desktop`."""

from __future__ import annotations

import sys

# The app serves Socket.IO and never uses python-engineio's client side, which `import socketio`
# loads with the HTTP clients it would use when installed (`requests` and its stack: ~60 ms of
# start-up). director.spec leaves them out of the frozen app; marking them absent here makes a
# run from source import what the installed app imports (tests/integration/test_startup_imports).
# Only in the app's own process: a test or tool importing the package keeps them.
for _client in ("requests", "aiohttp", "websocket"):
    if _client not in sys.modules:
        sys.modules[_client] = None  # type: ignore[assignment]  # None: "absent" to the importer

from director_desktop.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
