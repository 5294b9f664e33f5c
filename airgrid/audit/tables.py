"""CSV and Parquet track tables: one row per fix.

Columns (names case-insensitive; others are ignored):

``flight_id``, ``operator``
    Non-empty text.
``time``
    POSIX seconds (a number), or ISO-8601 text **with** a UTC offset or ``Z``
    (``2025-03-03T08:00:00Z``); a Parquet timestamp column must carry a time zone.
``lat``, ``lon``
    WGS84 degrees.
``alt``
    Metres, in the reference of ``alt_ref``.
``alt_ref``
    ``AMSL``, ``AGL`` or ``W84`` (case-insensitive).
``intent_id``, ``tier`` (optional)
    The accepted intent the flight flew under (default: the flight id) and its tier name.

Rows are numbered as a reader would look for them: CSV rows by their physical line
(the header is line 1), Parquet rows from 1. A row with any bad field is rejected with
the first bad field named; nothing is skipped silently (a blank CSV line is a rejected row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from airgrid.audit.errors import LogError
from airgrid.audit.io_kernels import row_faults
from airgrid.audit.threads import over_spans, together
from airgrid.audit.tracks import AltRef, ReadResult, Rejected, raw_columns
from airgrid.geo.validation import TIME_MAX, TIME_MIN

REQUIRED = ("flight_id", "operator", "time", "lat", "lon", "alt", "alt_ref")
OPTIONAL = ("intent_id", "tier")
#: Lowest and highest altitude accepted in any reference (metres).
ALT_RANGE = (-1000.0, 20_000.0)
_REFS = {r.name: int(r) for r in AltRef}
_ZONE_RE = r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)$"
#: Parquet read options: the file memory-mapped, column chunks read as they are decoded
#: (faster here than the default buffered reads).
_READ = {"memory_map": True, "pre_buffer": False}


def read_csv(path: str | Path) -> ReadResult:
    """Fixes of a CSV track table (see the module docstring).

    Raises
    ------
    LogError
        The file cannot be parsed as CSV or lacks a required column.
    """
    path = str(path)
    skipped: list[tuple[int | None, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        skipped.append(
            (row.number, f"expected {row.expected_columns} fields, got {row.actual_columns}")
        )
        return "skip"

    def read(threads: bool) -> pa.Table:
        skipped.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=threads),
            parse_options=pacsv.ParseOptions(
                invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in (*REQUIRED, *OPTIONAL)},
                strings_can_be_null=False,
            ),
        )

    try:
        table = read(True)
        if any(n is None for n, _ in skipped):
            table = read(False)  # only the single-threaded reader numbers bad rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogError(f"{path}: not a readable CSV table: {exc}") from None
    bad_lines = np.array(sorted(int(n or 0) for n, _ in skipped), np.int64)
    total = table.num_rows + len(bad_lines)
    lines = np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), bad_lines)
    result = validate_frame(path, _series(table), lines, "line")
    result.reject([Rejected(path, int(n or 0), "(row)", why, f"line {n}") for n, why in skipped])
    result.rejected.sort(key=lambda r: r.row)
    return result


def parquet_table(path: str | Path, groups: list[int] | None = None) -> tuple[pa.Table, np.ndarray]:
    """The track columns of a Parquet file (text dictionary-encoded) and each row's number
    in the file (from 1); ``groups``: only these row groups, in this order.

    Raises
    ------
    LogError
        The file is not Parquet.
    """
    try:
        pf = pq.ParquetFile(str(path))
        names = pf.schema_arrow.names
        want = [c for c in names if c.lower() in (*REQUIRED, *OPTIONAL)]
        text = [c for c in want if c.lower() in ("flight_id", "operator", "alt_ref", *OPTIONAL)]
        if groups is None:
            table = pq.read_table(path, columns=want, read_dictionary=text, **_READ)
            return table, np.arange(1, table.num_rows + 1, dtype=np.int64)
        meta = pf.metadata
        sizes = np.array([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
        first = np.concatenate([[1], np.cumsum(sizes)[:-1] + 1]).astype(np.int64)
        table = pq.ParquetFile(str(path), read_dictionary=text, **_READ).read_row_groups(
            groups, columns=want
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogError(f"{path}: not a readable Parquet table: {exc}") from None
    rows = [np.arange(first[g], first[g] + sizes[g], dtype=np.int64) for g in groups]
    return table, np.concatenate(rows) if rows else np.empty(0, np.int64)


def read_parquet(path: str | Path) -> ReadResult:
    """Fixes of a Parquet track table (see the module docstring).

    Raises
    ------
    LogError
        The file is not Parquet or lacks a required column.
    """
    table, rows = parquet_table(path)
    return validate_table(str(path), table, rows)


def validate_table(path: str, table: pa.Table, rownum: np.ndarray) -> ReadResult:
    """:func:`validate_frame` of a Parquet table's columns (rows numbered ``rownum``)."""
    return validate_frame(path, _series(table), rownum, "row")


def _series(table: pa.Table) -> dict[str, pd.Series]:
    """Columns by lower-case name as pandas Series, without copying what need not be:
    dictionary columns become categoricals over one dictionary, float columns without
    nulls are viewed."""
    table = table.unify_dictionaries()
    names = table.column_names

    def combine(some: list[str]) -> list[pa.Array]:
        return [table.column(name).combine_chunks() for name in some]

    # every other column in a thread (pyarrow joins chunks without the GIL)
    even, odd = together(lambda: combine(names[0::2]), lambda: combine(names[1::2]))
    combined = dict(zip(names[0::2] + names[1::2], even + odd, strict=True))
    out = {}
    for name in names:
        col = combined[name]
        if pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type):
            ind = col.indices if col.null_count == 0 else col.indices.fill_null(-1)
            codes = ind.to_numpy().astype(np.int32, copy=False)
            values = pd.Index(col.dictionary.to_pylist(), dtype=object)
            s = pd.Series(pd.Categorical.from_codes(codes, categories=values), copy=False)
        elif pa.types.is_float64(col.type) and col.null_count == 0:
            s = pd.Series(col.to_numpy(), copy=False)
        else:
            s = col.to_pandas()
        out[str(name).lower()] = s
    return out


def _text(s: pd.Series) -> pd.Categorical:
    """Stripped text of a column (nulls as ``""``) as integer codes into its distinct
    values, cleaned once per distinct value (the codes are kept as they are when no
    value changes or merges and no value is null)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    clean = np.array([str(u).strip() for u in uniques] + [""], dtype=object)
    merged, values = pd.factorize(clean)  # values equal once stripped share a code
    same = np.array_equal(merged[:-1], np.arange(len(uniques)))
    if not (same and (len(codes) == 0 or codes.min() >= 0)):
        codes = merged.astype(np.int32)[codes]
    return pd.Categorical.from_codes(
        codes, categories=pd.Index(values, dtype=object), validate=False
    )


def _empty_code(c: pd.Categorical) -> int:
    """The code of the empty text, -1 when no value is empty."""
    where = np.flatnonzero(np.asarray(c.categories, dtype=object) == "")
    return int(where[0]) if len(where) else -1


def _times(s: pd.Series) -> tuple[np.ndarray, np.ndarray | None, str]:
    """POSIX seconds and a bad-mask of a time column (None: bad where not in
    ``TIME_MIN..TIME_MAX``, NaN included), and what was wrong with bad values."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dtype, "tz", None) is None:
            return np.full(len(s), np.nan), np.ones(len(s), bool), "a timestamp without time zone"
        ns = s.dt.tz_convert("UTC").to_numpy("datetime64[ns]").astype(np.int64)
        t = np.where(s.isna().to_numpy(), np.nan, ns / 1e9)
        return t, ~np.isfinite(t), "missing"
    if pd.api.types.is_numeric_dtype(s.dtype):  # the range is checked with the other fields
        return s.to_numpy(np.float64, na_value=np.nan), None, "not a time in 1970-2200"
    text = s.fillna("").astype(str).str.strip()
    t = pd.to_numeric(text, errors="coerce").to_numpy(np.float64, copy=True)
    iso = ~np.isfinite(t) & text.str.contains(_ZONE_RE, regex=True).to_numpy()
    if iso.any():
        parsed = pd.to_datetime(text[iso], utc=True, format="ISO8601", errors="coerce")
        ns = parsed.to_numpy("datetime64[ns]").astype(np.int64)
        t[iso] = np.where(parsed.isna().to_numpy(), np.nan, ns / 1e9)
    bad = ~np.isfinite(t) | (t < TIME_MIN) | (t > TIME_MAX)
    return t, bad, "not POSIX seconds or ISO-8601 with a UTC offset in 1970-2200"


def _numbers(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(np.float64, na_value=np.nan)
    return pd.to_numeric(s.fillna("").astype(str).str.strip(), errors="coerce").to_numpy(np.float64)


def validate_frame(
    path: str, frame: dict[str, pd.Series], rownum: np.ndarray, unit: str
) -> ReadResult:
    """Check every row of a fix table (columns by lower-case name); rows with a bad field
    are rejected, the rest returned."""
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        raise LogError(
            f"{path}: missing column(s) {', '.join(missing)} (a track table needs {', '.join(REQUIRED)})"
        )
    n = len(rownum)
    fid, op = _text(frame["flight_id"]), _text(frame["operator"])
    t, t_bad, t_why = _times(frame["time"])
    lat, lon, alt = (_numbers(frame[c]) for c in ("lat", "lon", "alt"))
    refs = _text(frame["alt_ref"])
    ref_of = np.array([_REFS.get(str(r).upper(), -1) for r in refs.categories], np.int8)
    ref = ref_of[refs.codes]
    fault = np.empty(n, np.int8)
    fc, fe, oc, oe = fid.codes, _empty_code(fid), op.codes, _empty_code(op)
    tb = np.empty(0, bool) if t_bad is None else t_bad  # empty: check t's range (any span)
    n_bad = sum(
        over_spans(
            lambda a, b: row_faults(
                fc[a:b], fe, oc[a:b], oe, t[a:b], tb[a:b], TIME_MIN, TIME_MAX,
                lat[a:b], lon[a:b], alt[a:b], ALT_RANGE[0], ALT_RANGE[1], ref[a:b], fault[a:b],
            ),
            n,
        )
    )  # fmt: skip
    checks = [
        ("flight_id", "empty"),
        ("operator", "empty"),
        ("time", t_why),
        ("lat", "not a latitude in -90..90"),
        ("lon", "not a longitude in -180..180"),
        ("alt", f"not an altitude in {ALT_RANGE[0]:g}..{ALT_RANGE[1]:g} m"),
        ("alt_ref", "not one of AMSL, AGL, W84"),
    ]
    result = ReadResult(path, {})
    bad_rows = np.flatnonzero(fault) if n_bad else np.empty(0, np.int64)
    result.reject(
        [
            Rejected(path, r, checks[c - 1][0], checks[c - 1][1], f"{unit} {r}")
            for r, c in zip(rownum[bad_rows].tolist(), fault[bad_rows].tolist())
        ]
    )
    bad = fault > 0 if n_bad else None
    ok = slice(None) if bad is None else ~bad
    extra = {c: _text(frame[c])[ok] if c in frame else "" for c in OPTIONAL}
    result.columns = raw_columns(
        n - n_bad,
        flight_id=fid[ok],
        operator=op[ok],
        t=t[ok],
        lat=lat[ok],
        lon=lon[ok],
        alt=alt[ok],
        ref=ref[ok],
        row=rownum[ok],
        **extra,
    )
    return result


__all__ = [
    "ALT_RANGE",
    "OPTIONAL",
    "REQUIRED",
    "parquet_table",
    "read_csv",
    "read_parquet",
    "validate_frame",
    "validate_table",
]
