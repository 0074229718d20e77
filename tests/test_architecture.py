"""The layout the README describes holds: no import cycle between modules, none between rooms
(the subpackages of newsletter/ and articles/, and the config/ and sitewide/ apps), no module
longer than 400 lines, and the import-linter contracts in pyproject.toml kept (room layers)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("newsletter", "articles", "config", "sitewide")
MAX_LINES = 400


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _module_edges() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    return {
        module: {imported for imported in graph.find_modules_directly_imported_by(module) if imported != module}
        for module in graph.modules
        if ".migrations." not in module
    }


def test_no_import_cycle_between_modules() -> None:
    """Every import counts, at module level or inside a function: a function-level import that
    only dodges a cycle is a cycle all the same."""
    assert _cycles(_module_edges()) == []


def room_of(module: str, packages: set[str]) -> str:
    """The room a module belongs to: the subpackage of newsletter/ or articles/ it sits in
    (`newsletter.delivery.batch` -> `newsletter.delivery`); config/ and sitewide/ are one room
    each; any other module directly in newsletter/ or articles/ is a room of its own."""
    parts = module.split(".")
    if parts[0] in ("config", "sitewide"):
        return parts[0]
    if parts[0] in ("newsletter", "articles") and len(parts) >= 2 and ".".join(parts[:2]) in packages:
        return ".".join(parts[:2])
    return module


def room_edges(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed into rooms: an arrow between two rooms for every import
    from a module of one into a module of the other."""
    packages = {module.rsplit(".", 1)[0] for module in edges if module.count(".") >= 2}
    rooms: dict[str, set[str]] = {}
    for module, imported in edges.items():
        room = room_of(module, packages)
        rooms.setdefault(room, set()).update(room_of(other, packages) for other in imported)
        rooms[room].discard(room)
    return rooms


def test_rooms_are_collapsed_from_their_modules() -> None:
    edges = {
        "newsletter.models": set(),
        "newsletter.delivery": set(),
        "newsletter.delivery.batch": {
            "newsletter.editions.segments",
            "newsletter.models",
            "newsletter.delivery.claims",
        },
        "newsletter.delivery.claims": set(),
        "newsletter.editions.segments": {"newsletter.email.render"},
        "newsletter.email.render": {"newsletter.models"},
        "articles.models": set(),
    }
    assert room_edges(edges) == {
        "newsletter.models": set(),
        "newsletter.delivery": {"newsletter.editions", "newsletter.models"},
        "newsletter.editions": {"newsletter.email"},
        "newsletter.email": {"newsletter.models"},
        "articles.models": set(),
    }


def test_no_import_cycle_between_rooms() -> None:
    rooms = room_edges(_module_edges())
    cycles = _cycles(rooms)
    arrows = {room: sorted(rooms[room] & set(cycle)) for cycle in cycles for room in cycle}
    assert cycles == [], arrows


def test_no_module_is_longer_than_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_rooms_read_their_settings_through_their_accessor() -> None:
    """A product setting is declared once, in its room's conf.py (sitewide.conf), and read through
    that room's accessor: never straight from django.conf.settings, where a second default (a
    getattr fallback) or a different parse could creep in."""
    from tests.test_readme import environment_reads

    declared = {read.name for read in environment_reads().values() if read.where.split(":")[0].endswith("conf.py")}
    assert len(declared) > 40
    pattern = re.compile(r"\bsettings\.(" + "|".join(sorted(declared)) + r")\b")
    direct = sorted(
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("newsletter", "articles", "sitewide")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "conf.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    )
    assert direct == []
