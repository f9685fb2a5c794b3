"""A model closed or replaced the instant it is loaded shuts down, every time.

xllamacpp has no `stop()`: a server stops when it is dropped, and dropping one whose task loop
had not started yet hung for good (`loading.start_server` explains why). It showed as a settings
test that reloaded the model twice in a row and never returned. The loads run in a child
process so that a hang fails this test on its timeout instead of hanging the suite (a hung
native thread cannot be stopped from Python).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.fixtures.tiny_gguf import write_chat_model

ROUNDS = 20
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from director_desktop.engine.llm.llamacpp import LlamaCppProvider

    async def main(model: Path, rounds: int) -> None:
        for n in range(rounds):
            # closed as soon as it is loaded (the server dropped by the close)
            provider = LlamaCppProvider(model, context_length=256)
            await provider.ready()
            await provider.close()
            # closed while it loads (the server dropped by the loading thread)
            provider = LlamaCppProvider(model, context_length=256)
            await provider.start()
            await provider.close()
            print(n, flush=True)

    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
    """
)


def test_a_model_closed_as_soon_as_it_loads_shuts_down(tmp_path: Path) -> None:
    model = write_chat_model(str(tmp_path / "tiny.gguf"))
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, model, str(ROUNDS)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as exc:
        rounds = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout
        raise AssertionError(
            f"closing a just-loaded model hung; rounds finished: {(rounds or '').split()}"
        ) from None
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(n) for n in range(ROUNDS)]
