"""OTLP values as the column values of the local tables, shared by the trace, log and metric mappings.

Attribute values become plain JSON-able Python (bytes as base64 text, non-finite floats as text,
as the Logfire SDK sends them), ids hex, times microseconds or ISO text, integers bounded to the
INTEGER columns, and a mapping's rows one Arrow table with every column of its table.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from airflow_provider_logfire.exceptions import LocalServerError
from airflow_provider_logfire.local.tables import METRICS, RECORDS, Table

if TYPE_CHECKING:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

_INT32 = (-(2**31), 2**31 - 1)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class UnstorableValueError(LocalServerError, ValueError):
    """A decoded request holds a value its table cannot store (e.g. a count beyond int64)."""


def attribute_map(key_values: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in key_values}


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain JSON-able Python (bytes as base64 text)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return finite(value.double_value)
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return attribute_map(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def finite(number: float | None) -> float | str | None:
    """JSON has no NaN or infinity: those travel as text, as the Logfire SDK sends them."""
    if number is None or math.isfinite(number):
        return number
    return str(number)


def hex_id(raw: bytes) -> str | None:
    """A trace or span id as lowercase hex; absent (empty or all zero) ids are None."""
    return raw.hex() if raw.strip(b"\x00") else None


def micros(unix_nanos: int) -> int:
    return unix_nanos // 1000


def iso_time(unix_nanos: int) -> str:
    moment = _EPOCH + timedelta(microseconds=unix_nanos // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def int32(value: Any) -> int | None:
    """An integer that fits the INTEGER columns, else None (never a failing insert)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if _INT32[0] <= value <= _INT32[1] else None


def text_or_json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return compact_json(value)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_or_none(items: list[Any]) -> str | None:
    return compact_json(items) if items else None


#: Filled by `LocalEngine.insert_arrow` at insert time.
_ENGINE_FILLED = frozenset({"created_at", "day", "project_id"})


def _arrow_schema(table: Table) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, c.arrow_type, nullable=True) for c in table.columns if c.name not in _ENGINE_FILLED]
    )


_SCHEMAS = {RECORDS.name: _arrow_schema(RECORDS), METRICS.name: _arrow_schema(METRICS)}


def rows_table(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (dicts, any subset of the columns) as a table with every column of `table`."""
    try:
        return pa.Table.from_pylist(rows, schema=_SCHEMAS[table.name])
    except (pa.ArrowException, OverflowError) as exc:  # e.g. a uint64 count beyond int64
        raise UnstorableValueError(f"The request holds a value {table.name} cannot store: {exc}") from None
