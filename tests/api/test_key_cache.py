"""Live API keys kept in memory for ``key_cache_s``: revocations here and elsewhere, size."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from airgrid.api.http.auth import KeyStore, hash_token
from airgrid.api.http.routes.deps import current_principal
from airgrid.api.http.stores import StorePool


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """A store callable whose key reads are counted, with the reading threads' ids."""

    def __init__(self, pool: StorePool) -> None:
        self.pool = pool
        self.threads: list[int] = []

    def __call__(self) -> Any:
        return self

    @property
    def reads(self) -> int:
        return len(self.threads)

    def live_api_key(self, key_hash: str) -> Any:
        self.threads.append(threading.get_ident())
        return self.pool.get().live_api_key(key_hash)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool.get(), name)


@pytest.fixture()
def pools(settings):
    """Two pools on the test database: this process's and another server's."""
    here, there = StorePool(settings.db_url, None), StorePool(settings.db_url, None)
    yield here, there
    here.close()
    there.close()


def test_a_key_revoked_elsewhere_works_until_cache_s_then_is_refused(pools):
    here, there = pools
    clock = Clock()
    keys = KeyStore(here.get, 5.0, clock=clock)
    token, info = keys.create("ops", "operator")
    assert keys.authenticate(token).name == "ops"
    assert KeyStore(there.get).revoke(info.key_id) == 1
    clock.now += 4.9
    assert keys.cached(token).key_id == info.key_id
    assert keys.authenticate(token).name == "ops"
    clock.now += 0.1
    assert keys.cached(token) is None
    assert keys.authenticate(token) is None


def test_a_revocation_here_is_honoured_at_once(pools):
    here, _ = pools
    keys = KeyStore(here.get, 60.0, clock=Clock())
    token, info = keys.create("ops", "operator")
    other, _ = keys.create("other", "planner")
    assert keys.authenticate(token) is not None and keys.authenticate(other) is not None
    assert keys.revoke(info.key_id) == 1
    assert keys.cached(token) is None and keys.authenticate(token) is None
    assert keys.authenticate(other).name == "other"


def test_a_live_key_is_read_once_per_cache_s_and_with_0_on_every_request(pools):
    here, there = pools
    clock = Clock()
    counting = CountingStore(here)
    keys = KeyStore(counting, 2.0, clock=clock)
    token, info = keys.create("ops", "operator")
    for _ in range(5):
        assert keys.authenticate(token) is not None
    assert counting.reads == 1
    clock.now += 2.0
    assert keys.authenticate(token) is not None and counting.reads == 2

    uncached = CountingStore(here)
    keys0 = KeyStore(uncached, 0.0, clock=clock)
    for _ in range(3):
        assert keys0.authenticate(token) is not None
        assert keys0.cached(token) is None
    assert uncached.reads == 3
    KeyStore(there.get).revoke(info.key_id)
    assert keys0.authenticate(token) is None


def test_unknown_and_revoked_tokens_are_not_kept(pools):
    here, there = pools
    counting = CountingStore(here)
    keys = KeyStore(counting, 60.0, clock=Clock())
    token = "agk_made-up-for-this-test"
    assert keys.authenticate(token) is None and keys.authenticate(token) is None
    assert counting.reads == 2
    # stored by another process after the failed look-ups: it works at once
    there.get().add_api_key(hash_token(token), "late", "admin", 0.0)
    assert keys.authenticate(token).name == "late"
    revoked, info = keys.create("gone", "operator")
    keys.revoke(info.key_id)
    reads = counting.reads
    assert keys.authenticate(revoked) is None and keys.authenticate(revoked) is None
    assert counting.reads == reads + 2


def test_a_read_overtaken_by_a_revocation_here_is_not_kept(pools):
    here, _ = pools
    keys: KeyStore

    class RevokingStore(CountingStore):
        """Revokes the key right after reading it live, as a concurrent request would."""

        def live_api_key(self, key_hash: str) -> Any:
            key = super().live_api_key(key_hash)
            keys.revoke(key_hash[:12])
            return key

    keys = KeyStore(RevokingStore(here), 60.0, clock=Clock())
    token, _ = keys.create("ops", "operator")
    assert keys.authenticate(token) is not None  # read before the revocation
    assert keys.cached(token) is None and keys.authenticate(token) is None


def test_at_most_cache_size_keys_are_kept_the_oldest_leaving_first(pools):
    here, _ = pools
    counting = CountingStore(here)
    clock = Clock()
    keys = KeyStore(counting, 60.0, cache_size=2, clock=clock)
    tokens = [keys.create(f"k{i}", "operator")[0] for i in range(3)]
    for t in tokens:
        clock.now += 1
        assert keys.authenticate(t) is not None
    assert counting.reads == 3
    assert keys.cached(tokens[0]) is None  # the oldest made room
    assert keys.cached(tokens[1]) is not None and keys.cached(tokens[2]) is not None
    assert keys.authenticate(tokens[0]) is not None and counting.reads == 4
    assert keys.cached(tokens[1]) is None


def test_a_kept_key_is_answered_on_the_event_loop_a_read_in_a_worker_thread(pools, services):
    here, _ = pools
    counting = CountingStore(here)
    services.keys = KeyStore(counting, 60.0, clock=Clock())
    token, _ = services.keys.create("ops", "operator")
    creds = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)

    async def twice() -> tuple[int, list[str]]:
        names = [(await current_principal(services, creds)).name for _ in range(2)]
        return threading.get_ident(), names

    loop_thread, names = asyncio.run(twice())
    assert names == ["ops", "ops"]
    assert len(counting.threads) == 1 and counting.threads[0] != loop_thread


def test_the_api_keeps_a_key_revoked_elsewhere_for_cache_s_and_one_revoked_here_not(
    client, services, pools
):
    _, there = pools
    clock = Clock()
    services.keys = KeyStore(services.stores.get, 3.0, clock=clock)
    a, a_info = services.keys.create("a", "operator")
    b, b_info = services.keys.create("b", "operator")
    head = {t: {"Authorization": f"Bearer {t}"} for t in (a, b)}
    assert client.get("/v1/whoami", headers=head[a]).json()["name"] == "a"
    assert client.get("/v1/whoami", headers=head[b]).status_code == 200
    KeyStore(there.get).revoke(a_info.key_id)
    clock.now += 2.9
    assert client.get("/v1/whoami", headers=head[a]).status_code == 200
    clock.now += 0.1
    assert client.get("/v1/whoami", headers=head[a]).status_code == 401
    assert client.get("/v1/whoami", headers=head[b]).status_code == 200  # read again: live
    services.keys.revoke(b_info.key_id)
    assert client.get("/v1/whoami", headers=head[b]).status_code == 401
