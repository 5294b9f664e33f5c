"""Stateful property test of the intent workflow over HTTP, against an exact model.

Hypothesis drives chains of calls by every role: submit intents (operators at the
commercial priority, admins at the medical one with pre-emption), activate, end and
cancel them (as owner, as another operator, as regulator, as admin), and put or lift
prohibited geofences. The intents are drawn from 3 places x 2 time slots, far apart
from each other, so the model knows exactly which requests conflict: two intents in
the same place and slot, or an intent under a geofence.

Every answer is checked against the model (status code, conflicting ids, pre-empted ids,
new state), and after every step the server's listings must agree with the model: each
intent in its modelled state, no two intents holding airspace in the same place and slot,
and each operator seeing exactly its own intents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.api.conftest import DAY, fence, volume

#: Longitudes of the places (2 km apart at 28.15 N) and the start hours of the slots.
PLACES = (112.93, 112.95, 112.97)
SLOTS = (8, 10)
#: Who flies: key name -> (role, priority it submits with, pre-empts).
FLYERS = {
    "operator-1": ("operator", 20, False),
    "operator-2": ("operator", 20, False),
    "planner-1": ("planner", 20, False),
    "admin-1": ("admin", 40, True),
}
CALLERS = (*FLYERS, "regulator-1")
#: Legal moves of the life cycle (airgrid.airspace.traffic.models.TRANSITIONS).
NEXT = {
    ("accepted", "activate"): "activated",
    ("accepted", "cancel"): "cancelled",
    ("activated", "end"): "ended",
    ("activated", "cancel"): "cancelled",
}
HOLDING = {"accepted", "activated"}


@dataclass
class Modelled:
    owner: str
    priority: int
    place: int
    slot: int
    state: str = "accepted"


def test_the_intent_workflow_follows_its_model(client, tokens, services):
    headers = {
        "operator-1": tokens["operator"],
        "operator-2": tokens["operator2"],
        "planner-1": tokens["planner"],
        "admin-1": tokens["admin"],
        "regulator-1": tokens["regulator"],
    }
    headers = {name: {"Authorization": f"Bearer {tok}"} for name, tok in headers.items()}

    class Workflow(RuleBasedStateMachine):
        intents = Bundle("intents")

        def __init__(self) -> None:
            super().__init__()
            # each run starts from an empty airspace: no geofences, nothing holding
            store = services.stores.get()
            store.write_geofences([], replace_all=True)
            for fi in store.holding():
                store.cancel(fi.id, "reset between runs")
            self.run = uuid.uuid4().hex[:8]
            self.model: dict[str, Modelled] = {}
            self.fenced: set[int] = set()
            self.n = 0

        def _holder(self, place: int, slot: int) -> str | None:
            found = [
                i
                for i, m in self.model.items()
                if m.state in HOLDING and (m.place, m.slot) == (place, slot)
            ]
            assert len(found) <= 1
            return found[0] if found else None

        @rule(
            target=intents,
            flyer=st.sampled_from(sorted(FLYERS)),
            place=st.integers(0, len(PLACES) - 1),
            slot=st.integers(0, len(SLOTS) - 1),
        )
        def submit(self, flyer: str, place: int, slot: int) -> str:
            _, priority, preempt = FLYERS[flyer]
            self.n += 1
            ident = f"{self.run}-{self.n}"
            hour = SLOTS[slot]
            body = {
                "tier": "T2",
                "intent_id": ident,
                "priority": priority,
                "preempt": preempt,
                "volumes": [
                    volume(
                        PLACES[place],
                        28.15,
                        0.003,
                        start=f"{DAY}T{hour:02d}:00:00Z",
                        end=f"{DAY}T{hour:02d}:20:00Z",
                    )
                ],
            }
            r = client.post("/v1/intents", json=body, headers=headers[flyer])
            holder = self._holder(place, slot)
            if place in self.fenced:
                assert r.status_code == 409, r.text
                assert [g["geofence_id"] for g in r.json()["geofence_conflicts"]] == [
                    f"zone-{place}"
                ]
                return ident
            if holder is None:
                assert r.status_code == 201, r.text
                assert r.json()["preempted"] == []
            else:
                other = self.model[holder]
                may_preempt = preempt and other.state == "accepted" and other.priority < priority
                if may_preempt:
                    assert r.status_code == 201, r.text
                    assert r.json()["preempted"] == [holder]
                    other.state = "cancelled"
                else:
                    assert r.status_code == 409, r.text
                    assert [c["other_id"] for c in r.json()["conflicts"]] == [holder]
                    return ident
            self.model[ident] = Modelled(flyer, priority, place, slot)
            return ident

        @rule(
            ident=intents,
            caller=st.sampled_from(CALLERS),
            action=st.sampled_from(["activate", "end", "cancel"]),
        )
        def transition(self, ident: str, caller: str, action: str) -> None:
            self._transition(ident, caller, action)

        @precondition(lambda self: bool(self.model))
        @rule(
            data=st.data(),
            action=st.sampled_from(["activate", "end", "cancel"]),
        )
        def owner_moves_a_stored_intent(self, data: st.DataObject, action: str) -> None:
            ident = data.draw(st.sampled_from(sorted(self.model)))
            self._transition(ident, self.model[ident].owner, action)

        def _transition(self, ident: str, caller: str, action: str) -> None:
            r = client.post(f"/v1/intents/{ident}/{action}", headers=headers[caller])
            m = self.model.get(ident)
            if m is None:  # refused at submission: never stored
                assert r.status_code == 404, r.text
                return
            overseer = caller in ("admin-1", "regulator-1")
            if caller != m.owner and not overseer:
                assert r.status_code == 404, r.text  # not even told that it exists
                return
            if caller == "regulator-1" and action != "cancel":
                assert r.status_code == 403, r.text
                return
            new = NEXT.get((m.state, action))
            if new is None:
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 200, r.text
            assert r.json()["state"] == new
            m.state = new

        @rule(place=st.integers(0, len(PLACES) - 1))
        def put_geofence(self, place: int) -> None:
            r = client.post(
                "/v1/geofences",
                json=fence(f"zone-{place}", lon=PLACES[place] - 0.002, lat=28.148, d=0.007),
                headers=headers["regulator-1"],
            )
            if place in self.fenced:
                assert r.status_code == 409, r.text
                return
            assert r.status_code == 201, r.text
            holding_there = {
                i for i, m in self.model.items() if m.state in HOLDING and m.place == place
            }
            assert set(r.json()["conflicting_intents"]) == holding_there
            self.fenced.add(place)

        @rule(place=st.integers(0, len(PLACES) - 1))
        def lift_geofence(self, place: int) -> None:
            r = client.delete(f"/v1/geofences/zone-{place}", headers=headers["regulator-1"])
            assert r.status_code == (204 if place in self.fenced else 404), r.text
            self.fenced.discard(place)

        @invariant()
        def the_server_agrees_with_the_model(self) -> None:
            r = client.get("/v1/intents", params={"limit": 10_000}, headers=headers["admin-1"])
            assert r.status_code == 200, r.text
            ours = {i["id"]: i for i in r.json()["intents"] if i["id"].startswith(self.run)}
            assert {i: s["state"] for i, s in ours.items()} == {
                i: m.state for i, m in self.model.items()
            }
            cells = [(m.place, m.slot) for m in self.model.values() if m.state in HOLDING]
            assert len(cells) == len(set(cells)), "two intents hold the same place and slot"

        @invariant()
        def each_flyer_lists_only_its_own(self) -> None:
            for flyer in ("operator-1", "planner-1"):
                r = client.get("/v1/intents", params={"limit": 10_000}, headers=headers[flyer])
                assert r.status_code == 200, r.text
                seen = {i["id"] for i in r.json()["intents"] if i["id"].startswith(self.run)}
                assert seen == {i for i, m in self.model.items() if m.owner == flyer}

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
