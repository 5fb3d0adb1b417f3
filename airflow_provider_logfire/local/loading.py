"""Rows on their way into the store: Parquet files read with pyarrow, partial rows made whole.

File reading happens here, in Python, never in SQL: the query engine has no file access at all,
so SQL sent to the server cannot read the machine's files, and the server's own loading does not
need it either.
"""

from __future__ import annotations

import glob
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from airflow_provider_logfire.exceptions import LocalServerError
from airflow_provider_logfire.local.tables import TIMESTAMP, Column, Table


def parquet_files(path_or_glob: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files named by a path, a directory (all `*.parquet` below it) or a glob.

    Raises FileNotFoundError naming the pattern when nothing matches, so a typo in
    `--records` fails loudly instead of starting a server with no data.
    """
    pattern = os.path.expanduser(os.fspath(path_or_glob))
    if os.path.isdir(pattern):
        files = sorted(Path(pattern).rglob("*.parquet"))
    elif glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    else:
        files = [Path(pattern)] if os.path.isfile(pattern) else []
    if not files:
        raise FileNotFoundError(f"No Parquet file matches {pattern!r}")
    return files


def read_parquet(path_or_glob: str | os.PathLike[str], *, batch_size: int = 65_536) -> pa.RecordBatchReader:
    """Stream the rows of every matching Parquet file as one reader.

    Files may have different column subsets (e.g. exports from different queries); their schemas
    are unified, and a column missing from one file reads as NULL there.
    """
    files = parquet_files(path_or_glob)
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive")
    dataset = ds.dataset([str(f) for f in files], schema=schema, format="parquet")
    return dataset.scanner(batch_size=batch_size).to_reader()


def complete_rows(table: Table, data: pa.Table, *, project_id: str = "local") -> pa.Table:
    """Rows of any column subset, made whole in the stored schema of `table`.

    A missing nullable column is NULL; `day` comes from the time column, `created_at` is the load
    time, `project_id` is "local", `end_timestamp` equals `start_timestamp`, `tags` is `[]` when
    absent (as Logfire stores it); other required columns get a neutral default (see
    `_CONSTANTS`) except the time column, which must be given. Values are cast to the column types.
    """
    names = data.schema.names
    unknown = [n for n in names if n not in table.column_names]
    if unknown:
        raise LoadError(
            f"Unknown column(s) for table {table.name}: {', '.join(unknown)}. "
            f"Known columns: {', '.join(table.column_names)}"
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LoadError(f"Duplicate column(s) for table {table.name}: {', '.join(duplicates)}")
    if table.time_column not in names:
        raise LoadError(
            f"Cannot load rows into {table.name}: the time column {table.time_column!r} is missing"
        )
    rows = data.num_rows
    given = {c.name: _cast(table, c, data.column(c.name)) for c in table.columns if c.name in names}
    columns = []
    for column in table.columns:
        value = given.get(column.name)
        default = None if column.nullable else _default(column.name, given, rows, project_id)
        if column.name == "tags":
            default = pa.array([[]] * rows, column.arrow_type)
        if value is None and default is None and not column.nullable:
            raise LoadError(
                f"Cannot load rows into {table.name}: the required column {column.name!r} is missing"
            )
        if value is None:
            value = default if default is not None else pa.nulls(rows, column.arrow_type)
        elif default is not None and value.null_count:
            value = pc.coalesce(value, default)
        columns.append(value)
    return pa.Table.from_arrays(columns, schema=table.schema)


class LoadError(LocalServerError, ValueError):
    """Data cannot be loaded into a table as given (unknown table or column, missing time column)."""


def _cast(table: Table, column: Column, values: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.arrow_type) and pa.types.is_string(values.type):
        return _timestamps_from_text(table, column, values)
    try:
        return values.cast(column.arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise LoadError(
            f"Cannot load rows into {table.name}: column {column.name!r} ({values.type}) cannot be read "
            f"as {column.postgres_type}: {exc}"
        ) from None


def _timestamps_from_text(table: Table, column: Column, values: pa.ChunkedArray) -> pa.ChunkedArray:
    """ISO 8601 text as instants; text without an offset is UTC."""
    parsed = []
    for text in values.to_pylist():
        if text is None:
            parsed.append(None)
            continue
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise LoadError(
                f"Cannot load rows into {table.name}: column {column.name!r} holds {text!r}, "
                "which is not an ISO 8601 timestamp"
            ) from None
        parsed.append(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))
    return pa.chunked_array([pa.array(parsed, column.arrow_type)])


#: Defaults of required columns that do not depend on other columns.
_CONSTANTS: dict[str, pa.Scalar] = {
    "level": pa.scalar(9, pa.int32()),
    "service_name": pa.scalar("unknown_service"),
    "metric_type": pa.scalar("gauge"),
    "unit": pa.scalar(""),
}


def _default(name: str, given: dict[str, pa.ChunkedArray], rows: int, project_id: str) -> pa.Array | None:
    """Values for a required column a load left out (or left NULL); None if there are none."""
    if name == "end_timestamp":
        return given["start_timestamp"]
    if name == "kind":
        end, start = given.get("end_timestamp"), given["start_timestamp"]
        if end is None:
            return pa.array(["log"] * rows, pa.string())
        return pc.if_else(pc.fill_null(pc.greater(end, start), False), "span", "log")
    if name in ("span_name", "message"):
        other = given.get("message" if name == "span_name" else "span_name")
        return pa.array([""] * rows) if other is None else pc.coalesce(other, "")
    if name == "created_at":
        return pa.array([datetime.now(timezone.utc)] * rows, TIMESTAMP)
    if name == "day":
        time = next(c for c in ("start_timestamp", "recorded_timestamp") if c in given)
        today = datetime.now(timezone.utc).date()
        return pc.coalesce(given[time].cast(pa.date32()), pa.scalar(today, pa.date32()))
    if name == "project_id":
        return pa.array([project_id] * rows, pa.string())
    if name in ("trace_id", "span_id"):
        return _random_hex(rows, 16 if name == "trace_id" else 8)
    constant = _CONSTANTS.get(name)
    return None if constant is None else pa.array([constant.as_py()] * rows, constant.type)


def _random_hex(rows: int, width: int) -> pa.Array:
    return pa.array([secrets.token_hex(width) for _ in range(rows)], pa.string())
