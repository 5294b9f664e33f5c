"""What a benchmark reads of the processes it starts (a server and its workers), from
Linux ``/proc``."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and all its descendants
    that are alive (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:  # ended meanwhile
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        todo += [int(k) for k in kids]
    return total


def server_peak_mib(pid: int) -> float:
    """Largest peak resident memory (VmHWM) of process ``pid`` and its children (the
    uvicorn workers), MiB (nan if unreadable)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    peaks = []
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return max(peaks, default=float("nan"))


def machine_idle_s() -> float:
    """Idle CPU seconds of the whole machine so far, summed over its CPUs (Linux
    ``/proc/stat``: idle plus I/O wait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")
