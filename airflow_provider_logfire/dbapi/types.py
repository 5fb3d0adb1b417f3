"""PEP 249's type objects and constructors, over the Arrow types that results arrive in.

A cursor's `description` carries each column's `pyarrow.DataType` as its type code; the type
objects here compare equal to every type code of their family. pyarrow is imported only when a
comparison needs it, so that importing `dbapi` stays cheap.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone


class DBAPITypeObject:
    """A PEP 249 type object: equal to each type code (a `pyarrow.DataType`) of its family."""

    def __init__(self, name: str, *predicates: str) -> None:
        self.name = name
        self._predicates = predicates  # names of `pyarrow.types` functions

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        import pyarrow as pa
        import pyarrow.types

        if not isinstance(other, pa.DataType):
            return False
        return any(
            (check := getattr(pyarrow.types, name, None)) is not None and check(other)
            for name in self._predicates
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"dbapi.{self.name}"


STRING = DBAPITypeObject("STRING", "is_string", "is_large_string", "is_string_view")
NUMBER = DBAPITypeObject("NUMBER", "is_integer", "is_floating", "is_decimal")
DATETIME = DBAPITypeObject("DATETIME", "is_temporal")
BINARY = DBAPITypeObject("BINARY", "is_binary", "is_large_binary", "is_fixed_size_binary", "is_binary_view")
#: Logfire has no row ids: no type code equals ROWID.
ROWID = DBAPITypeObject("ROWID")

Date = date
Time = time
Timestamp = datetime
Binary = bytes


def DateFromTicks(ticks: float) -> date:
    """The UTC date of a POSIX timestamp (UTC, because every time in Logfire is UTC)."""
    return datetime.fromtimestamp(ticks, timezone.utc).date()


def TimeFromTicks(ticks: float) -> time:
    """The UTC time of day of a POSIX timestamp."""
    return datetime.fromtimestamp(ticks, timezone.utc).time()


def TimestampFromTicks(ticks: float) -> datetime:
    """An aware UTC datetime: unambiguous wherever the code runs."""
    return datetime.fromtimestamp(ticks, timezone.utc)
