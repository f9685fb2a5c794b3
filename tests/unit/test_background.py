"""BackgroundTasks with real asyncio tasks: kept until done, failures logged, closed for good."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref

import pytest

from director_desktop.background import BackgroundTasks

pytestmark = pytest.mark.anyio

DEADLINE = 5.0


async def test_a_task_nobody_else_holds_is_kept_while_it_runs() -> None:
    tasks = BackgroundTasks()

    async def orphan() -> None:
        # Only this task refers to the future: without a holder, gc destroys the pending task.
        await asyncio.get_running_loop().create_future()

    task = weakref.ref(tasks.spawn(orphan(), name="orphan"))
    await asyncio.sleep(0)  # let it start waiting
    gc.collect()
    assert task() is not None
    assert len(tasks) == 1
    await asyncio.wait_for(tasks.aclose(), DEADLINE)


async def test_a_task_is_let_go_once_done() -> None:
    tasks = BackgroundTasks()
    release = asyncio.Event()

    async def work() -> None:
        await release.wait()

    tasks.spawn(work(), name="work")
    assert len(tasks) == 1
    release.set()
    await asyncio.wait_for(tasks.wait(), DEADLINE)
    assert len(tasks) == 0


async def test_spawn_names_the_task_and_returns_its_result() -> None:
    tasks = BackgroundTasks()

    async def answer() -> int:
        return 42

    task = tasks.spawn(answer(), name="the answer")
    assert task.get_name() == "the answer"
    assert await asyncio.wait_for(task, DEADLINE) == 42


async def test_a_failure_is_logged_with_the_task_name(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()

    async def fail() -> None:
        raise ValueError("broken probe")

    tasks.spawn(fail(), name="probe")
    with caplog.at_level(logging.ERROR, logger="director_desktop.background"):
        await asyncio.wait_for(tasks.wait(), DEADLINE)
    [record] = caplog.records
    assert "'probe' failed" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)


async def test_a_cancelled_task_is_not_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()
    task = tasks.spawn(asyncio.Event().wait(), name="waiting")
    await asyncio.sleep(0)  # let it start, so the cancel lands inside it
    task.cancel()
    with caplog.at_level(logging.ERROR, logger="director_desktop.background"):
        await asyncio.wait_for(tasks.wait(), DEADLINE)
    assert task.cancelled()
    assert caplog.records == []


async def test_wait_does_not_cancel_and_waits_for_tasks_started_meanwhile() -> None:
    tasks = BackgroundTasks()
    done: list[str] = []

    async def second() -> None:
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0)
        tasks.spawn(second(), name="second")
        done.append("first")

    tasks.spawn(first(), name="first")
    await asyncio.wait_for(tasks.wait(), DEADLINE)
    assert sorted(done) == ["first", "second"]
    assert len(tasks) == 0


async def test_aclose_cancels_the_running_tasks_and_waits_until_they_end() -> None:
    tasks = BackgroundTasks()
    started = asyncio.Event()
    cleaned_up: list[str] = []

    async def endless() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # its clean-up takes a step of its own
            cleaned_up.append("endless")

    task = tasks.spawn(endless(), name="endless")
    await asyncio.wait_for(started.wait(), DEADLINE)
    await asyncio.wait_for(tasks.aclose(), DEADLINE)
    assert task.cancelled()
    assert cleaned_up == ["endless"], "aclose returned only after the clean-up ran"
    assert len(tasks) == 0
    assert tasks.closed


async def test_aclose_is_idempotent_and_nothing_starts_after_it() -> None:
    tasks = BackgroundTasks()
    await asyncio.wait_for(tasks.aclose(), DEADLINE)
    await asyncio.wait_for(tasks.aclose(), DEADLINE)
    ran: list[str] = []

    async def late() -> None:
        ran.append("late")

    # The refused coroutine is closed, so no "never awaited" warning (warnings are errors here).
    with pytest.raises(RuntimeError, match=r"'late'.*closed"):
        tasks.spawn(late(), name="late")
    await asyncio.sleep(0)
    assert ran == []


async def test_a_task_may_close_its_own_siblings() -> None:
    tasks = BackgroundTasks()
    sibling = tasks.spawn(asyncio.Event().wait(), name="sibling")

    async def closer() -> None:
        await tasks.aclose()

    closing = tasks.spawn(closer(), name="closer")
    await asyncio.wait_for(closing, DEADLINE)
    assert sibling.cancelled()
