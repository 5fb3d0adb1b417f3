"""Every package the provider imports is declared in pyproject.toml, in the extra its code needs.

Read from the installed package's metadata (`Requires-Dist`, with their `extra ==` markers) and
the source's imports (parsed, so imports inside functions count and docstrings do not).
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PACKAGE = Path(__file__).resolve().parent.parent / "airflow_provider_logfire"
#: Imported only when Airflow 3.0/3.1 asks the hook for its form widgets, which those versions'
#: FAB-based UI provides; never needed to run anything of the provider's.
AIRFLOW_UI_ONLY = {"flask_appbuilder", "flask_babel", "wtforms"}
#: Code under these folders runs only with the extra installed.
EXTRA_OF_FOLDER = {"local": "local"}


def _declared() -> dict[str, set[str]]:
    """Distribution name → the extras that declare it ("" for the base requirements)."""
    declared: dict[str, set[str]] = {}
    for line in requires("airflow-provider-logfire") or []:
        requirement = Requirement(line)
        match = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", str(requirement.marker or ""))
        declared.setdefault(canonicalize_name(requirement.name), set()).add(match[1] if match else "")
    return declared


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "airflow_provider_logfire"}


def test_every_imported_package_is_declared_in_the_right_extra() -> None:
    declared = _declared()
    distributions = packages_distributions()
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        extra = EXTRA_OF_FOLDER.get(relative.parts[0])
        for name in sorted(_imports(path) - AIRFLOW_UI_ONLY):
            candidates = {canonicalize_name(d) for d in distributions.get(name, [])}
            if name == "airflow":
                candidates &= {"apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"}
                candidates |= {"apache-airflow"}
            extras = set().union(*(declared.get(d, set()) for d in candidates)) - {"dev"}
            # Declared somewhere (not only for development); under local/, in the base or [local].
            if not extras or (extra is not None and not extras & {"", extra}):
                problems.append(
                    f"{relative}: imports {name} ({sorted(candidates)}), declared in {sorted(extras)}"
                )
    assert problems == []


def test_the_scan_sees_imports_inside_functions() -> None:
    """The check above would miss lazy imports if the scan did; the transfer imports lazily."""
    assert "pyarrow" in _imports(PACKAGE / "writers" / "sinks.py")
    assert "upath" in _imports(PACKAGE / "writers" / "staging.py")
    assert "google" in _imports(PACKAGE / "local" / "otlp.py")
