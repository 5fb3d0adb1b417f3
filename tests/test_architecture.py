"""The house rules of the package, read from the source so that they cannot rot.

- The Airflow-free tiers (`core/`, `client/`, `writers/`, `dbapi/`, `local/`) import neither
  Airflow nor the provider's Airflow tier, not even inside a function.
- Every tier imports only the tiers below it (the table `MAY_IMPORT`).
- No import circle between the package's modules.
- No module is longer than 600 lines (generated demo-data tables aside).
- Nothing loose at the package top but its face, the provider info and the exception hierarchy.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_provider_logfire"
NAME = PACKAGE.name
AIRFLOW_FREE = ("core", "client", "writers", "dbapi", "local")
AIRFLOW_TIER = ("hooks", "operators", "sensors", "triggers", "transfers", "_airflow")
MAX_LINES = 600
#: Modules that are mostly data (span templates, demo tables), not logic.
DATA_TABLES = {"local/demo/traces.py"}
TOP_LEVEL = {"__init__.py", "get_provider_info.py", "exceptions.py"}
#: The provider's tiers each tier may import, besides itself, the package root (`__version__`)
#: and the exception hierarchy, which every tier raises from.
_ADAPTERS = {"_airflow", "client", "core", "dbapi", "writers", "hooks"}
MAY_IMPORT = {
    "client": set(),
    "writers": set(),
    "local": {"client", "writers"},  # the server's Arrow encoding shares the writers' IPC fix-ups
    "dbapi": {"client"},
    "core": {"client", "writers"},
    "_airflow": {"core", "dbapi"},
    "hooks": {"_airflow", "client", "core", "dbapi"},
    "triggers": {"_airflow", "client", "core", "hooks"},
    "operators": _ADAPTERS,
    "sensors": _ADAPTERS | {"triggers"},
    "transfers": _ADAPTERS,
    "get_provider_info": {"_airflow"},
}


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` blocks: imports for type hints only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def _imports(module: str, path: Path, *, type_hints: bool = True) -> set[str]:
    """Every module name `path` imports, at any depth of the code (relative imports resolved).

    With `type_hints=False`, imports under `if TYPE_CHECKING:` (never run) are left out.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(), str(path))
    skipped = set() if type_hints else _type_checking_blocks(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _internal_imports(module: str, path: Path) -> set[str]:
    """The package modules that `module` imports when it runs (a `from pkg import name` counts as `pkg`)."""
    return {name for name in _imports(module, path, type_hints=False) if name in MODULES and name != module}


def _tier(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("module", [m for m in MODULES if _tier(m) in AIRFLOW_FREE])
def test_airflow_free_tiers_import_no_airflow(module: str) -> None:
    imported = _imports(module, MODULES[module])
    airflow = sorted(name for name in imported if name == "airflow" or name.startswith("airflow."))
    tier = sorted(name for name in imported if name.startswith(f"{NAME}.") and _tier(name) in AIRFLOW_TIER)
    assert airflow == [] and tier == [], f"{module} imports {airflow + tier}"


@pytest.mark.parametrize("module", [m for m in MODULES if _tier(m) in MAY_IMPORT])
def test_tiers_import_only_downward(module: str) -> None:
    tier = _tier(module)
    allowed = {tier, "", "__version__", "exceptions", *MAY_IMPORT[tier]}
    above = sorted(
        name
        for name in _imports(module, MODULES[module])
        if name.startswith(NAME) and _tier(name) not in allowed
    )
    assert above == [], (
        f"{module} ({tier}) imports {above}; it may import {sorted(allowed - {'', '__version__'})}"
    )


def test_no_import_circle() -> None:
    graph = {module: _internal_imports(module, path) for module, path in MODULES.items()}
    # A package's face importing its own submodules is how a package exposes them, not a circle.
    for module in graph:
        graph[module] = {dep for dep in graph[module] if not dep.startswith(f"{module}.")}
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == "open":
                circle = [*stack[stack.index(dep) :], dep]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_600_lines(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    lines = len(path.read_text().splitlines())
    assert relative in DATA_TABLES or lines <= MAX_LINES, f"{relative} has {lines} lines"


def test_nothing_loose_at_the_package_top() -> None:
    loose = {path.name for path in PACKAGE.glob("*.py")} - TOP_LEVEL
    assert loose == set(), f"modules at the package top: {sorted(loose)}; give each its tier's folder"
