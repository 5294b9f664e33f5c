"""Every example of the OpenAPI document works on the default grid.

A real uvicorn serves the default grid (Changsha prefecture, every tier of
``airgrid/data/tiers.toml``) with the airport protection geofences seeded as ``airgrid
serve`` seeds them. Every operation is then sent as its examples describe it
(query and path parameter ``examples``, the request body's schema examples) with an
admin key (admin may call every operation) and must answer 2xx.
"""

from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from airgrid.airspace.grid import TierTable, build_grid, named_area
from airgrid.api.cli.serve import ensure_airports
from airgrid.api.http.auth import KeyStore
from airgrid.api.http.schemas.audits import EXAMPLE_JOB_ID, EXAMPLE_LOG
from airgrid.api.http.stores import StorePool
from airgrid.data import DEFAULT_DEM, DEFAULT_TIER_FILE
from airgrid.settings import Settings
from airgrid.terrain import Dem
from tests.servers import airgrid_serve

#: The README's example inputs.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: Operations that take a required parameter or a body yet have no example, with the reason.
#: Empty: every such operation has one. (Operations without input, such as /v1/health,
#: need none and are sent as they are.)
NO_EXAMPLE_JUSTIFIED: dict[str, str] = {}

#: Operations sent first (they create what the others read, change or delete) and last.
FIRST = ("POST /v1/geofences", "POST /v1/intents", "POST /v1/audits")
LAST = ("DELETE /v1/geofences/{identifier}",)
#: Intent state transitions, in the order the lifecycle allows them.
TRANSITIONS = (
    "POST /v1/intents/{intent_id}/activate",
    "POST /v1/intents/{intent_id}/telemetry",
    "POST /v1/intents/{intent_id}/end",
    "POST /v1/intents/{intent_id}/cancel",
)


@pytest.fixture(scope="session")
def default_grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default grid (Changsha, all tiers), built once per session (~20 s)."""
    out = tmp_path_factory.mktemp("default-grid") / "grid"
    build_grid(
        named_area("changsha"), Dem.open(DEFAULT_DEM), TierTable.from_toml(DEFAULT_TIER_FILE)
    ).save(out)
    return out


@pytest.fixture(scope="session")
def default_server(default_grid_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """uvicorn on the default grid with the airport geofences; yields (base URL, admin token)."""
    tmp = tmp_path_factory.mktemp("examples-server")
    db_url = f"sqlite:///{tmp / 'airgrid.sqlite'}"
    pool = StorePool(db_url, None)
    admin = KeyStore(pool.get).create("admin", "admin")[0]
    pool.close()
    assert ensure_airports(Settings(db_url=db_url, var_dir=tmp)) > 0
    example_log = tmp / "flight-logs" / EXAMPLE_LOG  # the log the audit example names
    example_log.parent.mkdir(parents=True)
    shutil.copy(EXAMPLES / Path(EXAMPLE_LOG).name, example_log)
    env = {
        "AIRGRID_GRID_PATH": str(default_grid_dir),
        "AIRGRID_DB_URL": db_url,
        "AIRGRID_VAR_DIR": str(tmp),
    }
    with airgrid_serve(env, tmp / "uvicorn.log", ready_s=180) as base:
        yield base, admin


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def _param_example(p: dict) -> tuple[bool, Any]:
    for src in (p, p.get("schema", {})):
        if "example" in src:
            return True, src["example"]
        ex = src.get("examples")
        if isinstance(ex, list) and ex:
            return True, ex[0]
        if isinstance(ex, dict) and ex:
            first = next(iter(ex.values()))
            return True, first.get("value", first)
    return False, None


def _body_examples(doc: dict, op: dict) -> tuple[bool, list[Any]]:
    rb = op.get("requestBody")
    if not rb:
        return True, [None]
    media = rb["content"].get("application/json", {})
    if "example" in media:
        return True, [media["example"]]
    if isinstance(media.get("examples"), dict) and media["examples"]:
        return True, [e.get("value") for e in media["examples"].values()]
    schema = media.get("schema", {})
    for s in (schema, _resolve(doc, schema)):
        if s.get("examples"):
            return True, list(s["examples"])
        if "example" in s:
            return True, [s["example"]]
    return False, []


def _requests(
    doc: dict, prefix: str = "/v1"
) -> tuple[list[tuple[str, str, dict, list[Any]]], list[str]]:
    """(key, url, query, bodies) per operation under ``prefix`` in sending order, and the
    operations lacking examples. (The InterUSS interfaces, which take JWTs rather than API
    keys, are sent by ``tests/api/interuss/test_interuss_examples.py``.)"""
    ops, missing = [], []
    for path, item in doc["paths"].items():
        if not path.startswith(prefix + "/"):
            continue
        for method, op in item.items():
            key = f"{method.upper()} {path}"
            url, query, ok = path, {}, True
            for p in op.get("parameters", []):
                has, value = _param_example(p)
                if not has:
                    if p.get("required"):
                        ok = False
                    continue
                if p["in"] == "path":
                    url = url.replace("{" + p["name"] + "}", str(value))
                elif p["in"] == "query":
                    query[p["name"]] = value
            has_body, bodies = _body_examples(doc, op)
            if not (ok and has_body):
                missing.append(key)
                continue
            ops.append((key, url, query, bodies))

    def rank(item: tuple) -> tuple[int, int]:
        key = item[0]
        if key in FIRST:
            return 0, FIRST.index(key)
        if key in TRANSITIONS:
            return 2, TRANSITIONS.index(key)
        if key in LAST:
            return 3, 0
        return 1, 0

    return sorted(ops, key=rank), missing


def test_every_operation_has_examples_and_they_succeed(default_server):
    base, admin = default_server
    headers = {"Authorization": f"Bearer {admin}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        doc = http.get("/openapi.json").json()
        ops, missing = _requests(doc)
        assert sorted(set(missing) - set(NO_EXAMPLE_JUSTIFIED)) == [], "operations without examples"
        failures = []
        for key, url, query, bodies in ops:
            method = key.split(" ", 1)[0]
            for body in bodies:
                kw: dict[str, Any] = {"params": query}
                if body is not None:
                    kw["json"] = copy.deepcopy(body)
                r = http.request(method, url, **kw)
                if not 200 <= r.status_code < 300:
                    failures.append(
                        (
                            key,
                            body if body is None else str(body)[:120],
                            r.status_code,
                            r.text[:400],
                        )
                    )
            if key == "POST /v1/audits":  # the result operations read the finished job
                _wait_for_job(http, EXAMPLE_JOB_ID)
        assert failures == [], "\n".join(map(str, failures))


def _wait_for_job(http: httpx.Client, job_id: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while http.get(f"/v1/audits/{job_id}").json().get("state") not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "the example audit job did not finish"
        time.sleep(0.2)
