"""The ``geospatial_map`` interface's data: ED-269 sources loaded into airgrid's geofences,
and the map queries answered from them.

A data source ``<id>`` is downloaded from a ``file:`` URL or a loopback ``http:`` URL
(``127.0.0.1``, ``::1``, ``localhost``; no redirects), at most
``interuss_max_source_bytes`` and ``interuss_source_timeout_s``, read with the ED-269
reader, and written to the store as geofences ``<id>.<zone identifier>`` (so they also
restrict flight intents, as prohibited zones do). Deleting the source deletes them.

A query's filter set selects a geofence when every filter given holds:

========================================  ===================================================
filter                                    a geofence is selected when
========================================  ===================================================
``position``                              its footprint covers the point, and its band the
                                          altitude (``W84`` or ``SFC``) when one is given
``volumes4d``                             it meets one volume in footprint, band (when
                                          given) and active time (when given)
``after`` / ``before``                    it is active at some time between them (one alone:
                                          up to ``max_check_span_s`` on the open side)
``restriction_source``                    the data source id, its ``sourceId`` or its
                                          authority's name is that string
``resulting_operational_impact``          ``Block``: prohibited; ``Advise``: authorisation
                                          required or advisory; ``BlockOrAdvise``: any
========================================  ===================================================

``operation_rule_set`` and non-empty ``ed269`` filters are answered ``UnsupportedFilter``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

import shapely

from airgrid.airspace.errors import AirspaceError
from airgrid.airspace.geofences.formats.ed269 import from_ed269
from airgrid.airspace.geofences.model import Geofence
from airgrid.api.http.errors import ConflictError, LimitError
from airgrid.api.http.interuss.schemas import (
    CreateGeospatialDataSourceRequest,
    GeospatialDataSourceStatus,
    GeospatialFeatureFilterSet,
    GeospatialMapCheckResult,
    GeospatialMapQueryReply,
    GeospatialMapQueryRequest,
)
from airgrid.api.http.interuss.volumes import (
    IMPACTS,
    FeatureFilter,
    data_source_of,
    extent,
    position_band,
    selects,
)
from airgrid.api.http.routes.deps import Services

#: Host names an ``http:`` source may name.
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class SourceError(Exception):
    """A data source cannot be loaded; ``status`` is the interface's status for it."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuses redirects (a loopback source must not lead elsewhere)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise SourceError(
            "Rejected", f"the source redirects ({code}); airgrid does not follow redirects"
        )


def fetch(url: str, max_bytes: int, timeout_s: float) -> bytes:
    """The bytes of a ``file:`` or loopback ``http:`` URL, at most ``max_bytes``.

    Raises
    ------
    SourceError
        Another scheme or host (Rejected), too large (Rejected), unreadable (Error).
    """
    parts = urllib.parse.urlsplit(url)
    try:
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise SourceError("Rejected", "a file: URL must name a local file")
            with Path(urllib.request.url2pathname(parts.path)).open("rb") as fh:
                raw = fh.read(max_bytes + 1)
        elif parts.scheme == "http" and parts.hostname in LOOPBACK:
            opener = urllib.request.build_opener(_NoRedirect)
            with opener.open(url, timeout=timeout_s) as resp:
                raw = resp.read(max_bytes + 1)
        else:
            raise SourceError(
                "Rejected", "airgrid loads data sources from file: and loopback http: URLs only"
            )
    except OSError as exc:
        raise SourceError("Error", f"cannot download {url}: {exc}") from None
    if len(raw) > max_bytes:
        raise SourceError("Rejected", f"the source is larger than {max_bytes} bytes")
    return raw


class DataSources:
    """The data sources loaded through the interface (their geofences are in the store).

    The status of each source is kept per process; a source loaded by another worker is
    reported ``Ready`` when the store holds geofences of it.

    Parameters
    ----------
    services
        The app's services.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._known: dict[str, tuple[str, GeospatialDataSourceStatus]] = {}

    def _fences_of(self, source_id: str) -> list[str]:
        return [
            i for i in self.services.geofences.snapshot().fences if data_source_of(i) == source_id
        ]

    def put(
        self, source_id: str, body: CreateGeospatialDataSourceRequest
    ) -> GeospatialDataSourceStatus:
        """Load a source (again, for the same URL: its current status).

        Raises
        ------
        ConflictError
            The id was used for another URL (409).
        """
        source_id = source_id.lower()
        if body.https_source is None:
            return self._set(
                source_id, "", "Unsupported", "only https_source data sources are supported"
            )
        url = body.https_source.url
        with self._lock:
            known = self._known.get(source_id)
        if known is not None:
            if known[0] != url:
                raise ConflictError(
                    f"data source {source_id} was loaded from another URL ({known[0]})"
                )
            return known[1]
        settings = self.services.settings
        try:
            raw = fetch(url, settings.interuss_max_source_bytes, settings.interuss_source_timeout_s)
            try:
                fences = from_ed269(json.loads(raw), max_vertices=settings.max_polygon_vertices)
                fences = [replace(g, identifier=f"{source_id}.{g.identifier}") for g in fences]
            except (ValueError, AirspaceError) as exc:
                raise SourceError("Rejected", f"not a usable ED-269 document: {exc}") from None
            self.services.geofences.import_(fences, "upsert")
        except SourceError as exc:
            return self._set(source_id, url, exc.status, str(exc))
        return self._set(source_id, url, "Ready", f"{len(fences)} geofence(s) loaded")

    def _set(
        self, source_id: str, url: str, status: str, message: str
    ) -> GeospatialDataSourceStatus:
        out = GeospatialDataSourceStatus.model_validate(
            {"id": source_id, "status": status, "message": message}
        )
        with self._lock:
            self._known[source_id] = (url, out)
        return out

    def get(self, source_id: str) -> GeospatialDataSourceStatus | None:
        """A source's status, or None when it is unknown or deleted."""
        source_id = source_id.lower()
        with self._lock:
            known = self._known.get(source_id)
        if known is not None:
            return known[1]
        if self._fences_of(source_id):
            return GeospatialDataSourceStatus(id=source_id, status="Ready")
        return None

    def list(self) -> list[GeospatialDataSourceStatus]:
        """Every source loaded in this process."""
        with self._lock:
            return [status for _, status in self._known.values()]

    def delete(self, source_id: str) -> GeospatialDataSourceStatus:
        """Delete a source's geofences; its status is then ``Deactivated``."""
        source_id = source_id.lower()
        for ident in self._fences_of(source_id):
            self.services.geofences.delete(ident)
        with self._lock:
            self._known.pop(source_id, None)
        return GeospatialDataSourceStatus(id=source_id, status="Deactivated")


def _feature_filter(fs: GeospatialFeatureFilterSet, services: Services) -> FeatureFilter:
    """The filter of a filter set.

    Raises
    ------
    VolumeError
        An unusable position or volume.
    LimitError
        A time span longer than ``max_check_span_s``.
    """
    span_max = services.settings.max_check_span_s
    point = altitude = volumes = span = None
    if fs.position is not None:
        point = shapely.Point(fs.position.location.lng, fs.position.location.lat)
        if fs.position.altitude is not None:
            altitude = position_band(fs.position.altitude, point, services)
    if fs.volumes4d is not None:
        volumes = tuple(extent(v, services, f"volumes4d[{i}]") for i, v in enumerate(fs.volumes4d))
    if fs.after is not None or fs.before is not None:
        t0 = fs.after.timestamp() if fs.after is not None else fs.before.timestamp() - span_max  # type: ignore[union-attr]
        t1 = fs.before.timestamp() if fs.before is not None else t0 + span_max
        if t1 - t0 > span_max:
            raise LimitError(f"after-before spans {t1 - t0:.0f} s; the limit is {span_max:.0f} s")
        span = (t0, t1)
    return FeatureFilter(
        point=point,
        altitude=altitude,
        volumes=volumes,
        span=span,
        sources=None if fs.restriction_source is None else frozenset({fs.restriction_source}),
        categories=None
        if fs.resulting_operational_impact is None
        else IMPACTS[fs.resulting_operational_impact],
    )


def _unsupported(fs: GeospatialFeatureFilterSet) -> str | None:
    """Why airgrid cannot apply a filter set, or None."""
    if fs.operation_rule_set is not None:
        return "operation_rule_set is not supported: airgrid has no rule sets"
    if fs.ed269 is not None and (fs.ed269.u_space_class or fs.ed269.acceptable_restrictions):
        return "ED-269 filters (u_space_class, acceptable_restrictions) are not supported"
    return None


def query(body: GeospatialMapQueryRequest, services: Services) -> GeospatialMapQueryReply:
    """Answer each check: Present when a filter set selects a geofence, else Absent.

    Raises
    ------
    VolumeError
        An unusable position or volume (422).
    LimitError
        A time span over the limit (422).
    """
    fences: list[Geofence] = list(services.geofences.snapshot().fences.values())
    bands = [g.amsl_band(services.dem) for g in fences]
    tree = shapely.STRtree([g.footprint for g in fences])
    results = []
    for check in body.checks:
        why = next((w for w in map(_unsupported, check.filter_sets) if w), None)
        if why is not None:
            results.append(
                GeospatialMapCheckResult(
                    features_selection_outcome="UnsupportedFilter", message=why
                )
            )
            continue
        present = False
        for fs in check.filter_sets:
            f = _feature_filter(fs, services)
            near: list[int] = list(range(len(fences)))
            if f.point is not None:
                near = tree.query(f.point).tolist()
            elif f.volumes is not None:
                near = sorted({int(i) for v in f.volumes for i in tree.query(v.footprint)})
            if any(selects(f, fences[i], bands[i]) for i in near):
                present = True
                break
        results.append(
            GeospatialMapCheckResult(features_selection_outcome="Present" if present else "Absent")
        )
    return GeospatialMapQueryReply(results=results)
