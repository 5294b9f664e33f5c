"""The two InterUSS interfaces match the vendored YAML (tests/data/interuss, SOURCE.md):
same paths and methods, same path and query parameters, and the same property names and
enumerations in every request and response body, all the way down.

Schemas in files not vendored (telemetry, U-space, AU, ED-269 definitions) are opaque
here: airgrid takes them as free objects, and the comparison stops at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).resolve().parents[2] / "data" / "interuss"
#: Interface prefix in airgrid -> its vendored YAML.
INTERFACES = {
    "/flight_planning/v1": DATA / "flight_planning" / "v1" / "flight_planning.yaml",
    "/geospatial_map/v1": DATA / "geospatial_map" / "v1" / "geospatial_map.yaml",
}
METHODS = ("get", "put", "post", "delete", "patch")
OPAQUE = "<opaque>"


class YamlDocs:
    """The vendored YAML files, with ``$ref`` resolved across them."""

    def __init__(self) -> None:
        self.cache: dict[Path, dict] = {}

    def load(self, path: Path) -> dict | None:
        if not path.exists():
            return None
        if path not in self.cache:
            self.cache[path] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return self.cache[path]

    def resolve(self, ref: str, here: Path) -> tuple[dict | None, Path]:
        file, _, pointer = ref.partition("#")
        path = (here.parent / file).resolve() if file else here
        node = self.load(path)
        for part in pointer.strip("/").split("/"):
            if node is None:
                break
            node = node.get(part)
        return node, path


def shape_yaml(schema: dict, here: Path, docs: YamlDocs, depth: int = 0) -> Any:
    """Property names (nested dicts), enumerations (sets) or leaves of a YAML schema."""
    assert depth < 60, "schema nesting too deep"
    if "$ref" in schema:
        target, path = docs.resolve(schema["$ref"], here)
        return OPAQUE if target is None else shape_yaml(target, path, docs, depth + 1)
    for key in ("anyOf", "allOf", "oneOf"):
        if key in schema and len(schema[key]) == 1:
            return shape_yaml(schema[key][0], here, docs, depth + 1)
    if schema.get("type") == "array" and "items" in schema:
        items = schema["items"]
        return [shape_yaml(items, here, docs, depth + 1) if isinstance(items, dict) else None]
    if "properties" in schema:
        return {k: shape_yaml(v, here, docs, depth + 1) for k, v in schema["properties"].items()}
    if "enum" in schema:
        return set(map(str, schema["enum"]))
    return None


def shape_ours(schema: dict, doc: dict, depth: int = 0) -> Any:
    """The same for airgrid's OpenAPI (pydantic: ``Optional`` is ``anyOf [X, null]``)."""
    assert depth < 60, "schema nesting too deep"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return shape_ours(doc["components"]["schemas"][name], doc, depth + 1)
    for key in ("anyOf", "allOf", "oneOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if key in schema and len(options) == 1:
            return shape_ours(options[0], doc, depth + 1)
    if schema.get("type") == "array" and "items" in schema:
        return [shape_ours(schema["items"], doc, depth + 1)]
    if "properties" in schema:
        return {k: shape_ours(v, doc, depth + 1) for k, v in schema["properties"].items()}
    if "enum" in schema:
        return set(map(str, schema["enum"]))
    if "const" in schema:
        return {str(schema["const"])}
    return None


def differences(theirs: Any, ours: Any, where: str) -> list[str]:
    """Where two shapes differ (an opaque YAML schema matches anything)."""
    if theirs == OPAQUE:
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{where}: the YAML has properties {sorted(theirs)}, airgrid has {ours!r}"]
        out = []
        if set(theirs) != set(ours):
            out.append(
                f"{where}: properties missing {sorted(set(theirs) - set(ours))}, "
                f"extra {sorted(set(ours) - set(theirs))}"
            )
        for k in sorted(set(theirs) & set(ours)):
            out += differences(theirs[k], ours[k], f"{where}.{k}")
        return out
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{where}: the YAML has an array, airgrid has {ours!r}"]
        return differences(theirs[0], ours[0], f"{where}[]")
    if isinstance(theirs, set) and theirs != ours:
        return [f"{where}: enumeration {sorted(theirs)} in the YAML, {ours!r} in airgrid"]
    return []


def _parameters(op: dict, path_item: dict) -> set[tuple[str, str]]:
    return {
        (p["in"], p["name"]) for p in path_item.get("parameters", []) + op.get("parameters", [])
    }


def _body(op: dict) -> dict | None:
    return (
        (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    )


def _ok(op: dict) -> dict | None:
    return (
        op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
    )


@pytest.fixture(scope="module")
def ours(grid_dir, tmp_path_factory):
    from airgrid.api.http.app import create_app
    from airgrid.settings import Settings

    tmp = tmp_path_factory.mktemp("openapi")
    settings = Settings(
        grid_path=grid_dir, var_dir=tmp, db_url=f"sqlite:///{tmp / 'airgrid.sqlite'}"
    )
    app = create_app(settings)
    try:
        yield app.openapi()
    finally:
        app.state.services.close()


@pytest.mark.parametrize("prefix", sorted(INTERFACES))
def test_paths_methods_and_parameters_match(ours, prefix):
    spec = yaml.safe_load(INTERFACES[prefix].read_text(encoding="utf-8"))
    theirs = {(p, m) for p, item in spec["paths"].items() for m in item if m in METHODS}
    mine = {
        (p.removeprefix(prefix), m)
        for p, item in ours["paths"].items()
        if p.startswith(prefix + "/")
        for m in item
        if m in METHODS
    }
    assert mine == theirs
    for path, method in sorted(theirs):
        item = spec["paths"][path]
        mine_op = ours["paths"][prefix + path][method]
        assert _parameters(item[method], item) == _parameters(mine_op, {}), (path, method)


@pytest.mark.parametrize("prefix", sorted(INTERFACES))
def test_request_and_response_schemas_match(ours, prefix):
    docs = YamlDocs()
    here = INTERFACES[prefix]
    spec = docs.load(here)
    assert spec is not None
    problems: list[str] = []
    compared = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            mine = ours["paths"][prefix + path][method]
            for what, theirs_schema, our_schema in (
                ("request", _body(op), _body(mine)),
                ("response 200", _ok(op), _ok(mine)),
            ):
                if theirs_schema is None:
                    continue
                assert our_schema is not None, f"{method.upper()} {path}: no {what} schema"
                compared += 1
                problems += differences(
                    shape_yaml(theirs_schema, here, docs),
                    shape_ours(our_schema, ours),
                    f"{method.upper()} {path} {what}",
                )
    assert compared >= 7
    assert problems == []


def test_the_comparison_catches_a_renamed_property():
    theirs = {"a": {"b": None, "c": {"X", "Y"}}}
    assert differences(theirs, {"a": {"b": None, "c": {"X", "Y"}}}, "t") == []
    assert differences(theirs, {"a": {"bb": None, "c": {"X", "Y"}}}, "t")
    assert differences(theirs, {"a": {"b": None, "c": {"X"}}}, "t")
