"""Whose turn it is to write a SQLite store: an exclusive lock on one file beside the
database, taken before ``BEGIN IMMEDIATE`` by every write transaction of every connection
and process that opens the store.

SQLite's own wait for its write lock sleeps between tries, for 1, 2, 5, 10, 15 ms and on
up to 100 ms (its default busy handler): a writer queued behind a transaction of a few
milliseconds commonly sleeps 8 ms or more before it tries again, so several server
processes on one store spend much of their time asleep while the lock is free. The turn
is an exclusive ``flock`` on the file, tried every 20 microseconds at first and at most
every millisecond: a writer has its turn within about a millisecond of the previous
one's end, and its ``BEGIN IMMEDIATE`` then finds SQLite's lock free. Where ``fcntl``
is missing (Windows) the turn is SQLite's own wait alone.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import ModuleType

from airgrid.airspace.errors import StoreBusyError, StoreConfigError

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: Suffix of the lock file's name, after the database file's.
SUFFIX = "-writer"
#: First and longest pause between two tries for the turn, seconds.
FIRST_PAUSE_S = 20e-6
LONGEST_PAUSE_S = 1e-3


class WriterTurn:
    """One connection's way to its turn to write (a context manager; not re-entrant).

    Parameters
    ----------
    db_path
        The SQLite database file; the lock file is ``<db_path><SUFFIX>`` beside it,
        created at the first write.
    timeout_s
        How long to wait for the turn before :class:`StoreBusyError` (the store's busy
        timeout).
    """

    def __init__(self, db_path: Path, timeout_s: float) -> None:
        self.path = db_path.with_name(db_path.name + SUFFIX)
        self.timeout_s = timeout_s
        self._fd: int | None = None

    def __enter__(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreConfigError(f"cannot open the writer lock {self.path}: {exc}") from exc
        deadline = time.monotonic() + self.timeout_s
        pause = FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"SQLite store is locked by another writer: no turn to write within "
                        f"{self.timeout_s:g} s ({self.path})"
                    ) from None
                time.sleep(pause)
                pause = min(2 * pause, LONGEST_PAUSE_S)

    def __exit__(self, *exc: object) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file (a turn held is given up)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


__all__ = ["FIRST_PAUSE_S", "LONGEST_PAUSE_S", "SUFFIX", "WriterTurn"]
