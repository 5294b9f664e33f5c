"""``/flight_planning/v1`` through a real uvicorn, with RS256 tokens signed in the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.interuss.conftest import plan_id, rfc3339, upsert_body

FP = "/flight_planning/v1"


def put(http, pid: str, body: dict) -> dict:
    r = http.put(f"{FP}/flight_plans/{pid}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def intent_state(http, pid: str, version: int) -> str:
    """The state of a flight plan's intent ``fp-<id>.<version>`` (JWT on /v1: admin scope)."""
    r = http.get(f"/v1/intents/fp-{pid}.{version}")
    assert r.status_code == 200, r.text
    return r.json()["state"]


def test_status(http):
    r = http.get(f"{FP}/status")
    assert r.status_code == 200
    assert r.json() == {
        "status": "Ready",
        "api_name": "Flight Planning Automated Testing Interface",
        "api_version": "v0.6.0",
    }


def test_plan_modify_activate_close_cycle(http, admin_http):
    pid = plan_id()
    first = put(http, pid, upsert_body(where=(112.93, 28.12)))
    assert first["planning_result"] == "Completed" and first["flight_plan_status"] == "Planned"
    assert intent_state(admin_http, pid, 1) == "accepted"
    # modify: an overlapping, moved area replaces the intent in one step
    body = upsert_body(where=(112.931, 28.12))
    moved = put(http, pid, body)
    assert (moved["planning_result"], moved["flight_plan_status"]) == ("Completed", "Planned")
    assert intent_state(admin_http, pid, 1) == "cancelled"
    assert intent_state(admin_http, pid, 2) == "accepted"
    # activate with the same area: the intent is activated, not replaced
    body["flight_plan"]["basic_information"]["usage_state"] = "InUse"
    body["request_id"] += "-activate"
    active = put(http, pid, body)
    assert (active["planning_result"], active["flight_plan_status"]) == ("Completed", "OkToFly")
    assert intent_state(admin_http, pid, 2) == "activated"
    # modify while airborne: the new version starts airborne
    airborne = put(http, pid, upsert_body("InUse", where=(112.932, 28.12)))
    assert airborne["flight_plan_status"] == "OkToFly"
    assert intent_state(admin_http, pid, 3) == "activated"
    back = put(http, pid, upsert_body("Planned", where=(112.932, 28.12)))
    assert back["planning_result"] == "Rejected" and "airborne" in back["notes"]
    closed = put(http, pid, upsert_body("Closed", where=(112.932, 28.12)))
    assert (closed["planning_result"], closed["flight_plan_status"]) == ("Completed", "Closed")
    assert intent_state(admin_http, pid, 3) == "ended"
    # the airspace is free again
    other = put(http, plan_id(), upsert_body(where=(112.932, 28.12)))
    assert other["planning_result"] == "Completed"


def test_conflict_at_equal_priority_is_rejected(http):
    a, b = plan_id(), plan_id()
    assert put(http, a, upsert_body(where=(112.95, 28.13), priority=10))["planning_result"] == (
        "Completed"
    )
    refused = put(http, b, upsert_body(where=(112.951, 28.13), priority=10))
    assert refused["planning_result"] == "Rejected"
    assert refused["flight_plan_status"] == "NotPlanned"
    assert f"fp-{a}.1" in refused["notes"]
    # a modification that would conflict keeps the plan's old airspace
    c = plan_id()
    put(http, c, upsert_body(where=(112.96, 28.13), priority=10))
    moved = put(http, c, upsert_body(where=(112.951, 28.13), priority=10))
    assert (moved["planning_result"], moved["flight_plan_status"]) == ("Rejected", "Planned")


def test_higher_priority_preempts_a_planned_lower_one_not_an_airborne_one(http):
    low, high = plan_id(), plan_id()
    after = datetime.now(UTC) - timedelta(seconds=1)
    put(http, low, upsert_body(where=(112.97, 28.14), priority=0))
    won = put(http, high, upsert_body(where=(112.971, 28.14), priority=100))
    assert won["planning_result"] == "Completed"
    # the lower plan lost its airspace: re-planning it is refused
    again = put(http, low, upsert_body(where=(112.97, 28.14), priority=0))
    assert again["planning_result"] == "Rejected" and again["flight_plan_status"] == "NotPlanned"
    notes = http.get(f"{FP}/user_notifications", params={"after": rfc3339(after)["value"]})
    assert notes.status_code == 200
    assert any(
        low in n["message"] and n["conflicts"] == "Single"
        for n in notes.json()["user_notifications"]
    )
    # an airborne flight is never displaced, whatever the priority
    flying, urgent = plan_id(), plan_id()
    body = upsert_body("InUse", where=(112.99, 28.14), priority=0, start_in=timedelta(0))
    assert put(http, flying, body)["flight_plan_status"] == "OkToFly"
    refused = put(
        http, urgent, upsert_body(where=(112.991, 28.14), priority=100, start_in=timedelta(0))
    )
    assert refused["planning_result"] == "Rejected"
    # a priority above the subject's grant is not supported
    over = put(http, plan_id(), upsert_body(where=(113.0, 28.2), priority=500))
    assert over["planning_result"] == "NotSupported"


def test_execution_styles_and_request_ids(http):
    pid = plan_id()
    hypo = put(http, pid, upsert_body(where=(113.01, 28.15), style="Hypothetical"))
    assert (hypo["planning_result"], hypo["flight_plan_status"]) == ("Completed", "Planned")
    assert http.delete(f"{FP}/flight_plans/{pid}").status_code == 404  # nothing was planned
    body = upsert_body(where=(113.01, 28.15), style="InReality")
    first = put(http, pid, body)
    assert first["planning_result"] == "Completed"
    # the same request id answers the same, and does nothing again
    assert put(http, pid, body) == first
    assert http.put(f"{FP}/flight_plans/{plan_id()}", json=body).status_code == 409
    # a hypothetical conflicting plan is rejected and changes nothing
    hypo2 = put(http, plan_id(), upsert_body(where=(113.011, 28.15), style="Hypothetical"))
    assert hypo2["planning_result"] == "Rejected"
    # Takeoff altitudes and off-nominal UAS states are not supported
    takeoff = upsert_body(where=(113.03, 28.24))
    for limit in ("altitude_lower", "altitude_upper"):
        takeoff["flight_plan"]["basic_information"]["area"][0]["volume"][limit]["reference"] = (
            "Takeoff"
        )
    assert put(http, plan_id(), takeoff)["planning_result"] == "NotSupported"
    off = put(http, plan_id(), upsert_body(where=(113.03, 28.24), uas="OffNominal"))
    assert off["planning_result"] == "NotSupported"
    outside = put(http, plan_id(), upsert_body(where=(110.0, 26.0)))
    assert outside["planning_result"] == "Rejected"
    unknown_tier = upsert_body(where=(113.03, 28.24))
    unknown_tier["flight_plan"]["additional_information"] = {"airgrid_tier": "T9"}
    refused = put(http, plan_id(), unknown_tier)
    assert refused["planning_result"] == "Rejected" and "T9" in refused["notes"]
    deleted = http.delete(f"{FP}/flight_plans/{pid}")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "planning_result": "Completed",
        "flight_plan_status": "Closed",
        "includes_advisories": "Unknown",
    }


def test_clear_area_closes_the_plans_inside(http):
    inside, outside = plan_id(), plan_id()
    put(http, inside, upsert_body(where=(112.92, 28.23)))
    put(http, outside, upsert_body(where=(113.04, 28.23)))
    extent = upsert_body(where=(112.92, 28.23), d=0.01)["flight_plan"]["basic_information"]["area"][
        0
    ]
    r = http.post(f"{FP}/clear_area_requests", json={"request_id": "clear-1", "extent": extent})
    assert r.status_code == 200, r.text
    outcome = r.json()["outcome"]
    assert outcome["success"] is True and outcome["details"]["closed_flight_plans"] == [inside]
    # the cleared airspace is free; the other plan still holds its own
    assert (
        put(http, plan_id(), upsert_body(where=(112.92, 28.23)))["planning_result"] == "Completed"
    )
    assert put(http, plan_id(), upsert_body(where=(113.04, 28.23)))["planning_result"] == "Rejected"
