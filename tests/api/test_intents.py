"""Flight-intent endpoints: submit, conflicts and fixes, ownership, life cycle."""

from __future__ import annotations

from tests.api.conftest import DAY, fence, volume


def _submit(client, headers, **body):
    body.setdefault("tier", "T2")
    body.setdefault("volumes", [volume()])
    return client.post("/v1/intents", json=body, headers=headers)


def test_submit_accepts_and_stores_the_volumes(client, auth):
    r = _submit(client, auth["operator"], intent_id="op-1")
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == "op-1" and body["state"] == "accepted" and body["operator"] == "operator-1"
    assert body["preempted"] == []
    assert body["start"] == f"{DAY}T08:00:00Z" and body["end"] == f"{DAY}T08:20:00Z"
    assert body["volumes"][0]["floor_m"] == 950.0
    got = client.get("/v1/intents/op-1", headers=auth["operator"]).json()
    assert got["volumes"] == body["volumes"]


def test_conflicting_intent_is_409_with_every_conflict_and_fixes(client, auth):
    # east Changsha: T2's certain band over this box is about 188-313 m AMSL, room for a 60 m offset
    first = _submit(
        client, auth["operator"], volumes=[volume(113.03, 28.18, 0.01, 200.0, 220.0)]
    ).json()["id"]
    second = _submit(
        client,
        auth["operator2"],
        volumes=[
            volume(113.03, 28.18, 0.01, 200.0, 220.0),
            volume(113.035, 28.185, 0.002, 200.0, 220.0),
        ],
    )
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    p = second.json()
    assert p["type"].endswith("intent-conflict") and p["status"] == 409
    assert {(c["other_id"], c["volume"]) for c in p["conflicts"]} == {(first, 0), (first, 1)}
    kinds = {f["kind"] for f in p["fixes"]}
    assert kinds == {"departure_shift", "altitude_offset"}
    shift = next(f for f in p["fixes"] if f["kind"] == "departure_shift")["shift_s"]
    # the proposed fix really is free: applying it is accepted
    from datetime import datetime, timedelta

    def shifted(t: str) -> str:
        return (datetime.fromisoformat(t) + timedelta(seconds=shift)).isoformat()

    vols = [
        dict(v, start=shifted(v["start"]), end=shifted(v["end"]))
        for v in (volume(113.03, 28.18, 0.01, 200.0, 220.0),)
    ]
    assert _submit(client, auth["operator2"], volumes=vols).status_code == 201


def test_max_shift_s_caps_the_proposed_departure_shift(client, auth):
    """The first intent holds 08:00-08:20; a copy refused with ``max_shift_s`` below the
    shift that frees it gets no departure shift, and one with room enough gets the same
    shift as without a cap. A negative cap is a 422 naming the field."""
    vol = volume(113.03, 28.18, 0.01, 200.0, 220.0)
    assert _submit(client, auth["operator"], volumes=[vol]).status_code == 201

    def shift_of(**cap):
        r = _submit(client, auth["operator2"], volumes=[vol], **cap)
        assert r.status_code == 409
        return next(
            (f["shift_s"] for f in r.json()["fixes"] if f["kind"] == "departure_shift"), None
        )

    free = shift_of()
    assert free is not None and free > 60
    assert shift_of(max_shift_s=free - 60) is None
    assert shift_of(max_shift_s=free) == free
    bad = _submit(client, auth["operator2"], volumes=[vol], max_shift_s=-1)
    assert bad.status_code == 422 and "max_shift_s" in bad.text


def test_take_fix_accepts_the_intent_moved_by_the_fix_a_refusal_proposes(client, auth):
    """With ``take_fix`` the server takes the fix a 409 just before proposed, in the
    same transaction as the refusal, and answers 201 with the fix and the moved volumes;
    a repeated or unknown kind is a 422 naming the field."""
    from datetime import datetime, timedelta

    vol = volume(113.03, 28.18, 0.01, 200.0, 220.0)
    assert _submit(client, auth["operator"], volumes=[vol]).status_code == 201
    asked = _submit(client, auth["operator2"], volumes=[vol])
    assert asked.status_code == 409
    proposed = {f["kind"]: f for f in asked.json()["fixes"]}
    r = _submit(
        client,
        auth["operator2"],
        volumes=[vol],
        intent_id="op2-fixed",
        take_fix=["departure_shift"],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == "op2-fixed" and body["fix"] == proposed["departure_shift"]
    later = datetime.fromisoformat(vol["start"]) + timedelta(seconds=body["fix"]["shift_s"])
    assert datetime.fromisoformat(body["volumes"][0]["start"]) == later
    assert (
        client.get("/v1/intents/op2-fixed", headers=auth["operator2"]).json()["volumes"]
        == (body["volumes"])
    )
    plain = _submit(client, auth["operator"], volumes=[volume(112.99, 28.2)])
    assert plain.status_code == 201 and plain.json()["fix"] is None
    for bad in (["altitude_offset", "altitude_offset"], ["sideways"]):
        r = _submit(client, auth["operator2"], volumes=[vol], take_fix=bad)
        assert r.status_code == 422 and "take_fix" in r.text


def test_a_low_intent_is_accepted_with_a_terrain_notice(client, auth):
    """A volume below its tier's lower limit above the conservative terrain is a notice in
    the answer, not a refusal; one well above it has none, and a 409 carries the list too."""
    high = _submit(client, auth["operator"], volumes=[volume(floor=4_000.0, ceiling=4_050.0)])
    assert high.status_code == 201 and high.json()["low_volumes"] == []
    r = _submit(
        client,
        auth["operator"],
        volumes=[
            volume(floor=4_000.0, ceiling=4_050.0, lon=112.99),
            volume(floor=100.0, ceiling=150.0, lon=113.02),
        ],
    )
    assert r.status_code == 201
    (low,) = r.json()["low_volumes"]
    assert low["volume"] == 1 and low["floor_m"] == 100.0 and low["min_floor_m"] > 100.0
    refused = _submit(
        client, auth["operator2"], volumes=[volume(floor=100.0, ceiling=150.0, lon=113.02)]
    )
    assert refused.status_code == 409 and [v["volume"] for v in refused.json()["low_volumes"]] == [
        0
    ]


def test_prohibited_geofence_refuses_the_intent(client, auth):
    client.post("/v1/geofences", json=fence("NOFLY"), headers=auth["regulator"])
    r = _submit(client, auth["operator"], volumes=[volume(112.97, 28.17, 0.005)])
    assert r.status_code == 409
    assert [g["geofence_id"] for g in r.json()["geofence_conflicts"]] == ["NOFLY"]


def test_submit_from_a_route(client, auth):
    route = {
        "waypoints": [
            {"lon": 112.93, "lat": 28.12, "alt_m": 1000, "time": f"{DAY}T09:00:00Z"},
            {"lon": 113.0, "lat": 28.2, "alt_m": 1000, "time": f"{DAY}T09:15:00Z"},
        ],
        "half_width_m": 50,
        "half_height_m": 20,
        "time_margin_s": 30,
    }
    r = client.post("/v1/intents", json={"tier": "T2", "route": route}, headers=auth["planner"])
    assert r.status_code == 201
    body = r.json()
    assert len(body["volumes"]) > 1
    assert body["start"] == f"{DAY}T08:59:30Z" and body["end"] == f"{DAY}T09:15:30Z"


def test_submit_input_errors(client, auth):
    h = auth["operator"]
    both = _submit(
        client,
        h,
        route={
            "waypoints": [
                {"lon": 112.93, "lat": 28.12, "alt_m": 1000, "time": f"{DAY}T09:00:00Z"},
                {"lon": 113.0, "lat": 28.2, "alt_m": 1000, "time": f"{DAY}T09:15:00Z"},
            ]
        },
    )
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    tier = _submit(client, h, tier="T9")
    assert tier.status_code == 422 and "T9" in tier.json()["detail"]
    upside = _submit(client, h, volumes=[volume(floor=1000, ceiling=900)])
    assert upside.status_code == 422 and "below ceiling" in upside.json()["detail"]
    naive = _submit(client, h, volumes=[volume(start=f"{DAY}T08:00:00")])
    assert naive.status_code == 422
    assert _submit(client, h, intent_id="dup").status_code == 201
    dup = _submit(client, h, intent_id="dup", volumes=[volume(112.99, 28.2)])
    assert dup.status_code == 409 and "another request" in dup.json()["detail"]


def test_priority_above_medical_needs_admin(client, auth):
    assert _submit(client, auth["operator"], priority=100).status_code == 403
    assert _submit(client, auth["admin"], priority=100).status_code == 201


def test_preemption_cancels_the_lower_priority_intent(client, auth):
    low = _submit(client, auth["operator"], priority=10).json()["id"]
    high = _submit(client, auth["operator2"], priority=20)
    assert high.status_code == 201 and high.json()["preempted"] == [low]
    got = client.get(f"/v1/intents/{low}", headers=auth["operator"]).json()
    assert got["state"] == "cancelled" and got["preempted_by"] == high.json()["id"]


def test_operators_see_only_their_own(client, auth):
    mine = _submit(client, auth["operator"]).json()["id"]
    theirs = _submit(client, auth["operator2"], volumes=[volume(112.99, 28.2)]).json()["id"]
    own = client.get("/v1/intents", headers=auth["operator"]).json()["intents"]
    assert [i["id"] for i in own] == [mine]
    assert client.get(f"/v1/intents/{theirs}", headers=auth["operator"]).status_code == 404
    assert (
        client.get(
            "/v1/intents", params={"operator": "operator-2"}, headers=auth["operator"]
        ).status_code
        == 403
    )
    for action in ("activate", "end", "cancel"):
        assert (
            client.post(f"/v1/intents/{theirs}/{action}", headers=auth["operator"]).status_code
            == 404
        )
    everyone = client.get("/v1/intents", headers=auth["regulator"]).json()["intents"]
    assert {i["id"] for i in everyone} == {mine, theirs}
    one = client.get(
        "/v1/intents", params={"operator": "operator-2"}, headers=auth["admin"]
    ).json()["intents"]
    assert [i["id"] for i in one] == [theirs]
    assert client.get("/v1/intents/nope", headers=auth["admin"]).status_code == 404


def test_life_cycle_and_illegal_transitions(client, auth):
    h = auth["operator"]
    iid = _submit(client, h).json()["id"]
    assert client.post(f"/v1/intents/{iid}/end", headers=h).status_code == 409
    assert client.post(f"/v1/intents/{iid}/activate", headers=h).json()["state"] == "activated"
    assert client.post(f"/v1/intents/{iid}/activate", headers=h).status_code == 409
    assert client.post(f"/v1/intents/{iid}/end", headers=h).json()["state"] == "ended"
    assert client.post(f"/v1/intents/{iid}/cancel", headers=h).status_code == 409
    # the airspace is released: the same volume is accepted again
    assert _submit(client, auth["operator2"]).status_code == 201
    states = client.get("/v1/intents", params={"state": "ended"}, headers=h).json()["intents"]
    assert [i["id"] for i in states] == [iid]


def test_regulator_cancels_any_intent_with_a_reason(client, auth):
    iid = _submit(client, auth["operator"]).json()["id"]
    r = client.post(
        f"/v1/intents/{iid}/cancel", json={"reason": "airspace closed"}, headers=auth["regulator"]
    )
    assert r.status_code == 200
    assert r.json()["state"] == "cancelled" and r.json()["reason"] == "airspace closed"
    assert client.post(f"/v1/intents/{iid}/activate", headers=auth["regulator"]).status_code == 403


def test_intent_size_limits(client, auth, services, monkeypatch):
    monkeypatch.setattr(services.settings, "max_polygon_vertices", 4)
    many = _submit(client, auth["operator"], volumes=[volume(112.9 + k * 0.01) for k in range(9)])
    assert many.status_code == 422 and many.json()["type"].endswith("limit-exceeded")
    monkeypatch.setattr(services.settings, "max_track_points", 1)
    route = {
        "waypoints": [
            {"lon": 112.93, "lat": 28.12, "alt_m": 1000, "time": f"{DAY}T09:00:00Z"},
            {"lon": 113.0, "lat": 28.2, "alt_m": 1000, "time": f"{DAY}T09:15:00Z"},
        ]
    }
    r = client.post("/v1/intents", json={"tier": "T2", "route": route}, headers=auth["operator"])
    assert r.status_code == 422 and "waypoints" in r.json()["detail"]


def test_volumes_in_agl_and_w84_are_stored_amsl_grown_on_both_sides(client, auth, services):
    agl = volume(lon=113.0, lat=28.2, floor=150.0, ceiling=250.0)
    agl["altitude_reference"] = "AGL"
    r = _submit(client, auth["operator"], volumes=[agl])
    assert r.status_code == 201, r.text
    stored = r.json()["volumes"][0]
    g = services.grid
    lows = [
        g.ground_at(28.2 + dy, 113.0 + dx)[0]
        for dx in (-0.005, 0, 0.005)
        for dy in (-0.005, 0, 0.005)
    ]
    highs = [
        g.ground_at(28.2 + dy, 113.0 + dx)[1]
        for dx in (-0.005, 0, 0.005)
        for dy in (-0.005, 0, 0.005)
    ]
    assert stored["floor_m"] <= min(lows) + 150.0 and stored["ceiling_m"] >= max(highs) + 250.0
    w84 = volume(lon=113.02, lat=28.2, floor=300.0, ceiling=350.0)
    w84["altitude_reference"] = "W84"
    r = _submit(client, auth["operator"], volumes=[w84])
    assert r.status_code == 201, r.text
    stored = r.json()["volumes"][0]
    n = float(services.geoid.undulation(28.2, 113.02))
    assert (
        stored["floor_m"] <= 300.0 - n - 1.2 + 1e-6
        and stored["ceiling_m"] >= 350.0 - n + 1.2 - 1e-6
    )
    assert stored["ceiling_m"] - stored["floor_m"] < 50.0 + 2.4 + 1.0
