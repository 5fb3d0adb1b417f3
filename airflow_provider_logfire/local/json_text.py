"""The original text of a part of a JSON document, as datafusion-functions-json returns it.

`json_as_text` (`->>`) of a number, object or array, and `json_get_json` of anything, answer on
Logfire with that part of the document exactly as it is written (its jiter parser slices the
text): `{"a": 1}` stays `{"a": 1}`, `1.50` stays `1.50`. Parsing with orjson and writing the value
again would give `{"a":1}` and `1.5`. Which value a path means stays `functions._lookup`'s
answer (a valid document, the last of duplicate keys); this module only finds where its text is.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def as_text(value: Any, document: str, path: list[str | int]) -> str | None:
    """`json_as_text`: a string unescaped, JSON null NULL, anything else its original text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or (isinstance(value, int) and value != 0):
        return _scalar_text(value)
    return original_text(document, path)


def as_json(value: Any, document: str, path: list[str | int]) -> str:
    """`json_get_json`: the original text of the value, whatever its type."""
    if value is None or isinstance(value, bool) or (isinstance(value, int) and value != 0):
        return _scalar_text(value)
    text = original_text(document, path)
    return text if text is not None else json.dumps(value, ensure_ascii=False)


def _scalar_text(value: Any) -> str:
    """JSON allows one spelling of null, true, false and a nonzero integer (no leading zeros or
    plus sign), so it needs no look at the document; zero may be written `-0`."""
    return json.dumps(value)


def original_text(document: str, path: list[str | int]) -> str | None:
    """The text of the value at `path` in `document` (valid JSON), or None if there is none."""
    try:
        start = _top_level_start(document, path)
        if start is None:
            start = _locate(document, path)
        if start is None:
            return None
        _, end = _DECODER.raw_decode(document, start)
    except (ValueError, IndexError):
        return None
    return document[start:end]


def _top_level_start(document: str, path: list[str | int]) -> int | None:
    """Where the value of a single top-level key starts, found by string search when that is
    exact: no backslash in the document (no escaped quote can hide or fake the key), the key's
    text once, and nothing before it but the document's opening brace that could open a
    container. Else None (then `_locate` walks the document)."""
    if len(path) != 1 or not isinstance(path[0], str) or "\\" in document:
        return None
    quoted = json.dumps(path[0], ensure_ascii=False)
    at = document.find(quoted)
    if at < 0 or document.find(quoted, at + 1) >= 0:
        return None
    before = document[:at]
    if before.count("{") != 1 or "[" in before or not before.lstrip().startswith("{"):
        return None
    colon = _skip(document, at + len(quoted))
    return _skip(document, colon + 1) if document[colon] == ":" else None


def _skip(document: str, index: int) -> int:
    return _SPACE.match(document, index).end()  # type: ignore[union-attr]


def _locate(document: str, path: list[str | int]) -> int | None:
    """Where the value at `path` starts; a key occurring twice means its last occurrence."""
    index = _skip(document, 0)
    for element in path:
        starts = _members(document, index, "{" if isinstance(element, str) else "[")
        if starts is None:
            return None
        if isinstance(element, str):
            found = [start for key, start in starts if key == element]
            if not found:
                return None
            index = found[-1]
        else:
            if not -len(starts) <= element < len(starts):
                return None
            index = starts[element][1]
    return index


def _members(document: str, index: int, opening: str) -> list[tuple[str | None, int]] | None:
    """(key, start of value) of each member of the object or array opening at `index`; None if
    the value there is not of that kind."""
    if document[index] != opening:
        return None
    closing = "}" if opening == "{" else "]"
    members: list[tuple[str | None, int]] = []
    index = _skip(document, index + 1)
    if document[index] == closing:
        return members
    while True:
        key = None
        if opening == "{":
            key, index = scanstring(document, index + 1)
            index = _skip(document, index)
            index = _skip(document, index + 1)  # the colon
        members.append((key, index))
        _, index = _DECODER.raw_decode(document, index)
        index = _skip(document, index)
        if document[index] == closing:
            return members
        index = _skip(document, index + 1)  # the comma
