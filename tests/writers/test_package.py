"""Tests of the `writers` package face: a lazy table of public names, each loaded from its home module."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_logfire.writers as writers

PACKAGE = writers.__name__
#: What DAG-parse-time imports must not pull in (they cost seconds and hundreds of MiB).
HEAVY = ("pyarrow", "upath", "fsspec")


def top_level_definitions(module_name: str) -> set[str]:
    """Names a module defines itself (def, class, assignment), as opposed to names it imports."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_all_lists_exactly_the_names_of_the_homes_table() -> None:
    assert len(writers.__all__) == len(set(writers.__all__)), "duplicate names in __all__"
    assert set(writers.__all__) == set(writers._HOMES)


@pytest.mark.parametrize(("name", "home"), sorted(writers._HOMES.items()))
def test_every_public_name_is_the_object_its_home_module_defines(name: str, home: str) -> None:
    module_name = home if "." in home else f"{PACKAGE}.{home}"
    assert name in top_level_definitions(module_name), f"{name} is not defined in {module_name}"
    value = getattr(writers, name)
    assert value is getattr(importlib.import_module(module_name), name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == module_name


def test_type_checking_imports_agree_with_the_homes_table() -> None:
    """The names type checkers see (the `if TYPE_CHECKING:` block) come from the same homes."""
    tree = ast.parse(Path(writers.__file__).read_text(encoding="utf-8"))
    block = next(
        node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    homes = {name: home.removeprefix(f"{PACKAGE}.") for name, home in writers._HOMES.items()}
    seen = {
        alias.name: node.module.removeprefix(f"{PACKAGE}.")
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert seen == homes


def test_dir_lists_every_public_name() -> None:
    assert set(writers.__all__) <= set(dir(writers))


def test_an_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match=f"module '{PACKAGE}' has no attribute 'open_exprot'"):
        writers.open_exprot  # noqa: B018 -- the attribute access is the test
    assert not hasattr(writers, "remove_stale_temporaries")  # internal: not on the package face
    with pytest.raises(ImportError, match="open_exprot"):
        from airflow_provider_logfire.writers import open_exprot  # noqa: F401


def heavy_modules_after(statement: str) -> list[str]:
    """The heavy packages a fresh interpreter has loaded after running `statement`."""
    probe = (
        "import json, sys\n"
        f"{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statement",
    [
        f"import {PACKAGE}.formats",
        f"import {PACKAGE}.policies",
        f"import {PACKAGE}.formats, {PACKAGE}.policies",
        f"from {PACKAGE} import FORMATS, IF_EXISTS_CHOICES, check_if_exists, file_suffix, resolve_format",
    ],
)
def test_the_parse_time_tables_load_neither_pyarrow_nor_fsspec(statement: str) -> None:
    assert heavy_modules_after(statement) == []


def test_the_probe_sees_heavy_imports() -> None:
    """Control for the test above: importing the writer itself does load them."""
    assert heavy_modules_after(f"import {PACKAGE}.writer") == sorted(HEAVY)
