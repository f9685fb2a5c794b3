"""A process that writes chats as fast as it can and reports each write once it is committed.

Run by the SIGKILL test: `python store_writer.py DATA_DIR`. Prints `ready`, then one line
`<session_id> <msg_id> <seq>` after each awaited write returned (so the transaction committed).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from store_support import input_message, new_store, output_message


async def write_forever(data_dir: Path) -> None:
    store = new_store(data_dir)
    store.open()
    print("ready", flush=True)
    run = uuid.uuid4().hex[:8]
    turn = 0
    while True:
        session_id = f"run-{run}-{turn // 5}"  # a new session every 5 turns
        stored, _, _ = await store.add_input(
            input_message(session_id, f"question {turn} " + "words " * 50), session_name=session_id
        )
        report(stored)
        out = output_message(session_id, stored["conv_id"], "", status="progress")
        for chunk in range(4):  # a streamed answer: the same message stored again and again
            out["content"][0]["text"] += f"chunk {chunk} " * 20
            report(await store.put_message(out))
        report(await store.put_message({**out, "status": "success"}))
        turn += 1


def report(stored: dict) -> None:
    print(stored["session_id"], stored["msg_id"], stored["metadata"]["seq"], flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    asyncio.run(write_forever(Path(sys.argv[1])))
