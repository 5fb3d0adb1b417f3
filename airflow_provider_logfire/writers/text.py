"""Arrow values as text for CSV and JSON lines, computed column-wise with pyarrow compute.

Every function works on whole arrays (no Python loop over values, except base64 for binary
columns, which Logfire does not have), so a 10,000-row batch costs a few kernel calls per column.

Conventions (shared by CSV and JSON lines):
- timestamps: ISO 8601 in UTC with a `Z` (`2026-11-27T00:00:00.123456Z`), at the column's precision;
  naive timestamps without the `Z`;
- dates `YYYY-MM-DD`, times `HH:MM:SS.ffffff`, durations as seconds (a number);
- strings stay strings: a JSON-text column (`attributes`) is written as the text it holds, never
  parsed and never encoded twice;
- lists, structs and maps are JSON (real arrays/objects in JSON lines, JSON text in CSV);
- binary values are base64 text;
- NaN and infinities, which JSON cannot represent, become `null`.
"""

from __future__ import annotations

import base64
import json

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_logfire.exceptions import SchemaMismatchError
from airflow_provider_logfire.writers.type_families import LISTS, STRINGS, VARIABLE_BINARIES, is_any

_TEXT = pa.large_string()
#: Characters that must be escaped inside a JSON string.
_NEEDS_ESCAPE = r'["\\\x00-\x1f]'
_OTHER_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_BINARIES = (*VARIABLE_BINARIES, pa.types.is_fixed_size_binary)


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, _TEXT)


def _concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; a null part makes the result null."""
    return pc.binary_join_element_wise(*(_scalar(p) if isinstance(p, str) else p for p in parts), _scalar(""))


def _mask_nulls(original: pa.Array, encoded: pa.Array) -> pa.Array:
    """Null where `original` is null (nested encoders compute a value even for null slots)."""
    if not original.null_count:
        return encoded
    return pc.if_else(pc.is_valid(original), encoded, pa.scalar(None, encoded.type))


def _plain(array: pa.Array) -> pa.Array:
    """Drop encodings that do not change values: extension types and dictionaries."""
    while True:
        if isinstance(array.type, pa.BaseExtensionType):
            array = array.storage
        elif pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        else:
            return array


def iso_timestamps(array: pa.Array) -> pa.Array:
    """ISO 8601 strings: UTC with `Z` for zoned timestamps, local wall time for naive ones."""
    unit, tz = array.type.unit, array.type.tz
    if tz is None:
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%S").cast(_TEXT)
    utc = array.cast(pa.timestamp(unit, "UTC"))
    return pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ").cast(_TEXT)


def duration_seconds(array: pa.Array) -> pa.Array:
    """Durations as float seconds, the unit Logfire itself uses for `duration`."""
    ticks = array.cast(pa.int64()).cast(pa.float64())
    return pc.divide(ticks, _SECONDS_PER_UNIT[array.type.unit])


def _json_number(array: pa.Array) -> pa.Array:
    if pa.types.is_floating(array.type):
        if array.type == pa.float16():
            array = array.cast(pa.float32())
        # Arrow prints the shortest round-trip form (`0.1`, `1e+300`), valid JSON except nan/inf.
        return pc.if_else(pc.is_finite(array), array.cast(_TEXT), pa.scalar(None, _TEXT))
    return array.cast(_TEXT)


def json_strings(array: pa.Array) -> pa.Array:
    """Quoted, escaped JSON strings (nulls stay null). Escapes only when some value needs it."""
    text = array.cast(_TEXT)
    if pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py():
        text = pc.replace_substring(text, "\\", "\\\\")
        text = pc.replace_substring(text, '"', '\\"')
        for char, escaped in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
            text = pc.replace_substring(text, char, escaped)
        if pc.any(pc.match_substring_regex(text, _OTHER_CONTROL)).as_py():
            for code in range(0x20):
                if chr(code) not in "\n\r\t":
                    text = pc.replace_substring(text, chr(code), f"\\u{code:04x}")
    return _concat('"', text, '"')


def _rebased(array: pa.Array, children: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Offsets starting at 0 and the matching slice of `children`, for a possibly sliced list/map."""
    offsets = array.offsets
    if not len(offsets):
        return pa.array([0], pa.int64()), children.slice(0, 0)
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    return pc.subtract(offsets.cast(pa.int64()), start), children.slice(start, end - start)


def _json_list(array: pa.Array) -> pa.Array:
    if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)):
        array = array.cast(pa.large_list(array.type.value_type))  # fixed-size lists, list views
    offsets, values = _rebased(array, array.values)
    items = pa.LargeListArray.from_arrays(offsets, json_values(values))
    return _mask_nulls(array, _concat("[", pc.binary_join(items, _scalar(",")), "]"))


def _json_map(array: pa.Array) -> pa.Array:
    offsets, keys = _rebased(array, array.keys)
    _, items = _rebased(array, array.items)
    keys = _plain(keys)
    key_text = iso_timestamps(keys) if pa.types.is_timestamp(keys.type) else keys.cast(_TEXT)
    pairs = _concat(json_strings(key_text), ":", json_values(items))
    entries = pa.LargeListArray.from_arrays(offsets, pairs)
    return _mask_nulls(array, _concat("{", pc.binary_join(entries, _scalar(",")), "}"))


def json_object(names: list[str], columns: list[pa.Array], length: int, *, close: str = "}") -> pa.Array:
    """One JSON object per row, from named columns: the core of both struct values and JSONL rows."""
    if not names:
        return pa.repeat(_scalar("{" + close), length).cast(_TEXT)
    parts: list[pa.Array | str] = []
    for index, (name, column) in enumerate(zip(names, columns, strict=True)):
        parts.append(("," if index else "{") + json.dumps(name, ensure_ascii=False) + ":")
        parts.append(json_values(column))
    parts.append(close)
    return _concat(*parts)


def json_values(array: pa.Array) -> pa.Array:
    """The JSON text of every value (`null` for nulls), as a large_string array without nulls."""
    array = _plain(array)
    data_type = array.type
    if pa.types.is_null(data_type):
        return pa.repeat(_scalar("null"), len(array)).cast(_TEXT)
    if pa.types.is_boolean(data_type) or pa.types.is_integer(data_type) or pa.types.is_decimal(data_type):
        encoded = array.cast(_TEXT)
    elif pa.types.is_floating(data_type):
        encoded = _json_number(array)
    elif pa.types.is_duration(data_type):
        encoded = _json_number(duration_seconds(array))
    elif pa.types.is_timestamp(data_type):
        encoded = _concat('"', iso_timestamps(array), '"')
    elif pa.types.is_date(data_type) or pa.types.is_time(data_type):
        encoded = _concat('"', array.cast(_TEXT), '"')
    elif is_any(STRINGS, data_type):
        encoded = json_strings(array)
    elif is_any(_BINARIES, data_type):
        encoded = _concat('"', _base64(array), '"')
    elif pa.types.is_map(data_type):
        encoded = _json_map(array)
    elif is_any(LISTS, data_type):
        encoded = _json_list(array)
    elif pa.types.is_struct(data_type):
        children = array.flatten()
        encoded = _mask_nulls(array, json_object([f.name for f in data_type], children, len(array)))
    else:
        raise SchemaMismatchError(f"cannot write Arrow type {data_type} as JSON")
    return encoded.fill_null("null")


def _base64(array: pa.Array) -> pa.Array:
    """Binary values as base64 text: the one per-value Python loop, for a type Logfire never returns."""
    return pa.array(
        [None if value is None else base64.b64encode(value).decode("ascii") for value in array.to_pylist()],
        _TEXT,
    )


def csv_column(array: pa.Array) -> pa.Array:
    """A column the CSV writer prints per the conventions above (nulls stay null: empty cells)."""
    array = _plain(array)
    data_type = array.type
    if pa.types.is_timestamp(data_type):
        return iso_timestamps(array)
    if pa.types.is_date(data_type) or pa.types.is_time(data_type):
        return array.cast(_TEXT)
    if pa.types.is_duration(data_type):
        return duration_seconds(array)
    if pa.types.is_string_view(data_type):
        return array.cast(_TEXT)
    if is_any(_BINARIES, data_type):
        return _base64(array)
    if pa.types.is_nested(data_type):
        return _mask_nulls(array, json_values(array))
    return array


def csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with every column converted by `csv_column`."""
    return pa.RecordBatch.from_arrays(
        [csv_column(column) for column in batch.columns], names=batch.schema.names
    )


def jsonl_rows(batch: pa.RecordBatch) -> pa.Array:
    """One JSON object plus newline per row, as a large_string array ready to be written as is."""
    return json_object(batch.schema.names, batch.columns, batch.num_rows, close="}\n")
