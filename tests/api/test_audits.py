"""Audit jobs through the API: submit, poll, fetch results; roles, bad input and limits."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from airgrid.api.http.app import create_app
from airgrid.api.http.audit_jobs import AuditJobs
from airgrid.api.http.audit_task import task_maker
from tests.api.conftest import fence

#: Monday 2025-03-03 08:00 UTC.
T0 = datetime(2025, 3, 3, 8, tzinfo=UTC).timestamp()
#: Fixes every 10 s, 0.001 degree east each, at 300 m AMSL along lat 28.175: the track
#: enters the test fence (lon 112.96..112.99) halfway between fixes 19 and 20 and leaves
#: it halfway between fixes 49 and 50.
N_FIXES = 70


def track_csv(flight: str = "F-1", bad_line: bool = False) -> bytes:
    """The CSV of one flight across the test fence (optionally a bad latitude on line 3)."""
    lines = ["flight_id,operator,time,lat,lon,alt,alt_ref"]
    for k in range(N_FIXES):
        lat = "north" if bad_line and k == 1 else "28.175"
        lines.append(f"{flight},Op,{T0 + 10 * k},{lat},{112.9405 + 0.001 * k:.4f},300,AMSL")
    return ("\n".join(lines) + "\n").encode()


def wait_done(client: TestClient, job_id: str, headers: dict, timeout_s: float = 240) -> dict:
    """Poll a job until it has ended (bounded in time); its last state."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"/v1/audits/{job_id}", headers=headers)
        assert r.status_code == 200, r.text
        job = r.json()
        assert 0 <= job["progress"] <= 1
        if job["state"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.25)


def upload(client: TestClient, headers: dict, body: bytes, **params) -> object:
    return client.post(
        "/v1/audits",
        content=body,
        params={"format": "csv", **params},
        headers={**headers, "Content-Type": "text/csv"},
    )


def test_lifecycle_finds_the_fence_with_its_first_and_last_time(client, auth):
    reg = auth["regulator"]
    assert client.post("/v1/geofences", json=fence("F1"), headers=reg).status_code == 201
    r = upload(client, reg, track_csv())
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/audits/{job['id']}" == job["links"]["self"]
    assert job["state"] in ("queued", "running") and job["owner"] == "regulator-1"
    done = wait_done(client, job["id"], reg)
    assert done["state"] == "succeeded", done["error"]
    assert done["progress"] == 1 and done["result"]["fixes"] == N_FIXES
    assert done["result"]["rejected_rows"] == 0

    page = client.get(done["links"]["violations"], headers=reg)
    assert page.status_code == 200 and page.headers["content-type"] == "application/geo+json"
    fences = [
        f["properties"]
        for f in page.json()["features"]
        if f["properties"]["rule"] == "geofence" and f["properties"]["object_id"] == "F1"
    ]
    assert len(fences) == 1
    v = fences[0]
    assert v["flight_id"] == "F-1" and v["operator"] == "Op"
    assert v["t_first"] == pytest.approx(T0 + 195, abs=0.01)
    assert v["t_last"] == pytest.approx(T0 + 495, abs=0.01)
    assert v["time_first"].startswith("2025-03-03T08:03:15")

    first = client.get(done["links"]["violations"], params={"limit": 1}, headers=reg).json()
    assert first["numberReturned"] == 1 and first["numberMatched"] == done["result"]["violations"]
    assert (first["next"] is None) == (first["numberMatched"] == 1)

    md = client.get(done["links"]["summary"], headers=reg)
    assert md.headers["content-type"].startswith("text/markdown") and "## Op" in md.text
    html = client.get(done["links"]["summary"], headers={**reg, "Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "<h2>Op</h2>" in html.text
    assert client.get(f"/v1/audits/{job['id']}/summary.html", headers=reg).text == html.text

    pq_resp = client.get(done["links"]["parquet"], headers=reg)
    assert pq_resp.status_code == 200
    table = pq.read_table(io.BytesIO(pq_resp.content)).to_pandas()
    row = table[(table["rule"] == "geofence") & (table["object_id"] == "F1")].iloc[0]
    assert row["t_first"] == pytest.approx(T0 + 195, abs=0.01)

    listed = client.get("/v1/audits", headers=auth["admin"]).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_only_regulators_and_admins(client, auth):
    for role in ("operator", "planner"):
        assert upload(client, auth[role], track_csv()).status_code == 403
        assert client.get("/v1/audits", headers=auth[role]).status_code == 403
        assert client.get("/v1/audits/nope", headers=auth[role]).status_code == 403
    assert client.get("/v1/audits").status_code == 401
    for role in ("regulator", "admin"):
        r = client.get("/v1/audits/no-such-job", headers=auth[role])
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert (
            client.get("/v1/audits/no-such-job/violations", headers=auth[role]).status_code == 404
        )


def test_up_front_checks(client, auth, settings):
    reg = auth["regulator"]
    no_format = client.post("/v1/audits", content=track_csv(), headers=reg)
    assert no_format.status_code == 422 and "format" in no_format.json()["detail"]
    assert upload(client, reg, b"").status_code == 422
    window = upload(
        client, reg, track_csv(), **{"from": "2025-03-03T09:00:00Z", "to": "2025-03-03T08:00:00Z"}
    )
    assert window.status_code == 422
    root = settings.audit_log_dir
    (root / "day").mkdir(parents=True)
    (root / "day" / "a.txt").write_text("x")
    outside = settings.var_dir / "secret.csv"
    outside.write_bytes(track_csv())
    (root / "link.csv").symlink_to(outside)
    for name, why in [
        ("../secret.csv", "outside"),
        (str(outside), "outside"),
        ("link.csv", "outside"),
        ("day/missing.csv", "does not exist"),
        ("day/a.txt", "not a flight log"),
        ("day", "no flight log"),
    ]:
        r = client.post("/v1/audits", json={"files": [name]}, headers=reg)
        assert r.status_code == 422 and why in r.json()["detail"], (name, r.text)
    assert client.post("/v1/audits", json={"files": []}, headers=reg).status_code == 422
    assert client.get("/v1/audits", headers=reg).json()["jobs"] == []  # nothing was queued


def test_strict_job_on_server_logs_fails_with_the_row_and_field(client, auth, settings):
    reg = auth["regulator"]
    folder = settings.audit_log_dir / "day1"
    folder.mkdir(parents=True)
    (folder / "bad.csv").write_bytes(track_csv(bad_line=True))
    r = client.post("/v1/audits", json={"files": ["day1"]}, params={"strict": "true"}, headers=reg)
    assert r.status_code == 202, r.text
    assert r.json()["parameters"]["logs"] == ["day1/bad.csv"]
    done = wait_done(client, r.json()["id"], reg)
    assert done["state"] == "failed"
    assert "day1/bad.csv: line 3: lat" in done["error"], done["error"]
    assert str(settings.audit_log_dir) not in done["error"]
    res = client.get(f"/v1/audits/{done['id']}/violations", headers=reg)
    assert res.status_code == 409 and "failed" in res.json()["detail"]


def test_upload_size_limit(settings, services, auth):
    small = settings.model_copy(update={"max_audit_upload_bytes": 1_000})
    with TestClient(create_app(small, services=services)) as c:
        r = upload(c, auth["regulator"], track_csv())
        assert r.status_code == 413 and "1000 bytes" in r.json()["detail"]


def test_queue_bound_and_point_limit(settings, services, auth):
    services.audits = AuditJobs(
        services.stores.get,
        task_maker(settings.model_copy(update={"max_audit_points": 10}), services.grid.tiers,
                   services.stores.location),
        workers=1,
        queue_size=0,
    )  # fmt: skip
    reg = auth["regulator"]
    with TestClient(create_app(settings, services=services)) as c:
        first = upload(c, reg, track_csv())
        assert first.status_code == 202
        busy = upload(c, reg, track_csv(), job_id="busy-1")
        assert busy.status_code == 503 and busy.headers["retry-after"]
        assert not (settings.var_dir / "audits" / "busy-1").exists()  # the upload is not kept
        assert c.get("/v1/audits/busy-1", headers=reg).status_code == 404
        done = wait_done(c, first.json()["id"], reg)
        assert done["state"] == "failed" and "at most 10" in done["error"]
        deadline = time.monotonic() + 30  # the slot frees once the worker process has exited
        while (again := upload(c, reg, track_csv())).status_code == 503:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert again.status_code == 202


def test_client_job_id_is_unique(client, auth):
    reg = auth["regulator"]
    assert upload(client, reg, track_csv(), job_id="mine-1").status_code == 202
    again = upload(client, reg, track_csv(), job_id="mine-1")
    assert again.status_code == 409


def test_paths_are_relative_to_the_log_folder(tmp_path: Path):
    from airgrid.api.http.routes.audits import server_logs

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_text("")
    (tmp_path / "a" / "y.parquet").write_text("")
    assert server_logs(tmp_path, ["a"]) == [tmp_path / "a" / "x.csv", tmp_path / "a" / "y.parquet"]
