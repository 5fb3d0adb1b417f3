"""Families of Arrow types that the writers treat alike (every string or list flavour)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

TypeCheck = Callable[[pa.DataType], bool]

STRINGS: tuple[TypeCheck, ...] = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
VARIABLE_BINARIES: tuple[TypeCheck, ...] = (
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_binary_view,
)
LISTS: tuple[TypeCheck, ...] = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
)


def is_any(checks: tuple[TypeCheck, ...], data_type: pa.DataType) -> bool:
    """Whether `data_type` belongs to the family `checks` describes."""
    return any(check(data_type) for check in checks)
