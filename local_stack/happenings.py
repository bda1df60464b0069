"""How many times something has happened, for the threads that wait for the next time instead of
sleeping a fixed interval: an execution's end (a `.sync` task waiting for its child), a function's
invocation ended or queued (a test waiting for the workflow to reach a state)."""

from __future__ import annotations

import threading


class Happenings:
    """Each waiter wakes when the count has moved since it last looked, so that one happening between
    two looks is never missed."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0
        self._seen = threading.local()

    def happened(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def look(self) -> None:
        """Remember the count now: the next `sleep` returns as soon as it moves from here."""
        self._seen.count = self._count

    def sleep(self, longest: float) -> bool:
        """Wait until something has happened since the last look, `longest` seconds at most; whether
        it had."""
        with self._changed:
            happened = self._changed.wait_for(
                lambda: self._count != getattr(self._seen, "count", None), timeout=longest
            )
            self._seen.count = self._count
            return happened
