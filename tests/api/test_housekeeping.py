"""Housekeeping: the contingent timer on the server's clock, and audit retention."""

from __future__ import annotations

import time

import airgrid.airspace.store.conformance as store_conformance
from airgrid.api.http.audit_task import audit_folder
from airgrid.api.http.housekeeping import Housekeeping, expire_audits
from tests.api.test_telemetry import CEILING, LON, D, _send
from tests.api.test_telemetry import flying as flying


def _leave(client, auth, t0):
    """Activate the flying intent and report one position 1 m above its ceiling."""
    op = auth["operator"]
    assert client.post("/v1/intents/live-1/activate", headers=op).status_code == 200
    r = _send(client, op, [(t0 + 2, LON + D / 2, CEILING + 1.0)])
    assert r.json()["state"] == "nonconforming"


def _states(client, headers):
    hist = client.get("/v1/intents/live-1/history", headers=headers).json()["events"]
    return [(e["from_state"], e["to_state"], e["cause"]) for e in hist]


def test_silent_nonconforming_intent_becomes_contingent_when_read(
    client, auth, flying, monkeypatch
):
    op, t0 = auth["operator"], flying
    _leave(client, auth, t0)
    assert _states(client, op)[-1] == ("activated", "nonconforming", "telemetry")  # not yet due

    class Later:  # the store's clock, 31 s on: past contingent_after_s (30 s)
        @staticmethod
        def time() -> float:
            return time.time() + 31.0

    monkeypatch.setattr(store_conformance, "time", Later)
    hist = client.get("/v1/intents/live-1/history", headers=op).json()["events"]
    last = hist[-1]
    assert (last["from_state"], last["to_state"], last["cause"]) == (
        "nonconforming",
        "contingent",
        "timeout",
    )
    assert last["position"]["alt_m"] == CEILING + 1.0  # the position that left
    assert client.get("/v1/intents/live-1", headers=op).json()["state"] == "contingent"
    alerts = client.get("/v1/alerts?state=contingent", headers=auth["regulator"]).json()
    assert [(e["intent_id"], e["cause"]) for e in alerts["alerts"]] == [("live-1", "timeout")]
    assert _states(client, op).count(("nonconforming", "contingent", "timeout")) == 1  # once


def test_housekeeping_round_makes_it_contingent(client, auth, flying, services, settings):
    _leave(client, auth, flying)
    keeper = Housekeeping(services.stores.get, settings)
    assert keeper.run_once() == ([], [])  # 30 s have not passed
    quick = Housekeeping(services.stores.get, settings.model_copy(update={"contingent_after_s": 0}))
    events, _ = quick.run_once()
    assert [(e.intent_id, e.new.value, e.cause) for e in events] == [
        ("live-1", "contingent", "timeout")
    ]
    assert quick.run_once() == ([], [])
    keeper.start()  # the thread starts and stops cleanly
    keeper.close()


def test_expired_audit_jobs_are_deleted_with_their_results(client, auth, services, settings):
    store = services.stores.get()
    for job_id in ("old", "running"):
        store.add_job(job_id, "audit", "regulator-1", {}, "host:1:1")
        assert store.start_job(job_id)
        folder = audit_folder(settings, job_id)
        folder.mkdir(parents=True)
        (folder / "violations.parquet").write_bytes(b"x")
    assert store.finish_job(
        "old", result={"violations": 0}, result_dir=str(audit_folder(settings, "old"))
    )
    assert expire_audits(store, settings) == []  # ended just now: kept
    later = time.time() + settings.audit_retention_s + 1
    assert expire_audits(store, settings, now=later) == ["old"]
    assert store.job("old") is None and not audit_folder(settings, "old").exists()
    assert store.job("running") is not None and audit_folder(settings, "running").exists()
    assert client.get("/v1/audits/old", headers=auth["regulator"]).status_code == 404
