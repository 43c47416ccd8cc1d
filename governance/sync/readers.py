"""Read pages from MLflow on a few threads while the caller writes the mirror.

One HTTP connection keeps one MLflow worker busy, so a handful of readers shorten a
full pass. Readers never touch the database; pages reach the caller's thread through
a bounded queue, which also keeps memory flat when writing is the slower side.
"""

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def parallel_pages(
    jobs: Sequence[Callable[[], Iterator[list[T]]]], readers: int
) -> Iterator[list[T]]:
    """Yield the pages of every job, running up to ``readers`` jobs at a time."""
    if readers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield from job()
        return

    pending: queue.SimpleQueue[Callable[[], Iterator[list[T]]]] = queue.SimpleQueue()
    for job in jobs:
        pending.put(job)
    pages: queue.Queue[object] = queue.Queue(maxsize=readers * 2)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while not stop.is_set():
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    break
                for page in job():
                    if not offer(page):
                        return
        except BaseException as exc:  # handed to the caller's thread, which re-raises
            offer(exc)
        finally:
            offer(_DONE)

    count = min(readers, len(jobs))
    threads = [threading.Thread(target=read, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        finished = 0
        while finished < count:
            item = pages.get()
            if item is _DONE:
                finished += 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item  # type: ignore[misc]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
