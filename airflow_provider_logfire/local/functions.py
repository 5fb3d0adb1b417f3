"""Logfire's SQL functions on top of DataFusion: the json_* family and the level helpers.

The JSON functions follow the contract of the datafusion-functions-json project, which Logfire
uses: `json_get_str(json, *path)` and friends, where each path element is an object key (text) or
an array index (integer), and a value of the wrong JSON type gives NULL rather than an error.
Invalid JSON gives NULL too (`json_contains`: false).

Why the path is one argument here: a Python UDF has a fixed signature, so `dialect.rewrite`
folds the path into a single encoded literal (`encode_path`); a plain two-argument call with a
key, as users write it, needs no encoding.

Why it is fast enough: every function works on whole Arrow arrays. For a path starting with a
key, documents whose text cannot contain it (no `"key"` and no backslash escape) are answered
in Arrow without parsing; the others are parsed by orjson, each distinct text once per batch,
and their results scattered back into place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from datafusion import SessionContext, udf

from airflow_provider_logfire.local import json_text
from airflow_provider_logfire.local.metric_functions import register_metric_functions

#: Marks an encoded path (see `encode_path`); no real key starts with a unit separator.
PATH_MARKER = "\x1fpath:"

#: Logfire's level numbers (OpenTelemetry severity numbers), by name.
LEVELS = {"trace": 1, "debug": 5, "info": 9, "notice": 10, "warn": 13, "error": 17, "fatal": 21}
#: Names `level_num` and level comparisons also accept.
LEVEL_ALIASES = {"warning": "warn"}

_MISSING = object()


def encode_path(elements: list[str | int]) -> str:
    """One text literal standing for a JSON path of keys and indices."""
    return PATH_MARKER + json.dumps(elements)


def level_number(name: str) -> int:
    """The number of a level name (case-insensitive); ValueError naming the valid ones if unknown."""
    key = name.strip().lower()
    key = LEVEL_ALIASES.get(key, key)
    if key not in LEVELS:
        raise ValueError(f"Invalid level name {name!r}; expected one of {', '.join(LEVELS)}")
    return LEVELS[key]


def register_functions(ctx: SessionContext) -> None:
    """Make Logfire's functions callable in `ctx`."""
    for function in _UDFS:
        ctx.register_udf(function)
    register_metric_functions(ctx)


# -- JSON --------------------------------------------------------------------------------------


def _decode_path(text: str | None) -> list[str | int] | None:
    if text is None:
        return None
    if text.startswith(PATH_MARKER):
        return json.loads(text[len(PATH_MARKER) :])
    return [text]


def _lookup(document: str, path: list[str | int]) -> Any:
    try:
        value = orjson.loads(document)
    except orjson.JSONDecodeError:
        return _MISSING
    if len(path) == 1 and type(value) is dict and isinstance(path[0], str):
        return value.get(path[0], _MISSING)  # the common case, `attributes->>'key'`
    for element in path:
        if isinstance(value, dict) and isinstance(element, str):
            value = value.get(element, _MISSING)
        elif isinstance(value, list) and isinstance(element, int) and not isinstance(element, bool):
            value = value[element] if -len(value) <= element < len(value) else _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _may_contain(documents: pa.Array, key: str) -> pa.Array:
    """Per document: could it hold `key` at all? False only when its text proves it cannot.

    A key can hide behind an escape (`"\\u0061"` is `"a"`), so a document with a backslash is
    always a candidate; whether any document has one is asked of the whole buffer at once.
    """
    quoted = json.dumps(key, ensure_ascii=False)
    found = pc.not_equal(pc.find_substring(documents, quoted), -1)
    if _has_backslash(documents):
        found = pc.or_(found, pc.match_substring(documents, "\\"))
    return pc.fill_null(found, False)


def _has_backslash(documents: pa.Array) -> bool:
    _, offsets, data = documents.buffers()
    if data is None or len(documents) == 0:
        return False
    bounds = np.frombuffer(offsets, dtype=np.int32, count=len(documents) + 1, offset=4 * documents.offset)
    start, stop = int(bounds[0]), int(bounds[-1])
    return bool(np.any(np.frombuffer(data, dtype=np.uint8, count=stop - start, offset=start) == 0x5C))


def _top_level_strings(documents: pa.Array, key: str) -> tuple[pa.Array, pa.Array]:
    """The string value of a top-level `key`, found with Arrow string kernels; a mask says where.

    For documents without a backslash (the caller checks) it is exact where it answers: the key
    occurs once, nothing before it opens an object or array (so it is at the top level), and its
    value is a string. Other documents (a nested value first, a number, a repeated key) are left
    to the parser. Plain substring kernels, no regular expression: nothing to compile per batch.
    """
    text = json.dumps(key, ensure_ascii=False)
    matched = pc.fill_null(pc.equal(pc.count_substring(documents, text), 1), False)
    strings = pa.nulls(len(documents), pa.string())
    if not pc.any(matched).as_py():
        return matched, strings
    once = pc.filter(documents, matched)
    parts = pc.split_pattern(once, text, max_splits=1)
    prefix, rest = pc.list_element(parts, 0), pc.list_element(parts, 1)
    top = pc.and_(
        pc.starts_with(pc.utf8_ltrim_whitespace(prefix), "{"),
        pc.and_(pc.equal(pc.count_substring(prefix, "{"), 1), pc.equal(pc.count_substring(prefix, "["), 0)),
    )
    after = pc.utf8_ltrim_whitespace(rest)
    value_start = pc.utf8_ltrim_whitespace(pc.utf8_slice_codeunits(after, 1))
    is_string = pc.and_(pc.starts_with(after, ":"), pc.starts_with(value_start, '"'))
    pieces = pc.split_pattern(pc.utf8_slice_codeunits(value_start, 1), '"', max_splits=1)
    closed = pc.equal(pc.list_value_length(pieces), 2)
    answered = pc.fill_null(pc.and_(top, pc.and_(is_string, closed)), False)
    values = pc.if_else(answered, pc.list_element(pieces, 0), pa.scalar(None, pa.string()))
    return _scatter(pa.array([False] * len(documents)), matched, answered), _scatter(strings, matched, values)


def _scatter(base: pa.Array, mask: pa.Array, values: pa.Array) -> pa.Array:
    """`base` with the rows where `mask` is true replaced, in order, by `values`."""
    if len(values) == 0:
        return base
    if not pa.types.is_nested(base.type):
        return pc.replace_with_mask(base, mask, values)
    found = iter(values.to_pylist())  # no replace_with_mask kernel for lists
    return pa.array(
        [next(found) if keep else old for keep, old in zip(mask.to_pylist(), base.to_pylist(), strict=True)],
        base.type,
    )


def _json_udf(
    name: str, convert: Callable[[Any], Any], return_type: pa.DataType, *, absent: Any = None
) -> Any:
    """A UDF `name(json, path)` applying `convert` to the value at the path of each document.

    `convert` gets the value (or `_MISSING`) and returns the result; `absent` is the result for a
    document that cannot hold the path (used to skip parsing).
    """

    def evaluate(documents: pa.Array, paths: pa.Array) -> pa.Array:
        documents = _plain_strings(documents)
        distinct_paths = pc.unique(paths)
        if len(distinct_paths) == 1:
            path = _decode_path(distinct_paths[0].as_py())
            if path is None:
                return pa.nulls(len(documents), return_type)
            return _per_distinct_document(documents, path, convert, return_type, absent)
        results = [
            None if doc is None or p is None else _answer(convert, doc, _decode_path(p) or [])
            for doc, p in zip(documents.to_pylist(), paths.to_pylist(), strict=True)
        ]
        return pa.array(results, return_type)

    return udf(evaluate, [pa.string(), pa.string()], return_type, "immutable", name)


def _per_distinct_document(
    documents: pa.Array,
    path: list[str | int],
    convert: Callable[[Any], Any],
    return_type: pa.DataType,
    absent: Any,
) -> pa.Array:
    """`convert(value at path)` for each document, with as little Python per row as possible.

    For a path starting with a key, a C++ substring scan first rules out the documents whose
    text cannot hold that key. For a single key read as text, RE2 answers the documents where
    the key is a top-level string (see `_top_level_strings`). Only the rest reach orjson, each
    distinct text parsed once; results are scattered back into place with Arrow.
    """
    key = path[0] if path and isinstance(path[0], str) else None
    candidates = pc.is_valid(documents) if key is None else _may_contain(documents, key)
    filtered = pc.filter(documents, candidates)
    answers = pa.nulls(len(filtered), return_type)
    to_parse = pc.is_valid(filtered)
    if key is not None and len(path) == 1 and convert in _FROM_STRING and not _has_backslash(filtered):
        matched, strings = _top_level_strings(filtered, key)
        answers = pc.if_else(matched, _FROM_STRING[convert](strings).cast(return_type), answers)
        to_parse = pc.invert(matched)
    seen: dict[str, Any] = {}
    parsed = []
    for text in pc.filter(filtered, to_parse).to_pylist():
        result = seen.get(text, _MISSING)
        if result is _MISSING:
            result = seen[text] = _answer(convert, text, path)
        parsed.append(result)
    answers = _scatter(answers, to_parse, pa.array(parsed, return_type))
    base = pa.nulls(len(documents), return_type)
    if absent is not None:
        base = pc.if_else(pc.is_valid(documents), pa.scalar(absent, return_type), base)
    return _scatter(base, candidates, answers)


def _plain_strings(array: pa.Array) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == pa.string() else array.cast(pa.string())


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _answer(convert: Callable[[Any], Any], document: str, path: list[str | int]) -> Any:
    """`convert` of the value at `path`; for `json_as_text` and `json_get_json`, whose answer is
    the value's original text in the document (as datafusion-functions-json slices it), that text."""
    value = _lookup(document, path)
    from_document = _FROM_DOCUMENT.get(convert)
    if from_document is None or value is _MISSING:
        return convert(value)
    return from_document(value, document, path)


def _as_text(value: Any) -> str | None:
    if value is _MISSING or value is None:
        return None
    return value if isinstance(value, str) else _json_text(value)


def _as_json(value: Any) -> str | None:
    return None if value is _MISSING else _json_text(value)


def _as_value(value: Any) -> str | None:
    """What a bare `->` gives locally: the value as JSON text, NULL when missing or JSON null."""
    return None if value is _MISSING or value is None else _json_text(value)


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, (list, dict)) else None


def _keys(value: Any) -> list[str] | None:
    return list(value) if isinstance(value, dict) else None


def _items(value: Any) -> list[str] | None:
    return [_json_text(item) for item in value] if isinstance(value, list) else None


def _contains(value: Any) -> bool:
    return value is not _MISSING


#: Converters whose answer for a string value can be computed in Arrow, from the string itself.
_FROM_STRING: dict[Callable[[Any], Any], Callable[[pa.Array], pa.Array]] = {
    _as_text: lambda strings: strings,
    _as_str: lambda strings: strings,
    _contains: lambda strings: pc.is_valid(strings),
}


# -- levels ------------------------------------------------------------------------------------

#: Level names by number, each number taking the name of the highest level at or below it.
_NAME_OF = [None] + [
    max((n for n in LEVELS.items() if n[1] <= i), key=lambda n: n[1])[0] for i in range(1, 25)
]


def _level_name(levels: pa.Array) -> pa.Array:
    values = levels.to_pylist()
    return pa.array(
        [_NAME_OF[v] if v is not None and 0 <= v < len(_NAME_OF) else None for v in values], pa.string()
    )


def _level_num(names: pa.Array) -> pa.Array:
    return pa.array([None if n is None else level_number(n) for n in names.to_pylist()], pa.int32())


_UDFS = (
    _json_udf("json_get", _as_value, pa.string()),
    _json_udf("json_get_str", _as_str, pa.string()),
    _json_udf("json_get_int", _as_int, pa.int64()),
    _json_udf("json_get_float", _as_float, pa.float64()),
    _json_udf("json_get_bool", _as_bool, pa.bool_()),
    _json_udf("json_get_json", _as_json, pa.string()),
    _json_udf("json_get_array", _items, pa.list_(pa.string())),
    _json_udf("json_as_text", _as_text, pa.string()),
    _json_udf("json_contains", _contains, pa.bool_(), absent=False),
    _json_udf("json_length", _length, pa.int64()),
    _json_udf("json_object_keys", _keys, pa.list_(pa.string())),
    udf(_level_name, [pa.int32()], pa.string(), "immutable", "level_name"),
    udf(_level_num, [pa.string()], pa.int32(), "immutable", "level_num"),
)

_FROM_DOCUMENT: dict[Callable[[Any], Any], Callable[[Any, str, list[str | int]], Any]] = {
    _as_text: json_text.as_text,
    _as_json: json_text.as_json,
}

#: Names of the JSON functions, whose path arguments `dialect.rewrite` encodes.
JSON_FUNCTIONS = frozenset(
    {
        "json_get",
        "json_get_str",
        "json_get_int",
        "json_get_float",
        "json_get_bool",
        "json_get_json",
        "json_get_array",
        "json_as_text",
        "json_contains",
        "json_length",
        "json_object_keys",
    }
)
