"""The rooms of airgrid import one way only, and no file outgrows a room.

Every ``import`` in ``airgrid/`` (including those under ``TYPE_CHECKING`` and inside
functions) is parsed with :mod:`ast` and mapped to the room it comes from and the room it
points at. An arrow not listed in :data:`ALLOWED` (an upward import, or one that skips
into a sibling) fails, and so does a cycle between rooms.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "airgrid"

#: Room -> the rooms it may import from. A room is a package path under ``airgrid``; a
#: module belongs to the longest room that prefixes it.
ALLOWED: dict[str, set[str]] = {
    "_lazy": set(),
    "geo": set(),
    "terrain": {"geo"},
    "airspace.errors": set(),
    "airspace.grid": {"geo", "terrain", "airspace.errors", "_lazy"},
    "airspace.geofences": {"geo", "terrain", "airspace.errors", "airspace.grid"},
    "airspace.traffic": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
    },
    "airspace.store": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
    },
    "routing": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "_lazy",
    },
    "audit": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "airspace.store",
    },
    "api.http": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "airspace.store",
        "routing",
        "audit",
        "_lazy",
    },
    "api.cli": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "airspace.store",
        "routing",
        "audit",
        "api.http",
    },
}
#: Package ``__init__`` modules that only document their subpackages (no imports).
DOC_ONLY = {"", "airspace", "api"}
#: Longest a module may be (lines) before it must be split.
MAX_LINES = 650


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str | None:
    best = None
    for room in ALLOWED:
        if (module == room or module.startswith(room + ".")) and (
            best is None or len(room) > len(best)
        ):
            best = room
    return best


def _imports(path: Path, module: str) -> set[str]:
    """Absolute names of the airgrid modules (or module.attribute) a file imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(["airgrid", *base] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
    return {name for name in out if name == "airgrid" or name.startswith("airgrid.")}


def _room_graph() -> tuple[nx.DiGraph, list[str]]:
    graph = nx.DiGraph()
    unplaced: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        src = _room(module)
        if src is None:
            if module not in DOC_ONLY:
                unplaced.append(module)
            continue
        graph.add_node(src)
        for name in _imports(path, module):
            dst = _room(name.removeprefix("airgrid.").removeprefix("airgrid"))
            if dst is not None and dst != src:
                graph.add_edge(src, dst, where=f"{module} imports {name}")
    return graph, unplaced


def test_every_module_belongs_to_a_room():
    _, unplaced = _room_graph()
    assert unplaced == [], f"modules outside every room (add them to ALLOWED): {unplaced}"


def test_doc_only_packages_import_nothing():
    for name in DOC_ONLY:
        path = PACKAGE / name.replace(".", "/") / "__init__.py"
        imports = _imports(path, name)
        assert imports == set(), f"{path} imports {sorted(imports)}"


def test_imports_point_one_way():
    graph, _ = _room_graph()
    upward = [graph.edges[a, b]["where"] for a, b in graph.edges if b not in ALLOWED[a]]
    assert upward == [], "imports against the layering:\n" + "\n".join(sorted(upward))


def test_no_cycle_between_rooms():
    graph, _ = _room_graph()
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"rooms import each other in a cycle: {cycles}"


def test_allowed_arrows_themselves_form_no_cycle():
    allowed = nx.DiGraph((a, b) for a, deps in ALLOWED.items() for b in deps)
    assert nx.is_directed_acyclic_graph(allowed)


def test_layering_check_catches_an_upward_import(tmp_path):
    """The parser sees imports in functions and under TYPE_CHECKING, absolute and relative."""
    src = tmp_path / "probe.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from airgrid.api.http.app import create_app\n"
        "def f():\n"
        "    from ..routing import plan_route\n"
        "    import airgrid.airspace.store.service\n"
    )
    found = _imports(src, "terrain.probe")
    rooms = {_room(n.removeprefix("airgrid.")) for n in found}
    assert {"api.http", "routing", "airspace.store"} <= rooms
    assert not rooms & ALLOWED["terrain"] - {"geo"}


def test_no_module_outgrows_its_room():
    sizes = defaultdict(int)
    for path in PACKAGE.rglob("*.py"):
        sizes[str(path.relative_to(PACKAGE))] = len(path.read_text().splitlines())
    big = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert big == {}, f"modules over {MAX_LINES} lines: {big}"
