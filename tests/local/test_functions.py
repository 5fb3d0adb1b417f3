"""The JSON functions' fast paths answer exactly what parsing every document would."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from airflow_provider_logfire.local import functions

DOCUMENTS = [
    '{"a": 1, "b": "x"}',
    None,
    "not json",
    "",
    '{"a": {"c": [1, 2]}}',
    '{"b": "y", "a": "str"}',
    '{"x": {"a": "nested"}, "a": "top"}',
    '{"x": {"a": "only nested"}}',
    '{"a": null}',
    "[1, 2]",
    '{"b": "a", "a": "v"}',
    '{"n": 1.5e3, "ok": true, "a": "/orders/{id}"}',
    '{"a": "one", "a": "two"}',
    '{"a":"tight"}',
    '{"a": "x", "b": {"a": "y"}}',
    '{"a": "\\u00e9t\\u00e9"}',
    '{"\\u0061": "escaped key"}',
    '{"a": "é ü"}',
    '{"a": ""}',
    '{"a": true}',
    '{"a": [1, "two"]}',
    '{"list": ["a", {"a": 1}]}',
    '  {"a": "leading space"}',
]
KEYS = ["a", "b", "missing", "n"]
CONVERTERS = {
    "json_as_text": (functions._as_text, pa.string(), None),
    "json_get_str": (functions._as_str, pa.string(), None),
    "json_get_int": (functions._as_int, pa.int64(), None),
    "json_get_float": (functions._as_float, pa.float64(), None),
    "json_get": (functions._as_value, pa.string(), None),
    "json_contains": (functions._contains, pa.bool_(), False),
    "json_object_keys": (functions._keys, pa.list_(pa.string()), None),
}


#: Without a backslash anywhere, the RE2 fast path runs; with one, every candidate is parsed.
CORPORA = {"all": DOCUMENTS, "no-backslash": [d for d in DOCUMENTS if d is None or chr(92) not in d]}


@pytest.mark.parametrize("corpus", list(CORPORA))
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", list(CONVERTERS))
def test_vectorised_answers_equal_parsing_each_document(name: str, key: str, corpus: str) -> None:
    convert, return_type, absent = CONVERTERS[name]
    documents = CORPORA[corpus]
    got = functions._per_distinct_document(
        pa.array(documents, pa.string()), [key], convert, return_type, absent
    )
    expected = [None if doc is None else functions._answer(convert, doc, [key]) for doc in documents]
    assert got.to_pylist() == expected


def test_the_regex_path_answers_the_flat_documents() -> None:
    matched, strings = functions._top_level_strings(pa.array(DOCUMENTS[:14], pa.string()), "a")
    answered = [s for m, s in zip(matched.to_pylist(), strings.to_pylist(), strict=True) if m]
    assert answered == ["str", "/orders/{id}", "tight"]


def test_paths_of_keys_and_indices() -> None:
    docs = pa.array(['{"a": [10, {"b": "deep"}]}', '{"a": []}', None])
    path = json.loads(functions.encode_path(["a", 1, "b"])[len(functions.PATH_MARKER) :])
    got = functions._per_distinct_document(docs, path, functions._as_str, pa.string(), None)
    assert got.to_pylist() == ["deep", None, None]
    last = functions._per_distinct_document(docs, ["a", -2], functions._as_int, pa.int64(), None)
    assert last.to_pylist() == [10, None, None]


#: Documents written as a person (or another SDK) might: spacing, number spellings, escapes.
WRITTEN = '{"n": 1.50, "big": 1e3, "zero": -0, "i": 42, "t": true, "nil": null, "s": "\\u00e9",\n "o": { "k" : [1,  2] }, "d": 1, "d": {"x": 2.0}}'


@pytest.mark.parametrize(
    ("path", "as_text", "as_json"),
    [
        (["n"], "1.50", "1.50"),
        (["big"], "1e3", "1e3"),
        (["zero"], "-0", "-0"),
        (["i"], "42", "42"),
        (["t"], "true", "true"),
        (["nil"], None, "null"),
        (["s"], "é", '"\\u00e9"'),
        (["o"], '{ "k" : [1,  2] }', '{ "k" : [1,  2] }'),
        (["o", "k"], "[1,  2]", "[1,  2]"),
        (["o", "k", -1], "2", "2"),
        (["d"], '{"x": 2.0}', '{"x": 2.0}'),  # the last of duplicate keys, as the value lookup reads it
        (["d", "x"], "2.0", "2.0"),
        (["missing"], None, None),
        ([], WRITTEN, WRITTEN),  # the whole object is its text too
    ],
)
def test_json_text_is_the_documents_own_text(path: list, as_text: str | None, as_json: str | None) -> None:
    """datafusion-functions-json slices the document (jiter): `json_as_text` of anything but a
    string, and `json_get_json` of anything, is that part of the text as written."""
    documents = pa.array([WRITTEN, None])
    got_text = functions._per_distinct_document(documents, path, functions._as_text, pa.string(), None)
    got_json = functions._per_distinct_document(documents, path, functions._as_json, pa.string(), None)
    assert got_text.to_pylist() == [as_text, None]
    assert got_json.to_pylist() == [as_json, None]


#: Without a backslash a single top-level key is found by string search (`json_text`).
FLAT = '{"n": 1.50, "o": { "k" : [1,  2] }, "t": "a{b", "after": 2.50, "e": 1E+2}'


@pytest.mark.parametrize(
    ("key", "text"),
    [("n", "1.50"), ("o", '{ "k" : [1,  2] }'), ("t", "a{b"), ("after", "2.50"), ("e", "1E+2")],
)
def test_json_as_text_of_a_flat_document(key: str, text: str) -> None:
    got = functions._per_distinct_document(pa.array([FLAT]), [key], functions._as_text, pa.string(), None)
    assert got.to_pylist() == [text]


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if d is not None] + [WRITTEN, FLAT])
def test_the_string_search_and_the_walk_find_the_same_text(document: str) -> None:
    from airflow_provider_logfire.local import json_text

    for key in ["a", "b", "n", "o", "e", "after", "list", "x"]:
        value = functions._lookup(document, [key])
        walked = json_text.original_text(document, [key]) if value is not functions._MISSING else None
        searched = json_text._top_level_start(document, [key])
        if value is functions._MISSING:
            continue
        assert walked is not None and json.loads(walked) == value, (document, key)
        if searched is not None:  # when the search answers, it is where the walk ends up
            assert searched == json_text._locate(document, [key]), (document, key)


@pytest.mark.parametrize(("name", "number"), [("warn", 13), ("WARNING", 13), ("error", 17), (" info ", 9)])
def test_level_names(name: str, number: int) -> None:
    assert functions.level_number(name) == number


def test_an_unknown_level_name_says_which_exist() -> None:
    with pytest.raises(ValueError, match="Invalid level name 'loud'; expected one of trace, debug, info"):
        functions.level_number("loud")


@pytest.mark.parametrize("corpus", list(CORPORA))
@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT attributes->>'{key}' AS v FROM records",
        "SELECT json_get_str(attributes, '{key}') AS v FROM records",
    ],
)
def test_the_rewritten_sql_answers_as_parsing_would(corpus: str, key: str, sql: str) -> None:
    """The SQL-level fast path (DataFusion string functions in a CASE) agrees with parsing."""
    from datetime import datetime, timezone

    from airflow_provider_logfire.local.engine import LocalEngine

    documents = CORPORA[corpus]
    start = datetime(2026, 11, 27, tzinfo=timezone.utc)
    rows = pa.table(
        {"start_timestamp": [start] * len(documents), "attributes": pa.array(documents, pa.string())}
    )
    convert = functions._as_text if "->>" in sql else functions._as_str
    with LocalEngine() as engine:
        engine.insert_arrow("records", rows)
        with engine.query(sql.format(key=key), limit=10_000) as result:
            got = [v for batch in result for v in batch.column(0).to_pylist()]
    assert got == [None if doc is None else functions._answer(convert, doc, [key]) for doc in documents]
