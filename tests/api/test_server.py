"""A real uvicorn server on 127.0.0.1: 32 concurrent clients submit overlapping intents.

The intents form 16 groups of 6 mutually conflicting intents plus 32 intents that
conflict with nothing. Exactly one intent per group and every lone intent must be
accepted; every answer must be 201 or 409; the store must hold exactly the intents
answered 201, each once.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from airgrid.api.http.auth import KeyStore
from airgrid.api.http.stores import StorePool
from tests.api.conftest import DAY, volume
from tests.servers import airgrid_serve

GROUPS, PER_GROUP, LONE, CLIENTS = 16, 6, 32, 32
NEXT_DAY = (date.fromisoformat(DAY) + timedelta(days=1)).isoformat()


@pytest.fixture()
def server(grid_dir: Path, tmp_path: Path):
    """uvicorn with 2 workers on a random free port; yields (base URL, admin token, operator tokens)."""
    db_url = f"sqlite:///{tmp_path / 'airgrid.sqlite'}"
    pool = StorePool(db_url, None)
    keys = KeyStore(pool.get)
    admin = keys.create("admin", "admin")[0]
    operators = [keys.create(f"op-{i}", "operator")[0] for i in range(CLIENTS)]
    pool.close()
    prom = tmp_path / "prometheus"
    prom.mkdir()
    env = {
        "AIRGRID_GRID_PATH": str(grid_dir),
        "AIRGRID_DB_URL": db_url,
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
    }
    with airgrid_serve(env, tmp_path / "uvicorn.log", workers=2) as base:
        yield base, admin, operators


def _plan() -> list[tuple[str, dict]]:
    """(intent id, body): groups overlap inside (same place, minutes apart), nothing overlaps across."""
    out = []
    for g in range(GROUPS):
        for m in range(PER_GROUP):
            start = f"{DAY}T{g:02d}:{m:02d}:00Z"
            end = f"{DAY}T{g:02d}:{m + 20:02d}:00Z"
            out.append(
                (
                    f"g{g}-m{m}",
                    {
                        "tier": "T2",
                        "intent_id": f"g{g}-m{m}",
                        "preempt": False,
                        "volumes": [volume(start=start, end=end)],
                    },
                )
            )
    for k in range(LONE):
        start, end = f"{NEXT_DAY}T{k % 24:02d}:00:00Z", f"{NEXT_DAY}T{k % 24:02d}:20:00Z"
        out.append(
            (
                f"lone-{k}",
                {
                    "tier": "T2",
                    "intent_id": f"lone-{k}",
                    "preempt": False,
                    "volumes": [volume(112.91 + (k // 24) * 0.05, 28.11, start=start, end=end)],
                },
            )
        )
    return out


def test_concurrent_submissions_accept_exactly_the_non_conflicting_set(server):
    base, admin, operators = server
    plan = _plan()
    random.Random(5).shuffle(plan)
    shares = [plan[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)

    def client(i: int) -> list[tuple[str, int, dict]]:
        results = []
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {operators[i]}"}, timeout=120
        ) as c:
            barrier.wait()
            for ident, body in shares[i]:
                r = c.post("/v1/intents", json=body)
                results.append((ident, r.status_code, r.json()))
        return results

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for part in pool.map(client, range(CLIENTS)) for a in part]
    assert len(answers) == len(plan)
    assert {code for _, code, _ in answers} <= {201, 409}, [
        a for a in answers if a[1] not in (201, 409)
    ]
    accepted = {ident for ident, code, _ in answers if code == 201}
    for g in range(GROUPS):
        assert len([a for a in accepted if a.startswith(f"g{g}-")]) == 1, g
    assert {f"lone-{k}" for k in range(LONE)} <= accepted
    for ident, code, body in answers:
        if code == 409:
            winner = next(a for a in accepted if a.startswith(ident.split("-")[0] + "-"))
            assert [c["other_id"] for c in body["conflicts"]] == [winner]
    stored = httpx.get(
        f"{base}/v1/intents", params={"limit": 10_000}, headers={"Authorization": f"Bearer {admin}"}
    ).json()["intents"]
    ids = [i["id"] for i in stored]
    assert len(ids) == len(set(ids))
    assert set(ids) == accepted
    assert all(i["state"] == "accepted" for i in stored)
    metrics = httpx.get(f"{base}/v1/metrics").text  # summed over both workers
    counts = {
        code: _sample(
            metrics,
            f'airgrid_http_requests_total{{method="POST",route="/v1/intents",status="{code}"}}',
        )
        for code in (201, 409)
    }
    assert counts == {201: len(accepted), 409: len(plan) - len(accepted)}


def _sample(text: str, name: str) -> float:
    """The value of one sample in Prometheus text format (labels in any order)."""
    want = name.split("{")[0], set(name[name.index("{") + 1 : -1].split(","))
    for line in text.splitlines():
        if line.startswith(want[0] + "{"):
            labels, value = line.rsplit(" ", 1)
            if set(labels[labels.index("{") + 1 : -1].split(",")) == want[1]:
                return float(value)
    return 0.0


def _tcp_sockets(port: int, state: str) -> set[int]:
    """Inodes of this host's TCP sockets (IPv4 and IPv6) with local port ``port`` in
    ``state`` (``/proc/net/tcp``'s hex code: ``0A`` listening, ``01`` established)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as f:
            next(f)
            for line in f:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == state:
                    inodes.add(int(cols[9]))
    return inodes


def _holders(inodes: set[int]) -> dict[int, int]:
    """Per process id, how many of the socket ``inodes`` it holds open."""
    held: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # gone, or not ours to read
            continue
        n = sum(link.startswith("socket:[") and int(link[8:-1]) in inodes for link in links)
        if n:
            held[int(proc.name)] = n
    return held


def test_both_workers_take_a_share_of_a_burst_of_connections(server):
    """Each worker listens on its own socket of the port, so 16 connections opened at once
    spread over both (one shared socket let the first worker to wake accept them all)."""
    base, _, _ = server
    port = int(base.rsplit(":", 1)[1])
    deadline = time.monotonic() + 120
    while len(_tcp_sockets(port, "0A")) < 2:  # both workers listening
        assert time.monotonic() < deadline, "the second worker never listened"
        time.sleep(0.2)
    conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(16)]
    try:
        for c in conns:
            c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for c in conns:
            assert c.recv(64).startswith(b"HTTP/1.1 200")
        held = _holders(_tcp_sockets(port, "01"))
    finally:
        for c in conns:
            c.close()
    assert sum(held.values()) == 16 and len(held) == 2, held
