"""Imports that moved between Airflow 3.0 and 3.x, resolved once."""

from __future__ import annotations

from typing import Any

# The Task SDK's operator bases exist on every Airflow 3; the legacy `airflow.models.BaseOperator`
# would import Airflow's ORM while a DAG file is parsed.
from airflow.sdk import BaseOperator, BaseSensorOperator

try:
    from airflow.sdk import BaseHook
except ImportError:  # pragma: no cover - Airflow 3.0: BaseHook joined the Task SDK in 3.1
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]

try:
    from airflow.sdk.bases.operatorlink import BaseOperatorLink
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.models.baseoperatorlink import BaseOperatorLink  # type: ignore[no-redef]

try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )

try:
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.configuration import conf  # type: ignore[no-redef]


def xcom_backend() -> Any:
    """The task SDK's XCom class (the configured backend), imported only when a link is read."""
    try:
        from airflow.sdk.execution_time.xcom import XCom
    except ImportError:  # pragma: no cover - Airflow 3.0
        from airflow.models.xcom import XCom  # type: ignore[no-redef]
    return XCom


def default_deferrable() -> bool:
    """`[operators] default_deferrable`, the switch Airflow users expect deferrable operators to honour."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)


__all__ = [
    "AirflowException",
    "AirflowFailException",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "conf",
    "default_deferrable",
    "xcom_backend",
]
