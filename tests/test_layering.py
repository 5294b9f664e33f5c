"""The rooms of airgrid import one way only, and no file or function outgrows a room.

Every ``import`` in ``airgrid/`` (including those under ``TYPE_CHECKING`` and inside
functions) is parsed with :mod:`ast` and mapped to the room it comes from and the room it
points at. An arrow not listed in :data:`ALLOWED` (an upward import, or one that skips
into a sibling) fails, and so does a cycle between rooms. Modules are held under
:data:`MAX_LINES` and functions under :data:`MAX_FUNCTION_LINES`, unless the function's
docstring has a line starting with :data:`ONE_PIECE` that gives the reason.
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
    "data": set(),
    "_lazy": {"data"},
    "geo": {"data"},
    "terrain": {"geo", "data"},
    "airspace.errors": {"data"},
    "airspace.grid": {"geo", "terrain", "airspace.errors", "_lazy", "data"},
    "airspace.geofences": {"geo", "terrain", "airspace.errors", "airspace.grid", "data"},
    "airspace.traffic": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "data",
    },
    "airspace.store": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "data",
    },
    "routing": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "_lazy",
        "data",
    },
    "audit": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "airspace.store",
        "data",
    },
    "analytics": {
        "geo",
        "airspace.errors",
        "airspace.grid",
        "airspace.traffic",
        "airspace.store",
        "data",
    },
    "simulation": {
        "geo",
        "terrain",
        "airspace.errors",
        "airspace.grid",
        "airspace.geofences",
        "airspace.traffic",
        "airspace.store",
        "routing",
        "_lazy",
        "data",
    },
    "settings": {"airspace.traffic", "data"},
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
        "analytics",
        "_lazy",
        "settings",
        "data",
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
        "analytics",
        "simulation",
        "api.http",
        "settings",
        "data",
    },
}
#: Package ``__init__`` modules that only document their subpackages (no imports).
DOC_ONLY = {"", "airspace", "api"}
#: Longest a module may be (lines) before it must be split.
MAX_LINES = 650
#: Longest a function or method may be (lines, decorators excluded, docstring included).
MAX_FUNCTION_LINES = 80
#: How a docstring line starts that says why a longer function must stay one piece.
ONE_PIECE = "One piece:"


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


def _long_functions(source: str, where: str) -> list[str]:
    """``where:line name (n lines)`` of each function in ``source`` over the limit, unexcused."""
    out = []
    functions = [
        node
        for node in ast.walk(ast.parse(source, filename=where))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    for node in sorted(functions, key=lambda node: node.lineno):
        n = node.end_lineno - node.lineno + 1
        doc = ast.get_docstring(node) or ""
        excused = any(
            line.strip().startswith(ONE_PIECE) and line.strip() != ONE_PIECE
            for line in doc.splitlines()
        )
        if n > MAX_FUNCTION_LINES and not excused:
            out.append(f"{where}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_no_function_outgrows_its_room():
    long = [
        found
        for path in sorted(PACKAGE.rglob("*.py"))
        for found in _long_functions(path.read_text(), str(path.relative_to(PACKAGE)))
    ]
    assert long == [], (
        f"functions over {MAX_FUNCTION_LINES} lines without a '{ONE_PIECE} <reason>' "
        "docstring line:\n" + "\n".join(long)
    )


def test_function_length_check_counts_lines_and_reads_the_excuse():
    """Nested and async functions count; an excuse needs a reason after the marker."""

    def body(lines: int, indent: str = "    ") -> str:
        return "".join(f"{indent}x = {k}\n" for k in range(lines))

    n = MAX_FUNCTION_LINES - 1  # a def line plus n body lines is exactly the limit
    src = "".join(
        [
            "def fits():\n" + body(n),
            "def long():\n" + body(n + 1),
            'def excused():\n    """Doc.\n\n    ' + ONE_PIECE + ' one loop.\n    """\n' + body(n),
            'def bare():\n    """Doc.\n\n    ' + ONE_PIECE + '\n    """\n' + body(n),
            "class C:\n    async def method(self):\n" + body(n + 1, " " * 8),
            "def outer():\n    def inner():\n" + body(n + 1, " " * 8),
        ]
    )
    names = [found.split()[1] for found in _long_functions(src, "probe.py")]
    assert names == ["long", "bare", "method", "outer", "inner"]
