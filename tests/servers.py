"""Real servers for the tests: a free loopback port, and ``airgrid serve`` (uvicorn)
running the airgrid app.

Every server binds to 127.0.0.1 only, and every wait is bounded in time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, log_path: Path, timeout_s: float) -> None:
    """Poll ``/v1/ready`` of a uvicorn started as ``proc`` until it answers 200 (bounded in time)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{base}/v1/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.2)


@contextmanager
def airgrid_serve(
    env: dict[str, str], log_path: Path, *, workers: int = 1, ready_s: float = 120.0
) -> Iterator[str]:
    """Run ``airgrid serve`` (uvicorn, without seeding the airport geofences) on a free
    loopback port.

    Parameters
    ----------
    env
        ``AIRGRID_*`` (and other) variables added to this process's environment.
    log_path
        File that receives the server's output (shown if it dies before it is ready).
    workers
        Worker processes (``--workers``).
    ready_s
        Seconds the server may take to answer ``/v1/ready``.

    Yields
    ------
    str
        The base URL, ``http://127.0.0.1:<port>``. The server is terminated on exit.
    """
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airgrid.api.cli.main",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-airports",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc, log_path, ready_s)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
