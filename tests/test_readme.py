"""The README says what the code does (issue 21): every environment variable the product reads
has a row in its configuration table, with the default the code uses; every row names a
variable the code reads; every repository path it names exists; the module table has one row
per module or room."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("config", "newsletter", "articles", "sitewide")
# Helpers in config/env.py that read one variable (its name is the first argument).
READERS = {"env_bool", "env_int", "env_float", "env_choice", "env_list", "env_networks", "required_in_production"}
# Read only by the process that starts everything (Django itself picks its settings module).
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE"}


@dataclass(frozen=True)
class Read:
    name: str
    default: object  # the literal default, or None when there is none or it is computed
    where: str


def _literal(node: ast.expr | None) -> object:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _room_settings(path: Path, tree: ast.Module) -> dict[str, Read]:
    """The settings a room declares in its conf.py (sitewide.conf): each upper-case field of a
    dataclass there is read from the environment variable of its name, with its default."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.target.id.isupper():
                    default = item.value
                    if isinstance(default, ast.Call) and ast.unparse(default.func) == "choice":
                        default = default.args[0]
                    name = item.target.id
                    found[name] = Read(name, _literal(default), f"{path.relative_to(ROOT)}:{item.lineno}")
    return found


def environment_reads() -> dict[str, Read]:
    """Every os.environ / os.getenv / env_* read in the product's code, and every setting a room
    declares in its conf.py, by variable."""
    reads: dict[str, Read] = {}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            if path.name == "conf.py":
                for declared, room_read in _room_settings(path, tree).items():
                    reads.setdefault(declared, room_read)
            for node in ast.walk(tree):
                name, default = None, None
                if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                    target = ast.unparse(node.func)
                    if target in {"os.environ.get", "os.getenv"} or target in READERS:
                        name = node.args[0].value
                        default = _literal(node.args[1]) if len(node.args) > 1 else None
                elif (
                    isinstance(node, ast.Subscript)
                    and ast.unparse(node.value) == "os.environ"
                    and isinstance(node.slice, ast.Constant)
                ):
                    name = node.slice.value
                if isinstance(name, str) and name not in NOT_CONFIGURATION:
                    reads.setdefault(name, Read(name, default, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return reads


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return readme().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|[\s|:-]+\|$", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def configuration_rows() -> dict[str, tuple[str, int, int]]:
    """Variable -> (its row's default cell, its index among the row's variables, how many)."""
    documented = {}
    for cells in table_rows(section("Configuration"))[1:]:
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        for index, name in enumerate(names):
            documented[name] = (cells[1], index, len(names))
    return documented


def test_every_variable_the_code_reads_has_a_row_in_the_configuration_table() -> None:
    documented = configuration_rows()
    missing = sorted(
        f"{read.name} ({read.where})" for read in environment_reads().values() if read.name not in documented
    )
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_every_row_of_the_configuration_table_is_read_by_the_code() -> None:
    reads = environment_reads()
    # ANYMAIL_<NAME> rows are examples of the one ANYMAIL_* rule (config.settings._anymail_from_env).
    stale = sorted(name for name in configuration_rows() if name not in reads and not name.startswith("ANYMAIL_"))
    assert not stale, f"the README documents variables nothing reads: {stale}"


def _spelled(value: object) -> set[str]:
    """How the README may write a literal default: 1/0 for booleans, 30 for 30.0, as typed."""
    if isinstance(value, bool):
        return {"1" if value else "0"}
    if isinstance(value, float) and value.is_integer():
        return {str(int(value))}
    if isinstance(value, (int, float)):
        return {str(value), f"{value:,}"}
    return {str(value)}


def test_the_table_gives_the_default_the_code_uses() -> None:
    documented = configuration_rows()
    wrong = []
    for read in environment_reads().values():
        if read.name not in documented or read.default in (None, "", ()):
            continue
        cell, index, count = documented[read.name]
        parts = [part.strip() for part in cell.split(" / ")]
        shown = parts[index] if count > 1 and len(parts) == count else cell
        if not any(f"`{spelling}`" in shown or shown == spelling for spelling in _spelled(read.default)):
            wrong.append(f"{read.name}: code {read.default!r} ({read.where}), README {shown!r}")
    assert not wrong, wrong


PATH = re.compile(r"`((?:config|sitewide|newsletter|articles|tests|bench|templates|static|docs|locale)/[\w./-]*)`")


def test_every_path_the_readme_names_exists() -> None:
    missing = sorted({path for path in PATH.findall(readme()) if not (ROOT / path.split("::")[0]).exists()})
    assert not missing, missing


def test_the_module_table_has_one_row_per_module() -> None:
    firsts = [cells[0] for cells in table_rows(section("Architecture")) if cells[0] not in {"module", "room"}]
    duplicates = sorted({first for first in firsts if firsts.count(first) > 1})
    assert firsts and not duplicates, duplicates
