"""Expensive work shared by everyone: computed once per process, the other callers wait for it.

When a hall presses the same "Measure" button at once, the first click computes and every other one waits for
that result instead of computing it again (N students, one VGG-16 timing). Different keys run one after the other
(``serial=True``): two heavy measurements at once would each measure half the machine and double the memory.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Results by key, each computed at most once at a time and kept; concurrent callers of a key share it."""

    def __init__(self, serial: bool = True) -> None:
        self._lock = threading.Lock()
        self._work = threading.Lock() if serial else None
        self._results: dict[Hashable, T] = {}
        self._pending: dict[Hashable, threading.Event] = {}
        self.computed = 0  # how many computations ran (for tests and benchmarks)

    def results(self) -> dict[Hashable, T]:
        """A copy of every result computed so far."""
        with self._lock:
            return dict(self._results)

    def running(self, key: Hashable) -> bool:
        """Whether someone is computing ``key`` right now."""
        with self._lock:
            return key in self._pending

    def run(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for ``key``: kept, or being computed by another caller (waited for), or computed here.

        If the caller computing it fails, its exception goes to that caller only; a waiting caller then tries
        itself.
        """
        while True:
            with self._lock:
                if key in self._results:
                    return self._results[key]
                event = self._pending.get(key)
                leader = event is None
                if leader:
                    event = self._pending[key] = threading.Event()
            if not leader:
                event.wait()
                continue
            try:
                if self._work is not None:
                    with self._work:
                        value = compute()
                else:
                    value = compute()
                with self._lock:
                    self._results[key] = value
                    self.computed += 1
                return value
            finally:
                with self._lock:
                    self._pending.pop(key, None)
                event.set()
