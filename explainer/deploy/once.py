"""Expensive shared work done once per key per process, however many sessions ask at the same moment.

A lecture hall presses "Export" together: sixty requests for the same (α, resolution, dtype, weights)
must run **one** export and hand its result to all sixty; requests for different keys run one after the
other (``slots`` at a time), never all at once on a 2-core server. :class:`OncePerKey` does that:

* :meth:`OncePerKey.get` returns the cached value, or computes it while holding that key's lock — a
  second caller of the same key blocks on the lock and then finds the value (single flight);
* a semaphore of ``slots`` bounds how many *different* keys compute at the same time;
* at most ``max_entries`` results are kept (least recently used dropped first);
* a computation that raises leaves nothing behind: the next caller tries again;
* :meth:`OncePerKey.submit` runs the computation in a background thread and returns a :class:`Job` whose
  stage and fraction a page can poll, so the page stays usable (and a rerun of the page cannot cut the
  export short) while it runs.

Pure Python (no Streamlit): the page, the command line and the tests share one instance per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class Job:
    """A background computation of one key: where it is, and how it ended."""

    stage: str = "queued"
    fraction: float = 0.0
    finished: bool = False
    error: BaseException | None = None

    def update(self, stage: str, fraction: float) -> None:
        """The ``progress(stage, fraction)`` callback handed to the computation."""
        self.stage, self.fraction = stage, max(self.fraction, min(1.0, float(fraction)))


class OncePerKey(Generic[V]):
    """A process-wide, thread-safe, size-bounded cache whose misses are computed exactly once per key."""

    def __init__(self, max_entries: int = 4, slots: int = 1) -> None:
        if max_entries < 1 or slots < 1:
            raise ValueError("max_entries and slots must be at least 1")
        self.max_entries = max_entries
        self._lock = threading.Lock()  # guards the dictionaries below
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(slots)
        self.computations = 0  # how many times a value was computed (for tests and the benchmark)
        self._jobs: dict[Hashable, Job] = {}

    def peek(self, key: Hashable) -> V | None:
        """The cached value of ``key`` or ``None``; never computes (what a plain rerun may call)."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return None

    def running(self, key: Hashable) -> bool:
        """Whether some thread is computing (or about to compute) ``key`` right now."""
        with self._lock:
            lock = self._key_locks.get(key)
        return lock is not None and lock.locked()

    def get(self, key: Hashable, compute: Callable[[], V]) -> tuple[V, bool]:
        """``(value, computed_by_this_call)``; ``compute()`` runs at most once per key at a time."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key], False
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:  # someone else may have finished it while we waited
                if key in self._values:
                    self._values.move_to_end(key)
                    return self._values[key], False
            try:
                with self._slots:
                    value = compute()
            except BaseException:
                with self._lock:
                    if self._key_locks.get(key) is key_lock:
                        del self._key_locks[key]
                raise
            with self._lock:  # store the value before the key's lock is forgotten: no second computation
                self.computations += 1
                self._values[key] = value
                self._values.move_to_end(key)
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
                if self._key_locks.get(key) is key_lock:
                    del self._key_locks[key]
            return value, True

    def submit(self, key: Hashable, compute: Callable[[Callable[[str, float], None]], V]) -> Job:
        """Compute ``key`` in a background thread (unless it is cached or already running); its :class:`Job`.

        ``compute(progress)`` gets the job's ``progress(stage, fraction)`` callback. Pressing the button
        again while the job runs returns the same job; after a failure a new job starts.
        """
        with self._lock:
            if key in self._values:
                return Job("done", 1.0, True)
            job = self._jobs.get(key)
            if job is not None and not job.finished:
                return job
            job = Job()
            self._jobs[key] = job

        def work() -> None:
            try:
                self.get(key, lambda: compute(job.update))
                job.stage, job.fraction = "done", 1.0
            except BaseException as err:  # noqa: BLE001 - kept for the page to show
                job.error = err
            finally:
                job.finished = True

        threading.Thread(target=work, name=f"once-per-key {key}", daemon=True).start()
        return job

    def job(self, key: Hashable) -> Job | None:
        """The latest background job of ``key`` (running or finished), or ``None``."""
        with self._lock:
            return self._jobs.get(key)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

