"""A DAG file that uses the provider is cheap to parse: Airflow imports and runs it over and over.

Checked in a fresh interpreter, on top of what a DAG file with one plain operator costs anyway
(Airflow 3's task SDK already imports httpx; Airflow 3.0 loads its serializer, and httpx with it,
for every operator constructed): importing the operator modules AND
constructing every operator in a DAG must load no heavy library and none of the provider's I/O
modules (clients, hooks, writers, the exporter, the local server).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pyarrow", "duckdb", "datafusion", "httpx", "pandas", "polars", "numpy", "fsspec", "upath")
#: The provider modules a DAG file may load while it is parsed: the operators themselves and
#: the pure tables they validate their arguments with.
ALLOWED = {
    "airflow_provider_logfire",
    "airflow_provider_logfire._airflow",
    "airflow_provider_logfire._airflow.compat",
    "airflow_provider_logfire._airflow.links",  # the operators' extra link class (no I/O)
    "airflow_provider_logfire.client",
    "airflow_provider_logfire.exceptions",
    "airflow_provider_logfire.client.retry",
    "airflow_provider_logfire.client.settings",
    "airflow_provider_logfire.operators",
    "airflow_provider_logfire.operators.query",
    "airflow_provider_logfire.sensors",
    "airflow_provider_logfire.sensors.data_available",
    "airflow_provider_logfire.transfers",
    "airflow_provider_logfire.transfers.logfire_to_file",
    "airflow_provider_logfire.writers",
    "airflow_provider_logfire.writers.formats",
    "airflow_provider_logfire.writers.layout",
    "airflow_provider_logfire.writers.policies",
}

_PROBE = """
import json, sys
import airflow.sdk
from airflow.sdk import DAG, BaseOperator

# What any DAG file costs: Airflow 3.0 loads its serializer (and with it httpx) for every operator.
with DAG("baseline", schedule=None):
    BaseOperator(task_id="plain")

def loaded():
    return sorted(name for name in sys.modules if name.split(".")[0] in {heavy!r})

baseline = loaded()
before = set(sys.modules)
from airflow_provider_logfire.operators.query import LogfireQueryOperator
from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor
from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer

with DAG("parse_cost", schedule=None) as dag:
    LogfireQueryOperator(task_id="query", sql="SELECT count(*) FROM records", output_format="csv")
    LogfireDataAvailableSensor(task_id="wait", deferrable=True, where="level >= 17")
    LogfireToFileTransfer(task_id="export", destination="s3://bucket/{{{{ ds }}}}/r.csv.gz", format="csv",
                          compression="gzip", if_exists="skip")
assert len(dag.tasks) == 3
print(json.dumps({{
    "baseline": baseline,
    "after": loaded(),
    "added": sorted(set(sys.modules) - before),
}}))
"""


def test_parsing_a_dag_with_every_operator_loads_nothing_heavy() -> None:
    probe = _PROBE.format(heavy=set(HEAVY))
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["after"] == result["baseline"], "a heavy library was loaded"
    provider = {name for name in result["added"] if name.startswith("airflow_provider_logfire")}
    assert provider - ALLOWED == set(), "a DAG parse loaded one of the provider's I/O modules"
    assert "airflow_provider_logfire.transfers.logfire_to_file" in provider
