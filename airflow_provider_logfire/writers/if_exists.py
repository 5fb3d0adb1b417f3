"""What an export does when its destination already exists: one policy, checked in one place.

Pure (no pyarrow, no fsspec), so an operator can reject a typo at DAG-parse time.
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
