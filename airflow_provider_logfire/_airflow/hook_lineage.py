"""The hook's reads, told to Airflow's hook-lineage collector as common-sql's hooks tell theirs.

Each query adds the tables it read as input assets (`logfire://<host>/<org>/<project>/<table>`,
the `logfire` asset scheme of `_airflow.asset_uri`) and one `sql_job` extra (the SQL and its row
count, `send_sql_hook_lineage`). OpenLineage turns those into lineage for tasks that use the hook
directly (a `@task`, a `PythonOperator`). Nothing is done, and no request made, while no
collector listens (OpenLineage not configured), and a failure here never fails the query.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def report_read(hook: Any, sql: str, *, row_count: int | None = None) -> None:
    """Report that `hook` ran `sql` (returning `row_count` rows, when known)."""
    try:
        from airflow.providers.common.compat.lineage.hook import get_hook_lineage_collector
        from airflow.providers.common.sql.hooks.lineage import send_sql_hook_lineage

        collector = get_hook_lineage_collector()
        if type(collector).__name__ == "NoOpCollector":
            return
        from airflow_provider_logfire._airflow.lineage import tables_read

        project = hook.get_project()
        for table in tables_read(sql):
            collector.add_input_asset(context=hook, uri=project.table_uri(table))
        send_sql_hook_lineage(context=hook, sql=sql, row_count=row_count)
    except Exception as exc:
        log.warning("Could not report hook lineage: %s", exc)
