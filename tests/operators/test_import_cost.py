"""Importing the operators is cheap: Airflow imports every DAG file over and over.

Checked in a fresh interpreter. Airflow 3.3's own task SDK (`airflow.sdk`) already imports httpx,
so the check is what the provider's modules add on top of what a DAG file's `from airflow.sdk
import ...` costs anyway: no heavy library, and none of the provider's own I/O modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

OPERATOR_MODULES = (
    "airflow_provider_logfire.operators.query",
    "airflow_provider_logfire.transfers.logfire_to_file",
    "airflow_provider_logfire.sensors.data_available",
)
HEAVY = ("pyarrow", "duckdb", "httpx", "pandas", "polars", "numpy", "fsspec", "upath")

_PROBE = """
import importlib, json, sys

def loaded():
    return sorted(name for name in sys.modules if name.split(".")[0] in {heavy!r})

import airflow.sdk
baseline = loaded()
before = set(sys.modules)
for module in {modules!r}:
    importlib.import_module(module)
print(json.dumps({{
    "baseline": baseline,
    "after": loaded(),
    "added": sorted(set(sys.modules) - before),
}}))
"""


def test_operator_modules_import_no_heavy_library() -> None:
    probe = _PROBE.format(heavy=set(HEAVY), modules=OPERATOR_MODULES)
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(proc.stdout.splitlines()[-1])
    # What the operators add on top of Airflow: none of the heavy libraries...
    assert result["after"] == result["baseline"]
    never = {"pyarrow", "duckdb", "pandas", "polars"}
    assert not {name.split(".")[0] for name in result["after"]} & never
    # ...and only their own thin modules: no hook, client, writers, exporter or local server.
    provider = [name for name in result["added"] if name.startswith("airflow_provider_logfire")]
    assert set(OPERATOR_MODULES) <= set(provider)
    heavy_parts = ("client", "hooks", "writers", "export", "planning", "local", "triggers")
    assert [name for name in provider if name.split(".")[1] in heavy_parts] == []
