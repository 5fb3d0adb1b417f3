"""The client and dbapi tiers import nothing above them: no Airflow, no hook, not even lazily.

Read from the source (every `import` statement, including those inside functions), so that a new
lazy import cannot slip past a check that only looks at `sys.modules` after importing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airflow_provider_logfire

PACKAGE = Path(airflow_provider_logfire.__file__).parent
#: What each tier may import from the provider itself (the package root only for `__version__`).
ALLOWED = {
    "client": {"airflow_provider_logfire.client"},
    "dbapi": {"airflow_provider_logfire.client", "airflow_provider_logfire.dbapi"},
}


def imported_modules(source: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in `source`; `from pkg import name` counts as `pkg.name`."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "airflow_provider_logfire":
                found += [
                    (node.lineno, f"{node.module}.{alias.name}")
                    for alias in node.names
                    if alias.name != "__version__"
                ]
            else:
                found.append((node.lineno, node.module))
    return found


def forbidden_imports(tier: str) -> list[str]:
    problems = []
    for source in sorted((PACKAGE / tier).rglob("*.py")):
        for line, module in imported_modules(source):
            top = module.split(".")[0]
            own = module == "airflow_provider_logfire" or module.startswith("airflow_provider_logfire.")
            allowed = any(module == ok or module.startswith(f"{ok}.") for ok in ALLOWED[tier])
            if top == "airflow" or (own and not allowed):
                problems.append(f"{source.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return problems


@pytest.mark.parametrize("tier", sorted(ALLOWED))
def test_tier_imports_nothing_above_it(tier):
    assert forbidden_imports(tier) == []


def test_the_check_sees_lazy_imports(tmp_path, monkeypatch):
    """The check itself must be able to fail: a function-level hook import is reported."""
    fake = tmp_path / "airflow_provider_logfire"
    (fake / "client").mkdir(parents=True)
    (fake / "client" / "sneaky.py").write_text(
        "def settings():\n"
        "    from airflow_provider_logfire.hooks.logfire import LogfireHook\n"
        "    import airflow.sdk\n"
        "    from airflow_provider_logfire import __version__\n"
        "    from airflow_provider_logfire.client.settings import ClientSettings\n"
    )
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    assert forbidden_imports("client") == [
        "airflow_provider_logfire/client/sneaky.py:2 imports airflow_provider_logfire.hooks.logfire",
        "airflow_provider_logfire/client/sneaky.py:3 imports airflow.sdk",
    ]
