"""Logfire as a SQL source for Airflow's common-sql operators, run through dag.test()."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa

from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import run_local_server

DAG_FILE = Path(__file__).parent.parent / "dags" / "logfire_common_sql.py"
TOKEN = "pylf_v1_us_CoMmOnSqLtOkEn3"
END = datetime(2026, 11, 27, tzinfo=timezone.utc)


def expected(engine: LocalEngine, sql: str, start: datetime, end: datetime) -> list[dict]:
    with engine.query(sql, min_timestamp=start, max_timestamp=end, limit=10_000) as result:
        return pa.Table.from_batches(list(result), schema=result.schema).to_pylist()


def test_sql_execute_query_operator_sql_sensor_and_hook_methods(run_dags):
    engine = LocalEngine()
    engine.load_demo(days=2, rows_per_day=8_000, seed=4, end=END)
    day = (END - timedelta(days=1), END)
    with run_local_server(engine, token=TOKEN) as server:
        (report,) = run_dags(
            [DAG_FILE],
            [{"dag_id": "logfire_common_sql", "logical_date": END.isoformat()}],
            env={
                "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
                    {"conn_type": "logfire", "host": server.url, "password": TOKEN}
                )
            },
        )
    assert report.state == "success", report.log[-5000:]
    by_service = expected(
        engine, "SELECT service_name, count(*) AS n FROM records WHERE level >= 9 GROUP BY 1 ORDER BY 1", *day
    )
    assert report.xcom["by_service"] == [[row["service_name"], row["n"]] for row in by_service]
    hook = report.xcom["through_the_hook"]
    assert hook["count"] == 8_000, "the hook must read exactly the run's day, not the default last day"
    assert hook["window"] == [day[0].isoformat(), day[1].isoformat()]
    assert hook["services"] == sorted({r["service_name"] for r in by_service})
    assert hook["df_services"] == ["checkout"]
    checkout = expected(engine, "SELECT count(*) AS n FROM records WHERE service_name = 'checkout'", *day)
    assert hook["df_rows"] == checkout[0]["n"]
    last_hour = expected(engine, "SELECT count(*) AS n FROM records", END - timedelta(hours=1), END)
    assert report.xcom["last_hour_via_hook_params"] == last_hour[0]["n"]
    assert TOKEN not in report.log
