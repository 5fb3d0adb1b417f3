"""Response bodies of the query API, built from Arrow record batches.

Each encoder is a generator: schema and batches in, chunks of bytes out, one batch at a time,
so the HTTP layer can stream an answer without ever holding all of it. Shapes and type names
follow Logfire (see `docs/logfire-api.md`): Arrow/DataFusion serde names for types, ISO 8601
timestamps with microseconds and `Z`, NaN and infinities as JSON null. Content negotiation
lives here too, since it only decides which of these encoders answers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_logfire.writers.ipc_compact import compact_empty_lists

JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
ARROW = "application/vnd.apache.arrow.stream"

_TIME_UNITS = {"s": "Second", "ms": "Millisecond", "us": "Microsecond", "ns": "Nanosecond"}
_ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"  # Arrow's %S carries the fraction (6 digits for microseconds).
_ISO_NAIVE = "%Y-%m-%dT%H:%M:%S"


# -- content negotiation -------------------------------------------------------------------


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, by RFC 9110 rules; None if none is acceptable.

    Each offered type takes the quality of the most specific range that matches it
    (`text/csv` before `text/*` before `*/*`); ties go to the earlier offer, so the server's
    preference (JSON first) decides among equals. No or an empty header accepts anything.
    """
    if not accept or not accept.strip():
        return offered[0] if offered else None
    ranges = [r for r in (_media_range(part) for part in accept.split(",")) if r is not None]
    best: tuple[float, int] | None = None
    choice = None
    for index, media_type in enumerate(offered):
        quality = _quality_for(media_type, ranges)
        if quality > 0 and (best is None or quality > best[0]):
            best, choice = (quality, index), media_type
    return choice


def _media_range(text: str) -> tuple[str, str, float] | None:
    kind, *params = (p.strip() for p in text.split(";"))
    if "/" not in kind:
        return None
    main, sub = (s.strip().lower() for s in kind.split("/", 1))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return main, sub, quality


def _quality_for(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    main, sub = media_type.split("/", 1)
    best_specificity, quality = -1, 0.0
    for r_main, r_sub, r_quality in ranges:
        if r_main == main and r_sub == sub:
            specificity = 2
        elif r_main == main and r_sub == "*":
            specificity = 1
        elif r_main == "*" and r_sub == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, quality = specificity, r_quality
    return quality


# -- schemas -------------------------------------------------------------------------------


def data_type_json(data_type: pa.DataType, *, v1: bool = False) -> Any:
    """An Arrow type as Arrow/DataFusion's serde names it (`"Utf8"`, `{"Timestamp": [...]}`).

    v1 spells a nested field's type key `datatype` and leaves out `dict_id`,
    `dict_is_ordered` and `metadata`; v2 spells it `data_type` and keeps them.
    """
    t = pa.types
    simple = _SIMPLE_TYPES.get(str(data_type))
    if simple is not None:
        return simple
    if t.is_timestamp(data_type):
        return {"Timestamp": [_TIME_UNITS[data_type.unit], data_type.tz]}
    if t.is_time32(data_type):
        return {"Time32": _TIME_UNITS[data_type.unit]}
    if t.is_time64(data_type):
        return {"Time64": _TIME_UNITS[data_type.unit]}
    if t.is_duration(data_type):
        return {"Duration": _TIME_UNITS[data_type.unit]}
    if t.is_decimal(data_type):
        return {f"Decimal{data_type.bit_width}": [data_type.precision, data_type.scale]}
    if t.is_fixed_size_binary(data_type):
        return {"FixedSizeBinary": data_type.byte_width}
    if t.is_list(data_type):
        return {"List": _nested_field_json(data_type.value_field, v1)}
    if t.is_large_list(data_type):
        return {"LargeList": _nested_field_json(data_type.value_field, v1)}
    if t.is_fixed_size_list(data_type):
        return {"FixedSizeList": [_nested_field_json(data_type.value_field, v1), data_type.list_size]}
    if t.is_struct(data_type):
        return {"Struct": [_nested_field_json(f, v1) for f in data_type]}
    if t.is_map(data_type):
        entries = pa.field("entries", pa.struct([data_type.key_field, data_type.item_field]), False)
        return {"Map": [_nested_field_json(entries, v1), data_type.keys_sorted]}
    if t.is_dictionary(data_type):
        return {
            "Dictionary": [data_type_json(data_type.index_type), data_type_json(data_type.value_type, v1=v1)]
        }
    return str(data_type)


_SIMPLE_TYPES = {
    "null": "Null",
    "bool": "Boolean",
    **{f"int{n}": f"Int{n}" for n in (8, 16, 32, 64)},
    **{f"uint{n}": f"UInt{n}" for n in (8, 16, 32, 64)},
    "halffloat": "Float16",
    "float": "Float32",
    "double": "Float64",
    "string": "Utf8",
    "large_string": "LargeUtf8",
    "string_view": "Utf8View",
    "binary": "Binary",
    "large_binary": "LargeBinary",
    "date32[day]": "Date32",
    "date64[ms]": "Date64",
    "month_day_nano_interval": {"Interval": "MonthDayNano"},
}


def _nested_field_json(field: pa.Field, v1: bool) -> dict[str, Any]:
    if v1:
        return {
            "name": field.name,
            "datatype": data_type_json(field.type, v1=True),
            "nullable": field.nullable,
        }
    return {
        "name": field.name,
        "data_type": data_type_json(field.type),
        "nullable": field.nullable,
        "dict_id": 0,
        "dict_is_ordered": False,
        "metadata": {},
    }


def v1_columns(schema: pa.Schema) -> list[dict[str, Any]]:
    """The `columns` list of a v1 answer, without values."""
    return [
        {"name": f.name, "datatype": data_type_json(f.type, v1=True), "nullable": f.nullable} for f in schema
    ]


def v2_schema(schema: pa.Schema) -> dict[str, Any]:
    """The `schema` object of a v2 answer."""
    fields = [{"name": f.name, "data_type": data_type_json(f.type), "nullable": f.nullable} for f in schema]
    return {"fields": fields, "metadata": {}}


# -- values --------------------------------------------------------------------------------


def json_columns(batch: pa.RecordBatch) -> list[list[Any]]:
    """Each column of `batch` as a list of JSON-ready Python values."""
    return [_json_values(column) for column in batch.columns]


def json_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """The rows of `batch` as JSON-ready dicts."""
    names = batch.schema.names
    return [dict(zip(names, values, strict=True)) for values in zip(*json_columns(batch), strict=True)]


def dumps(value: Any) -> str:
    """Compact JSON; anything the value converters did not foresee becomes its text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _json_values(array: pa.Array | pa.ChunkedArray) -> list[Any]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_map(array.type):
        entries = _json_values(pa.ListArray.from_arrays(array.offsets, array.values, mask=array.is_null()))
        return [None if e is None else {str(item["key"]): item["value"] for item in e} for e in entries]
    return _jsonable(array).to_pylist()


def _jsonable(array: pa.Array) -> pa.Array:
    """`array` recast so that `to_pylist()` yields only JSON types (str, int, float, bool, list, dict)."""
    t = array.type
    if pa.types.is_timestamp(t):
        return _iso_timestamps(array)
    if pa.types.is_date(t) or pa.types.is_time(t):
        return array.cast(pa.string())
    if pa.types.is_floating(t):
        return _finite_or_null(array)
    if pa.types.is_decimal(t):
        # Through the exact decimal text, so 1.2345 stays 1.2345 (a binary cast may not).
        return pc.cast(pc.cast(array, pa.string()), pa.float64())
    if pa.types.is_dictionary(t):
        return _jsonable(array.dictionary_decode())
    if pa.types.is_fixed_size_list(t):
        return _jsonable(array.cast(pa.list_(t.value_field)))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        if _is_json_native(t):
            return array
        # Rebase offsets to 0 (a sliced offsets buffer cannot carry a null bitmap).
        offsets = array.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        values = _jsonable(array.values.slice(start, end - start))
        cls = pa.ListArray if pa.types.is_list(t) else pa.LargeListArray
        return cls.from_arrays(pc.subtract(offsets, start), values, mask=array.is_null())
    if pa.types.is_struct(t):
        children = [_jsonable(child) for child in array.flatten()]
        return pa.StructArray.from_arrays(children, names=[f.name for f in t], mask=array.is_null())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return pa.array(
            [None if v is None else base64.b64encode(v).decode() for v in array.to_pylist()], pa.string()
        )
    if pa.types.is_duration(t):
        return _iso_durations(array)
    if pa.types.is_interval(t) or pa.types.is_map(t):
        return pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    return array


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _iso_durations(array: pa.Array) -> pa.Array:
    """Durations as ISO 8601 text (`PT0.2S`, `P1DT3600S`), as Arrow's own formatter writes them.

    Never a Python repr such as `0:00:00.200000`, which no client can parse back.
    """
    per_second = _PER_SECOND[array.type.unit]
    digits = len(str(per_second)) - 1
    out = []
    for value in array.cast(pa.int64()).to_pylist():
        if value is None:
            out.append(None)
            continue
        sign, value = ("-" if value < 0 else ""), abs(value)
        days, rest = divmod(value, 86_400 * per_second)
        seconds, fraction = divmod(rest, per_second)
        text = f"{seconds}.{fraction:0{digits}d}".rstrip("0").rstrip(".") if fraction else str(seconds)
        out.append(f"{sign}P{days}DT{text}S" if days else f"{sign}PT{text}S")
    return pa.array(out, pa.string())


def _is_json_native(data_type: pa.DataType) -> bool:
    """Whether `to_pylist()` of this type already gives JSON types (no conversion needed)."""
    t = pa.types
    if t.is_string(data_type) or t.is_large_string(data_type) or t.is_integer(data_type):
        return True
    if t.is_boolean(data_type) or t.is_null(data_type):
        return True
    if t.is_list(data_type) or t.is_large_list(data_type):
        return _is_json_native(data_type.value_type)
    return False


def _iso_timestamps(array: pa.Array) -> pa.Array:
    """ISO 8601 text with exactly microseconds; `Z` for instants, none for zone-less values."""
    tz = array.type.tz
    if array.type.unit != "us":
        array = array.cast(pa.timestamp("us", tz), safe=False)
    if tz is None:
        return pc.strftime(array, format=_ISO_NAIVE)
    return pc.strftime(array.cast(pa.timestamp("us", "UTC")), format=_ISO_UTC)


def _finite_or_null(array: pa.Array) -> pa.Array:
    if pa.types.is_float16(array.type):
        array = array.cast(pa.float64())
    return pc.if_else(pc.is_finite(array), array, pa.scalar(None, array.type))


# -- bodies --------------------------------------------------------------------------------


def v1_json_columns(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """v1 column-oriented JSON: `{"columns": [{name, datatype, nullable, values}, ...]}`.

    A column's values can only be written once every batch has been read, so this one encoder
    gathers the (JSON-ready) values first; the API caps a result at 10,000 rows.
    """
    values: list[list[Any]] = [[] for _ in schema]
    for batch in batches:
        for gathered, column in zip(values, json_columns(batch), strict=True):
            gathered.extend(column)
    yield b'{"columns":['
    for index, (column, column_values) in enumerate(zip(v1_columns(schema), values, strict=True)):
        column["values"] = column_values
        yield (("," if index else "") + dumps(column)).encode()
    yield b"]}"


def v1_json_rows(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """v1 row-oriented JSON: `{"columns": [{name, datatype, nullable}], "rows": [{...}]}`."""
    yield f'{{"columns":{dumps(v1_columns(schema))},"rows":['.encode()
    yield from _row_array_items(batches)
    yield b"]}"


def v2_json(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, include_schema: bool = True
) -> Iterator[bytes]:
    """v2 JSON: `{"schema": {"fields": [...], "metadata": {}}, "data": [{...}]}`."""
    head = f'"schema":{dumps(v2_schema(schema))},' if include_schema else ""
    yield f'{{{head}"data":['.encode()
    yield from _row_array_items(batches)
    yield b"]}"


def _row_array_items(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    first = True
    for batch in batches:
        if batch.num_rows == 0:
            continue
        text = dumps(json_rows(batch))[1:-1]
        yield (text if first else "," + text).encode()
        first = False


def v2_ndjson(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], *, plan: str | None = None
) -> Iterator[bytes]:
    """v2 NDJSON: a `schema` line, an optional `explain` line, `data` lines, an `end` line.

    A failure while rows are being produced becomes an `error` line (the status line has left
    already), after which nothing follows: no `end` line, so no client can take the rows
    received so far for the whole result.
    """
    yield _line({"type": "schema", **v2_schema(schema)})
    if plan is not None:
        yield _line({"type": "explain", "plan": plan})
    row_count = 0
    try:
        for batch in batches:
            if batch.num_rows:
                row_count += batch.num_rows
                yield _line({"type": "data", "rows": json_rows(batch)})
    except Exception as exc:
        yield _line({"type": "error", "message": str(exc) or type(exc).__name__})
        return
    yield _line({"type": "end", "row_count": row_count})


def _line(obj: dict[str, Any]) -> bytes:
    return (dumps(obj) + "\n").encode()


def csv_stream(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """CSV with a header row, quoting only the fields that need it (as the service does).

    NULL is empty, booleans `true`/`false`, lists and structs JSON text. A field is quoted when it
    holds a comma, a quote or a line break; quotes inside are doubled. The work is vectorised:
    each column becomes text, then every row is joined, batch by batch.
    """
    yield (",".join(_csv_quoted_text(name) for name in schema.names) + "\n").encode()
    for batch in batches:
        if batch.num_rows == 0:
            continue
        columns = [_csv_field(_csv_array(column)) for column in batch.columns]
        lines = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, ",")
        yield ("\n".join(lines.to_pylist()) + "\n").encode()


_NEEDS_QUOTES = '[,"\r\n]'


def _csv_quoted_text(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_array(array: pa.Array) -> pa.Array:
    t = array.type
    if pa.types.is_timestamp(t):
        return _iso_timestamps(array)
    if pa.types.is_dictionary(t):
        return _csv_array(array.dictionary_decode())
    if pa.types.is_nested(t):
        return pa.array([None if v is None else dumps(v) for v in _json_values(array)], pa.string())
    if pa.types.is_binary(t) or pa.types.is_duration(t) or pa.types.is_interval(t):
        return _jsonable(array)
    return array


def _csv_field(array: pa.Array) -> pa.Array:
    """Text of each value, quoted where needed; NULL as the empty field."""
    text = array if pa.types.is_string(array.type) else array.cast(pa.string())
    if pa.types.is_boolean(array.type):
        text = pc.if_else(array, "true", "false")
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.fill_null(pc.if_else(needs, quoted, text), "")


def arrow_stream(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes | memoryview]:
    """An Arrow IPC stream, each batch sent as soon as it is read.

    The stream format is a sequence of encapsulated messages (schema, batches, end-of-stream),
    so each message is serialised by Arrow's C++ in one piece and sent as it is: no Python file
    object between Arrow and the socket, no copy out of it. Results carry no dictionaries
    (`engine._output_schema` decodes them), the one thing a stream writer would add messages for.
    A page's list columns are cut down to its own rows first (`writers.ipc_compact`).
    """
    yield memoryview(schema.serialize())
    for batch in batches:
        yield memoryview(compact_empty_lists(batch).serialize())
    yield _END_OF_STREAM


#: The IPC end-of-stream marker: a continuation token and a zero length.
_END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"
