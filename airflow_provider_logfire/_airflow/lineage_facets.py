"""The provider's own OpenLineage facet: how a Logfire query was bounded, which no standard facet says.

Imports OpenLineage at the top, so only `_airflow.lineage` imports it, when an event is built.
"""

from __future__ import annotations

import attrs
from openlineage.client.facet_v2 import RunFacet


@attrs.define
class LogfireQueryRunFacet(RunFacet):
    """The window and filters a Logfire query ran with (sent as `min_timestamp`/`max_timestamp`).

    Under the key `logfireQuery` of the run's facets; `row_count` is the query operator's result rows.
    """

    min_timestamp: str
    max_timestamp: str
    environment: list[str] | None = attrs.field(default=None)
    timezone: str | None = attrs.field(default=None)
    row_count: int | None = attrs.field(default=None)
