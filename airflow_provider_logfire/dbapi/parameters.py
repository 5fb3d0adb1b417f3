"""Query parameters, rendered into the SQL text as literals, since the API takes no bind parameters.

The service (DataFusion) and the local server read standard SQL strings, in which only the quote
is special, so doubling quotes is a complete escape and a backslash is an ordinary character.
A placeholder must stand alone: one written inside quotes or glued to a word (`E%s`) is refused
rather than guessed at.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any

from airflow_provider_logfire.dbapi.exceptions import DataError, ProgrammingError

#: What `execute` accepts as parameters: a mapping for `%(name)s`, a sequence for `%s`.
Parameters = Mapping[str, Any] | Sequence[Any]

#: `%%`, `%(name)s`, `%s`, or a bare `%` (anything else after it), which is an error.
_PLACEHOLDER = re.compile(r"%(?:(?P<percent>%)|\((?P<name>[^()]*)\)s|(?P<positional>s))?")
#: Characters that must not touch a placeholder: a quote means the placeholder was quoted by
#: hand (`'%s'`), a word character glues the literal to a prefix such as `E` or `U&`, which
#: would change how the server reads the string.
_GLUE = frozenset("'\"`_$&")


def render_query(operation: str, parameters: Parameters) -> str:
    """`operation` with each placeholder replaced by the SQL literal of its parameter.

    A mapping goes with `%(name)s` placeholders (unused keys are fine), a sequence with `%s`
    (one value each). `%%` is a literal `%`; any other `%` is an error, as in other `pyformat`
    drivers. Placeholders stand alone (`WHERE x = %(v)s`, never `'%(v)s'`): the value is quoted
    here. The SQL is not parsed, so a placeholder inside a comment is still one.
    """
    if isinstance(parameters, (str, bytes, bytearray, memoryview)) or not isinstance(
        parameters, (Mapping, Sequence)
    ):
        raise ProgrammingError(
            "parameters must be a mapping (for %(name)s) or a sequence such as a tuple (for %s), "
            f"not {type(parameters).__name__}"
        )
    matches = list(_PLACEHOLDER.finditer(operation))
    named = [m for m in matches if m["name"] is not None]
    positional = [m for m in matches if m["positional"]]
    for match in matches:
        if not (match["percent"] or match["name"] is not None or match["positional"]):
            raise ProgrammingError(
                f"Unsupported '%' at position {match.start()} ({_excerpt(operation, match.start())!r}): "
                "with parameters, write %% for a literal percent sign and %(name)s or %s for a value"
            )
    if named and positional:
        raise ProgrammingError("The query mixes %(name)s and %s placeholders; use one style")
    if isinstance(parameters, Mapping):
        if positional:
            raise ProgrammingError(
                "The query uses %s placeholders but parameters is a mapping: "
                "use %(name)s placeholders, or pass a sequence"
            )
        missing = sorted({m["name"] for m in named} - set(parameters))
        if missing:
            raise ProgrammingError(f"No value given for parameter(s) {', '.join(map(repr, missing))}")
    else:
        if named:
            raise ProgrammingError(
                "The query uses %(name)s placeholders but parameters is a sequence: pass a mapping"
            )
        if len(positional) != len(parameters):
            raise ProgrammingError(
                f"The query has {len(positional)} %s placeholder(s) but {len(parameters)} "
                "parameter(s) were given"
            )

    pieces: list[str] = []
    end = 0
    values = iter(parameters) if not isinstance(parameters, Mapping) else None
    for match in matches:
        pieces.append(operation[end : match.start()])
        end = match.end()
        if match["percent"]:
            pieces.append("%")
            continue
        _check_stands_alone(operation, match)
        value = parameters[match["name"]] if values is None else next(values)  # type: ignore[index]
        pieces.append(sql_literal(value))
    pieces.append(operation[end:])
    return "".join(pieces)


def _check_stands_alone(operation: str, match: re.Match[str]) -> None:
    before = operation[match.start() - 1] if match.start() > 0 else " "
    after = operation[match.end()] if match.end() < len(operation) else " "
    if before in _GLUE or before.isalnum() or after in _GLUE or after.isalnum():
        raise ProgrammingError(
            f"The placeholder {match.group()} at position {match.start()} "
            f"({_excerpt(operation, match.start())!r}) touches a quote or a word: write it on its own, "
            "as in `WHERE message = %(m)s`, and do not quote it (its value is quoted for you)"
        )


def _excerpt(text: str, position: int, width: int = 20) -> str:
    return text[max(0, position - width) : position + width]


def sql_literal(value: Any) -> str:
    """`value` as a Logfire SQL literal that the server reads back as exactly that value.

    None → NULL; bool → TRUE/FALSE; int and Decimal → numerals (negative ones in parentheses,
    so that `10-%s` cannot become a `--` comment); float → `CAST(repr AS DOUBLE)` (a bare
    `0.1` would be a decimal to some engines); str → quoted, quotes doubled; datetime →
    `TIMESTAMP '...'` in UTC (naive = UTC); date → `DATE '...'`; time → `TIME '...'`;
    list/tuple → `(a, b, c)` for `IN`. NUL characters, unpaired surrogates, NaN and infinity
    raise DataError; bytes and other types ProgrammingError.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Integral):
        return _signed(str(int(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DataError(f"{value} cannot be a Logfire SQL parameter: only finite numbers can")
        return _signed(format(value, "f"))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise DataError(f"{number} cannot be a Logfire SQL parameter: only finite numbers can")
        return f"CAST({number!r} AS DOUBLE)"
    if isinstance(value, str):
        return _string_literal(str.__str__(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ProgrammingError("A time of day with a time zone is ambiguous: pass a datetime instead")
        return f"TIME '{value.isoformat(timespec='microseconds')}'"
    if isinstance(value, (list, tuple)):
        if not value:
            raise ProgrammingError("An empty list cannot be a parameter: `IN ()` is not valid SQL")
        if any(isinstance(item, (list, tuple)) for item in value):
            raise ProgrammingError("A list parameter must hold single values, not nested lists")
        return "(" + ", ".join(sql_literal(item) for item in value) + ")"
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise ProgrammingError(
            "bytes cannot be a parameter (engines disagree on binary literals): "
            "decode them to str, or pass their .hex()"
        )
    raise ProgrammingError(f"Unsupported parameter type {type(value).__name__}: {value!r}")


def _signed(numeral: str) -> str:
    return f"({numeral})" if numeral.startswith("-") else numeral


def _string_literal(text: str) -> str:
    if "\x00" in text:
        raise DataError("A string parameter contains a NUL character (\\x00), which SQL text cannot hold")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(
            "A string parameter contains an unpaired surrogate, which is not valid Unicode text"
        ) from None
    return "'" + text.replace("'", "''") + "'"
