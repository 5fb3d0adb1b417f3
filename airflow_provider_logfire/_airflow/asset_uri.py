"""The `logfire` asset URI scheme: a table of a Logfire project as an Airflow asset.

`logfire://<host>/<organization>/<project>/<table>`, e.g.
`logfire://logfire-us.pydantic.dev/acme/shop/records`. Registered under `asset-uris` in the
provider info, so that Airflow checks such URIs and OpenLineage turns them into the dataset
`(namespace="logfire://<host>/<organization>/<project>", name="<table>")`, the same dataset the
operators report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

if TYPE_CHECKING:
    from airflow.sdk import Asset

SCHEME = "logfire"


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI check for the scheme: a host and a table are required."""
    if not uri.netloc:
        raise ValueError(
            f"A {SCHEME}:// asset URI needs the API host: {SCHEME}://<host>/<org>/<project>/<table>"
        )
    if not uri.path.strip("/"):
        raise ValueError(f"A {SCHEME}:// asset URI needs a table: {SCHEME}://<host>/<org>/<project>/<table>")
    return uri._replace(path="/" + uri.path.strip("/"))


def create_asset(*, namespace: str, table: str, extra: dict[str, Any] | None = None) -> Asset:
    """The asset of `table` in a project's namespace (`LogfireProject.namespace`)."""
    from airflow.sdk import Asset

    return Asset(uri=f"{namespace.rstrip('/')}/{table}", extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """The OpenLineage dataset of a `logfire://` asset: the table is the name, the rest the namespace."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    project_path, _, table = parts.path.strip("/").rpartition("/")
    namespace = f"{parts.scheme}://{parts.netloc}" + (f"/{project_path}" if project_path else "")
    return Dataset(namespace=namespace, name=table)
