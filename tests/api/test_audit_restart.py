"""A server killed (SIGKILL) while an audit job runs: after the restart the job is failed
with the reason, never left running, and its worker process does not outlive the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from airgrid.api.http.auth import KeyStore
from airgrid.api.http.stores import StorePool
from tests.servers import free_port, wait_ready

#: Fixes in the long log (enough for the job to be running for seconds).
N_FIXES = 1_000_000


def _start(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log_path, "ab") as log:  # the server keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "airgrid.api.http.app:create_app",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, proc, log_path, 120)
    return proc, base


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            out.append(int(status.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:\t", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _long_log(path: Path) -> None:
    k = np.arange(N_FIXES)
    pd.DataFrame(
        {
            "flight_id": "F-" + (k // 10_000).astype(str),
            "operator": "Op",
            "time": 1740988800.0 + (k % 10_000),
            "lat": 28.1 + 0.00001 * (k % 10_000),
            "lon": 112.95,
            "alt": 300.0,
            "alt_ref": "AMSL",
        }
    ).to_csv(path, index=False)


def test_jobs_of_a_killed_server_are_failed_at_restart(grid_dir: Path, tmp_path: Path):
    db_url = f"sqlite:///{tmp_path / 'airgrid.sqlite'}"
    pool = StorePool(db_url, None)
    reg = {"Authorization": f"Bearer {KeyStore(pool.get).create('reg', 'regulator')[0]}"}
    pool.close()
    logs = tmp_path / "flight-logs"
    logs.mkdir()
    _long_log(logs / "day.csv")
    env = {
        "AIRGRID_GRID_PATH": str(grid_dir),
        "AIRGRID_DB_URL": db_url,
        "AIRGRID_VAR_DIR": str(tmp_path),
        "AIRGRID_AUDIT_WORKERS": "1",
    }
    log_path = tmp_path / "uvicorn.log"
    proc, base = _start(env, log_path)
    try:
        ids = []
        for _ in range(2):  # one runs, one waits in the queue
            r = httpx.post(f"{base}/v1/audits", json={"files": ["day.csv"]}, headers=reg)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/v1/audits/{ids[0]}", headers=reg).json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        t0 = time.monotonic()
        health = httpx.get(f"{base}/v1/health", timeout=5)
        assert health.status_code == 200 and time.monotonic() - t0 < 2  # responsive meanwhile
        workers = _children(proc.pid)
        assert workers, "the running job has a worker process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    deadline = time.monotonic() + 10  # orphaned workers see their server gone and exit
    while any(_alive(p) for p in workers):
        assert time.monotonic() < deadline, "a worker outlived its server"
        time.sleep(0.1)
    proc, base = _start(env, log_path)
    try:
        jobs = {j["id"]: j for j in httpx.get(f"{base}/v1/audits", headers=reg).json()["jobs"]}
        assert jobs[ids[0]]["state"] == "failed"
        assert jobs[ids[0]]["error"].startswith("server restarted before the job finished")
        assert "(it was running)" in jobs[ids[0]]["error"]
        assert jobs[ids[1]]["state"] == "failed" and "(it was queued)" in jobs[ids[1]]["error"]
        time.sleep(1)
        again = httpx.get(f"{base}/v1/audits/{ids[0]}", headers=reg).json()
        assert again["state"] == "failed"  # no late write by an orphan
        assert not (tmp_path / "audits" / ids[0] / "summary.md").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
