"""Run a generator one step ahead of its consumer, in a thread: reading and validating the next batch
of a file while the current one is pseudonymized and normalized.

The heavy work on both sides runs in pyarrow, polars and DuckDB, which release the GIL, so the two
steps overlap on two cores. At most ``depth + 1`` items are alive at once (memory stays bounded). An
exception in the generator is raised in the consumer, as it was raised; when the consumer stops
early (an error of its own), the thread is told to stop and joined before the caller goes on.
"""
from __future__ import annotations

import queue
import threading
from typing import Iterator, TypeVar

T = TypeVar("T")
_DONE = object()


def run_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield the items of ``items``, produced in a background thread up to ``depth`` ahead: at most
    ``depth + 1`` items are alive at once (the consumer's and those made ahead of it)."""
    box: queue.Queue = queue.Queue()
    room = threading.Semaphore(depth + 1)  # taken per item made, given back when the consumer is done with one
    stop = threading.Event()

    def wait_for_room() -> bool:
        while not stop.is_set():
            if room.acquire(timeout=0.1):
                return True
        return False

    def work() -> None:
        try:
            iterator = iter(items)
            while wait_for_room():
                try:
                    item = next(iterator)
                except StopIteration:
                    box.put((True, _DONE))
                    return
                box.put((True, item))
                del item
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            box.put((False, exc))

    thread = threading.Thread(target=work, name="ibet-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = box.get()
            if not ok:
                raise item  # type: ignore[misc]
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
            del item
            room.release()  # the consumer is done with its item: one more may be made
    finally:
        stop.set()
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()
