"""Health, readiness, metrics and whoami."""

from __future__ import annotations


def test_health_needs_no_key(client):
    r = client.get("/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_ready_checks_every_dependency(client):
    r = client.get("/v1/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert {"grid", "dem", "database"} <= set(body["checks"])


def test_ready_is_503_when_the_database_is_gone(client, services, monkeypatch):
    def broken() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(services.stores, "ping", broken)
    r = client.get("/v1/ready")
    assert r.status_code == 503
    assert r.json()["status"] == "not ready" and "disk gone" in r.json()["checks"]["database"]


def test_metrics_count_requests_by_route_template(client, auth):
    for _ in range(3):
        client.get(
            "/v1/grid/voxel",
            params={"lon": 112.97, "lat": 28.2, "alt_m": 900},
            headers=auth["operator"],
        )
    client.get("/v1/no/such/path")
    r = client.get("/v1/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'airgrid_http_requests_total{method="GET",route="/v1/grid/voxel",status="200"} 3.0' in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert (
        'airgrid_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/v1/grid/voxel"} 3.0'
        in text
    )


def test_whoami(client, auth):
    r = client.get("/v1/whoami", headers=auth["regulator"])
    assert r.status_code == 200
    assert r.json()["role"] == "regulator" and r.json()["name"] == "regulator-1"
