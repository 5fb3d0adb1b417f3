"""What an export does when its destination already exists, or when its window has no rows.

Each policy is checked in one place. Pure (no pyarrow, no fsspec), so an operator can reject a
typo at DAG-parse time.
"""

from __future__ import annotations

from typing import Literal, cast

from airflow_provider_logfire.exceptions import LogfireConfigError

IfExists = Literal["replace", "skip", "fail"]
#: `replace` overwrites, `skip` keeps the existing file and writes nothing, `fail` raises.
IF_EXISTS_CHOICES: tuple[str, ...] = ("replace", "skip", "fail")


def check_if_exists(if_exists: str) -> IfExists:
    """`if_exists` if it is a known policy; otherwise a `ValueError` that lists the choices."""
    if if_exists not in IF_EXISTS_CHOICES:
        raise LogfireConfigError(
            f"unknown if_exists {if_exists!r}; valid choices: {', '.join(IF_EXISTS_CHOICES)}"
        )
    return cast(IfExists, if_exists)


OnEmpty = Literal["write", "skip", "fail"]
#: `write` a file with the query's columns and no rows, `skip` writing anything, or `fail`.
ON_EMPTY_CHOICES: tuple[str, ...] = ("write", "skip", "fail")


def check_on_empty(on_empty: str) -> OnEmpty:
    """`on_empty` if it is a known policy; otherwise a `ValueError` that lists the choices."""
    if on_empty not in ON_EMPTY_CHOICES:
        raise LogfireConfigError(
            f"unknown on_empty {on_empty!r}; valid choices: {', '.join(ON_EMPTY_CHOICES)}"
        )
    return cast(OnEmpty, on_empty)
