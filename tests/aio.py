"""Running a test's asyncio scenario whatever else runs: the browser tests' Playwright (sync
API) keeps an event loop running in the main thread for the rest of the session, and
asyncio.run refuses to start inside a running loop; a thread of its own has none."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable


def run_isolated(main: Callable[[], Awaitable[None]]) -> None:
    """asyncio.run(main()) in a fresh thread; its exception (an assertion) is raised here."""
    failures: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(_awaited(main))
        except BaseException as failure:
            failures.append(failure)

    thread = threading.Thread(target=target, name="asyncio-scenario")
    thread.start()
    thread.join()
    if failures:
        raise failures[0]


async def _awaited(main: Callable[[], Awaitable[None]]) -> None:
    await main()
