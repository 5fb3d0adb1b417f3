"""Errors of the day by service and exception type, handed to a downstream TaskFlow task.

The query result arrives as XCom (a list of dicts, timestamps as ISO strings); the downstream task
turns it into a short report — post it to Slack, e-mail it, or fail the run when a threshold is
crossed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from airflow_provider_logfire.operators.query import LogfireQueryOperator


@dag(
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["logfire", "report"],
)
def logfire_error_report():
    errors = LogfireQueryOperator(
        task_id="errors_by_type",
        sql="""
            SELECT service_name, exception_type, count(*) AS occurrences,
                   max(start_timestamp) AS last_seen
            FROM records
            WHERE is_exception
            GROUP BY service_name, exception_type
            ORDER BY occurrences DESC
        """,
    )

    @task
    def build_report(rows: list[dict]) -> dict:
        """A readable summary; returns the totals so later tasks (or alerts) can use them."""
        total = sum(row["occurrences"] for row in rows)
        lines = [f"{total:,} exceptions in {len(rows)} service/type pairs"]
        lines += [
            f"- {row['service_name']}: {row['exception_type']} x {row['occurrences']:,} (last {row['last_seen']})"
            for row in rows[:10]
        ]
        print("\n".join(lines))
        worst = rows[0] if rows else None
        return {"total": total, "pairs": len(rows), "worst": worst}

    build_report(errors.output)


logfire_error_report()
