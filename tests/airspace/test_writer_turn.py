"""The turn to write a SQLite store (:mod:`airgrid.airspace.store.writer_turn`): a writer
waits while another connection or process has it, gives up with a clear error after the
store's busy timeout having written nothing, and writes once the turn is free. (The
8-process race of ``test_store_race.py`` runs through it as well.)"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from airgrid.airspace.errors import StoreBusyError
from airgrid.airspace.store.backends import SQLITE_FILE
from airgrid.airspace.store.service import open_store
from airgrid.airspace.store.writer_turn import SUFFIX
from tests.airspace.conftest import circle

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the turn needs fcntl")


def test_a_writer_waits_for_the_turn_then_gives_up_having_written_nothing(tmp_path) -> None:
    with open_store(tmp_path) as holder, open_store(tmp_path, busy_timeout_s=0.3) as other:
        with holder._db._turn:  # another connection's write transaction, as long as it takes
            t0 = time.monotonic()
            with pytest.raises(StoreBusyError, match=r"no turn to write within 0\.3 s"):
                other.submit(circle("a", intent_id="a-1"))
            assert time.monotonic() - t0 >= 0.3
        assert other.holding() == []
        assert other.submit(circle("a", intent_id="a-1")).accepted  # the turn is free again
    assert (tmp_path / (SQLITE_FILE + SUFFIX)).exists()


def test_a_turn_held_by_another_process_is_waited_for(tmp_path) -> None:
    """Another process holds the turn for 0.6 s; a submission made meanwhile waits for it,
    then is accepted."""
    with open_store(tmp_path) as store:
        store.check(circle("warm-up", north=50_000.0))
        lock = tmp_path / (SQLITE_FILE + SUFFIX)
        code = (
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(0.6)\n"
        )
        with subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
        ) as proc:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
            t0 = time.monotonic()
            assert store.submit(circle("a", intent_id="a-1")).accepted
            waited = time.monotonic() - t0
        assert waited >= 0.3  # it did wait for the other process's turn to end
        assert [i.id for i in store.holding()] == ["a-1"]
