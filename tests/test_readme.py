"""The README's example DAG is real: it runs through `dag.test()` and exports the run's day.

Only its destination changes, from the reader's S3 bucket to a local folder, since there is no
bucket here; the rest (timetable, deferrable sensor, templated path) runs as printed.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

README = Path(__file__).resolve().parent.parent / "README.md"
TOKEN = "pylf_v1_us_ReAdMeSeCrEt77"
DAY_END = datetime(2026, 11, 27, tzinfo=timezone.utc)
ROWS_PER_DAY = 3_000


def readme_dag_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    dags = [block for block in blocks if "@dag" in block]
    assert len(dags) == 1, "the README should show exactly one example DAG"
    return dags[0]


def test_the_readme_dag_runs_as_printed(run_dags, tmp_path):
    source = readme_dag_source()
    bucket = tmp_path / "bucket"
    local = source.replace("s3://my-bucket/", f"file://{bucket}/").replace(
        'dest_conn_id="aws_default"', "dest_conn_id=None"
    )
    assert local.count(str(bucket)) == 1 and "aws_default" not in local, "the README DAG changed shape"
    dag_file = tmp_path / "readme_dag.py"
    dag_file.write_text(local)

    engine = LocalEngine()
    engine.load_demo(days=2, rows_per_day=ROWS_PER_DAY, seed=5, end=DAY_END)
    with run_local_server(engine, token=TOKEN) as server:
        [report] = run_dags(
            [dag_file],
            [{"dag_id": "logfire_daily", "logical_date": DAY_END.isoformat()}],
            env={
                "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                    {"conn_type": "logfire", "host": server.url, "password": TOKEN}
                )
            },
        )
    engine.close()

    assert report.state == "success", (report.tasks, report.log[-4000:])
    path = bucket / "logfire" / "date=2026-11-26" / "records.parquet"
    assert pq.read_metadata(path).num_rows == ROWS_PER_DAY
    assert report.xcom["export"]["rows"] == ROWS_PER_DAY
    assert TOKEN not in report.log
