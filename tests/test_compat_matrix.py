"""The support matrix `make compat` runs: its subsets and its constraints files agree with it."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("compat", ROOT / "scripts" / "compat.py")
assert _spec is not None and _spec.loader is not None
compat = importlib.util.module_from_spec(_spec)
sys.modules["compat"] = compat  # its dataclasses look their module up
_spec.loader.exec_module(compat)

SUPPORTED = [(p, m) for m in compat.AIRFLOW for p in compat.PYTHONS if p in compat.AIRFLOW_PYTHONS[m]]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


@pytest.mark.parametrize("subset", sorted(compat.SUBSETS))
def test_every_path_of_a_subset_exists(subset: str) -> None:
    missing = [path for path in compat.SUBSETS[subset] if not (ROOT / path).exists()]
    assert not missing, f"subset {subset!r} names paths that do not exist: {missing}"


def test_ci_subset_is_part_of_the_full_one() -> None:
    full = compat.SUBSETS["full"]
    outside = [p for p in compat.SUBSETS["ci"] if not any(p == f or p.startswith(f"{f}/") for f in full)]
    assert not outside


@pytest.mark.parametrize(("python", "minor"), SUPPORTED, ids=[f"py{p}-airflow{m}" for p, m in SUPPORTED])
def test_each_supported_pair_has_constraints_pinning_its_airflow_and_hold_backs(
    python: str, minor: str
) -> None:
    path = compat.constraints_file(python, minor)
    assert path.exists(), f"no constraints for py{python} + Airflow {minor}: run scripts/compat.py --freeze"
    pins = _pins(path)
    assert pins["apache-airflow"] == compat.AIRFLOW[minor]
    assert pins["apache-airflow-core"] == compat.AIRFLOW[minor]
    assert "airflow-provider-logfire" not in pins  # the project itself is installed from the checkout
    for held in compat.HOLD_BACK[minor]:
        name, _, version = held.partition("==")
        assert pins.get(re.sub(r"[-_.]+", "-", name).lower()) == version, f"{path.name} does not hold {held}"


def test_unsupported_pairs_are_named_and_have_no_constraints() -> None:
    unsupported = [(p, m) for m in compat.AIRFLOW for p in compat.PYTHONS if (p, m) not in SUPPORTED]
    assert ("3.13", "3.0") in unsupported  # Airflow 3.0 stops at Python 3.12
    assert not [
        compat.constraints_file(p, m) for p, m in unsupported if compat.constraints_file(p, m).exists()
    ]


def test_failures_lists_the_failed_and_erroring_tests(tmp_path: Path) -> None:
    log = tmp_path / "pair.log"
    log.write_text(
        "tests/a.py::t PASSED\nFAILED tests/a.py::test_x - boom\nERROR tests/b.py::test_y\nnoise\n"
    )
    assert compat.failures(log).splitlines() == [
        "   FAILED tests/a.py::test_x - boom",
        "   ERROR tests/b.py::test_y",
    ]
