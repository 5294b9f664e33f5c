"""Every example of the two InterUSS interfaces in the OpenAPI document works, sent with a
JWT carrying every InterUSS scope (the ``/v1`` examples: ``tests/api/test_openapi_examples.py``).

The data source example names a loopback server on port 8089; here it is served by one on a
free port, the example's URL pointed at it.
"""

from __future__ import annotations

import copy
import http.server
import json
import threading

import pytest

from airgrid.api.http.interuss.schemas import EXAMPLE_SOURCE_URL
from tests.api.interuss.test_geospatial_map import ed269_doc
from tests.api.test_openapi_examples import _requests

#: Sent first (the others read or close what they make) and last.
FIRST = (
    "PUT /flight_planning/v1/flight_plans/{flight_plan_id}",
    "PUT /geospatial_map/v1/geospatial_data_sources/{geospatial_data_source_id}",
)
LAST = (
    "POST /flight_planning/v1/clear_area_requests",
    "DELETE /geospatial_map/v1/geospatial_data_sources/{geospatial_data_source_id}",
)


@pytest.fixture()
def ed269_server():
    """A loopback HTTP server answering the ED-269 test document; yields its base URL."""
    doc = json.dumps(ed269_doc()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

        def log_message(self, *args) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("prefix", ["/flight_planning/v1", "/geospatial_map/v1"])
def test_every_interuss_example_succeeds(http, ed269_server, prefix):
    doc = http.get("/openapi.json").json()
    ops, missing = _requests(doc, prefix)
    assert missing == []
    assert ops

    def rank(op: tuple) -> int:
        return 0 if op[0] in FIRST else 2 if op[0] in LAST else 1

    local = EXAMPLE_SOURCE_URL.replace("http://127.0.0.1:8089", ed269_server)
    failures = []
    for key, url, query, bodies in sorted(ops, key=rank):
        for body in bodies:
            sent = json.loads(json.dumps(copy.deepcopy(body)).replace(EXAMPLE_SOURCE_URL, local))
            r = http.request(key.split(" ", 1)[0], url, params=query, json=sent)
            answer = r.json() if r.headers.get("content-type", "").endswith("json") else {}
            ok = 200 <= r.status_code < 300
            if "planning_result" in answer:
                ok = ok and answer["planning_result"] == "Completed"
            if key.startswith("PUT") and "data_source" in answer:
                ok = ok and answer["data_source"]["status"] == "Ready"
            if not ok:
                failures.append((key, r.status_code, r.text[:300]))
    assert failures == []
