"""OpenLineage for the operators, as Airflow's own providers report it.

The query operator and the transfer read Logfire tables (`records`, `metrics`, ...) under the
namespace `logfire://<host>/<organization>/<project>`; the transfer writes files, named as
OpenLineage's naming conventions say (`file` + absolute path, `s3://bucket` + key, ...). The SQL
and the window go in as facets; what the run did (rows, bytes, files, the exported columns) goes
into the COMPLETE event.

Imported only by the operators' `get_openlineage_facets_*` methods, so that a DAG parse never
loads OpenLineage; those methods return None when the OpenLineage provider is not installed.
The operators pass in their hook: this tier sits below `hooks/` and reaches it only through that
object (`hook.get_project()`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow_provider_logfire.core.windows import TimeWindow

log = logging.getLogger(__name__)

#: The dialect OpenLineage's SQL parser reads Logfire's SQL in (DataFusion follows PostgreSQL).
SQL_DIALECT = "postgres"
#: The tables a Logfire project has, for the fallback when OpenLineage's SQL parser is missing.
LOGFIRE_TABLES = ("records_all", "records_full", "records", "metrics")
_TABLE_AFTER_KEYWORD = re.compile(
    r"\b(?:from|join)\s+\"?(" + "|".join(LOGFIRE_TABLES) + r")\"?(?![\w.])", re.IGNORECASE
)
_QUOTED = re.compile(r"'(?:[^']|'')*'|--[^\n]*|/\*.*?\*/", re.DOTALL)


def tables_read(sql: str) -> list[str]:
    """The tables `sql` reads, in order of appearance, each once (CTE names are not tables).

    OpenLineage's SQL parser when it is installed (as common-sql's operators use it); else, or
    when it cannot parse the SQL, the Logfire tables named after FROM/JOIN outside string
    literals and comments.
    """
    try:
        from airflow.providers.openlineage.sqlparser import SQLParser

        parsed = SQLParser(dialect=SQL_DIALECT).parse(SQLParser.split_sql_string(sql))
    except Exception:  # not installed, or a parser error: the fallback below still answers
        parsed = None
    if parsed is not None and parsed.in_tables and not parsed.errors:
        names = [table.qualified_name.lower() for table in parsed.in_tables]
    else:
        names = [match.lower() for match in _TABLE_AFTER_KEYWORD.findall(_QUOTED.sub(" ", sql))]
    return list(dict.fromkeys(names))


def output_dataset_id(path: str) -> tuple[str, str]:
    """`(namespace, name)` of a written file or folder, per OpenLineage's naming conventions.

    A local path (or `file://` URL) is `("file", absolute path)`; an object store URL is
    `("<scheme>://<bucket>", key)` with `gcs` spelt `gs` and `s3a`/`s3n` spelt `s3`, as
    Airflow's `ObjectStoragePath.namespace`/`key` name them.
    """
    parts = urlsplit(path)
    if not parts.scheme or parts.scheme == "file" or len(parts.scheme) == 1:  # `C:\...` is local
        local = parts.path if parts.scheme == "file" else path
        return "file", local
    scheme = {"gcs": "gs", "s3a": "s3", "s3n": "s3"}.get(parts.scheme, parts.scheme)
    namespace = f"{scheme}://{parts.netloc}" if parts.netloc else scheme
    return namespace, parts.path.lstrip("/")


@dataclass(frozen=True)
class RunFacts:
    """What `execute` learnt that the COMPLETE event reports (kept on the operator instance)."""

    window: TimeWindow
    sql: str
    environment: Sequence[str] | None = None
    timezone: str | None = None
    #: The query operator's result rows.
    rows: int | None = None
    #: The transfer's `ExportSummary.as_xcom()`.
    summary: Mapping[str, Any] | None = None
    #: The exported columns as `(name, Arrow type)`.
    columns: Sequence[tuple[str, str]] | None = None
    #: The task's `LogfireHook`, whose project lookup the COMPLETE event reuses.
    hook: Any = None


def remember_run(operator: Any, facts: RunFacts, **more: Any) -> None:
    """Keep what the run did for `get_openlineage_facets_on_complete` (called by `execute`).

    `more` are further `RunFacts` fields (e.g. `columns`), for brevity at the call site.
    """
    operator._logfire_run_facts = dataclasses.replace(facts, **more) if more else facts


def query_lineage(operator: Any, hook: Any, *, complete: bool = False) -> Any:
    """The query operator's `OperatorLineage`: the tables its SQL reads, the SQL, the window."""
    return _lineage(operator, hook, complete=complete)


def export_lineage(
    operator: Any, hook: Any, destination: str, *, is_set: bool, complete: bool = False
) -> Any:
    """The transfer's `OperatorLineage`: tables read, and `destination` (a file, or a set's folder).

    On COMPLETE the output carries the exported columns and the output statistics (rows, bytes,
    files) of `ExportSummary.as_xcom()`; an export that `if_exists="skip"` kept writes nothing,
    so it reports the output without statistics.
    """
    lineage = _lineage(operator, hook, complete=complete)
    if lineage is None:
        return None
    from airflow.providers.common.compat.openlineage.facet import (
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )

    facts = _facts(operator) if complete else None
    summary = facts.summary if facts is not None else None
    if summary is not None and summary.get("path"):
        destination = str(summary["path"])  # what was written: the file, or the set's root
    elif is_set:
        destination = destination.rpartition("/")[0] or "."
    if not urlsplit(destination).scheme or len(urlsplit(destination).scheme) == 1:
        destination = os.path.abspath(destination)
    namespace, name = output_dataset_id(destination)
    facets: dict[str, Any] = {}
    output_facets: dict[str, Any] = {}
    if facts is not None and facts.columns:
        facets["schema"] = _schema_facet(facts.columns)
    if summary is not None and not summary.get("skipped"):
        output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
            rowCount=int(summary.get("rows", 0)),
            size=int(summary.get("bytes", 0)),
            fileCount=len(summary.get("files") or ()),
        )
    lineage.outputs = [
        OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)
    ]
    return lineage


def _facts(operator: Any) -> RunFacts | None:
    return getattr(operator, "_logfire_run_facts", None)


def _lineage(operator: Any, hook: Any, *, complete: bool) -> Any:
    try:
        from airflow.providers.common.compat.openlineage.facet import InputDataset, SQLJobFacet
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        log.debug("The OpenLineage provider is not installed: no lineage")
        return None
    from airflow_provider_logfire._airflow.lineage_facets import LogfireQueryRunFacet

    facts = _facts(operator) if complete else None
    if facts is None:
        facts = _facts_before_run(operator)
    namespace = (facts.hook or hook).get_project().namespace
    run_facets: dict[str, Any] = {}
    if facts.window is not None:
        run_facets["logfireQuery"] = LogfireQueryRunFacet(
            min_timestamp=facts.window.start.isoformat(),
            max_timestamp=facts.window.end.isoformat(),
            environment=list(facts.environment) if facts.environment else None,
            timezone=facts.timezone,
            row_count=facts.rows,
        )
    return OperatorLineage(
        inputs=[InputDataset(namespace=namespace, name=table) for table in tables_read(facts.sql)],
        outputs=[],
        run_facets=run_facets,
        job_facets={"sql": SQLJobFacet(query=facts.sql, dialect=SQL_DIALECT)},
    )


def _facts_before_run(operator: Any) -> RunFacts:
    """What the START event can know: the rendered SQL with its parameters bound, the window."""
    from airflow_provider_logfire._airflow.parameters import bound_sql

    sql = bound_sql(operator.sql, operator.parameters)
    window = None
    try:
        from airflow.sdk import get_current_context

        from airflow_provider_logfire._airflow.context import window_from_context

        window = window_from_context(
            get_current_context(),
            min_timestamp=operator.min_timestamp,
            max_timestamp=operator.max_timestamp,
            window=operator.window,
        )
    except Exception as exc:  # outside a task, or a window `execute` will fail on with its own message
        log.debug("No window for the START event: %s", exc)
    return RunFacts(
        window=window,  # type: ignore[arg-type]
        sql=sql,
        environment=_environments(getattr(operator, "environment", None)),
        timezone=getattr(operator, "timezone", None),
    )


def _environments(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()] or None
    return [str(part) for part in value]


def _schema_facet(columns: Sequence[tuple[str, str]]) -> Any:
    from airflow.providers.common.compat.openlineage.facet import (
        SchemaDatasetFacet,
        SchemaDatasetFacetFields,
    )

    return SchemaDatasetFacet(fields=[SchemaDatasetFacetFields(name=n, type=t) for n, t in columns])
