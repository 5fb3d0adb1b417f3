"""Time and place of the demo traffic: the day/night curve, the chunks it is generated in,
and the resource columns (service, pod, version, environment) every row carries.

Shared by `records` and `metrics`, whose rows must agree on all of it. All times are integer
microseconds since the Unix epoch.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa

from airflow_provider_logfire.local.demo.traces import (
    ENVIRONMENTS,
    NAMESPACE,
    POD_SUFFIXES,
    SDK,
    SERVICES,
    Service,
)

SECOND = 1_000_000  # all times are integer microseconds since the Unix epoch
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

#: Upper bound on the records generated and inserted at once; keeps memory flat for any size.
MAX_CHUNK_ROWS = 50_000
#: Ways to cut a day into whole-minute chunks, so that per-minute metrics never straddle two.
_DAY_SPLITS = tuple(parts for parts in range(1, 24 * 60 + 1) if 24 * 60 % parts == 0)

# --------------------------------------------------------------------------------------------
# Time: the traffic curve and the chunks
# --------------------------------------------------------------------------------------------


def traffic(times_us: np.ndarray) -> np.ndarray:
    """Relative request rate at each time: quiet around 04:00 UTC (0.15), busiest at 16:00 (1.0)."""
    hours = (times_us % DAY) / HOUR
    return 0.15 + 0.85 * ((1.0 - np.cos(2.0 * np.pi * (hours - 4.0) / 24.0)) / 2.0) ** 2


def _grid(start: int, end: int) -> np.ndarray:
    """Edges of the minute grid over `[start, end)`, including both ends."""
    inner = np.arange((start // MINUTE + 1) * MINUTE, end, MINUTE, dtype=np.int64)
    return np.concatenate(([start], inner, [end])).astype(np.float64)


def _minute_traffic(start: int, end: int) -> np.ndarray:
    """Expected traffic in each minute (the last one maybe partial) of `[start, end)`."""
    edges = _grid(start, end)
    return traffic((edges[:-1] + edges[1:]) / 2.0) * np.diff(edges)


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder, integer arithmetic)."""
    scaled = [max(1, round(w)) for w in weights]
    whole = sum(scaled)
    shares = [total * w // whole for w in scaled]
    remainders = sorted(range(len(scaled)), key=lambda i: (-(total * scaled[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    rows: int


def _day_rows(rows_per_day: int, length: int) -> int:
    """Records in a day of `length` microseconds: a partial day gets its share by elapsed time."""
    return rows_per_day if length == DAY else rows_per_day * length // DAY


def chunks(start: int, end: int, rows_per_day: int) -> Iterator[Chunk]:
    """Minute-aligned pieces of `[start, end)` with their exact record counts, in time order.

    Each day gets its count (see `_day_rows`), spread by the traffic curve over the fewest equal
    pieces that keep every piece within `MAX_CHUNK_ROWS` records.
    """
    for day_start in range(start, end, DAY):
        day_end = min(day_start + DAY, end)
        rows = _day_rows(rows_per_day, day_end - day_start)
        minute_traffic = _minute_traffic(day_start, day_end)
        for parts in _DAY_SPLITS:
            minutes = DAY // MINUTE // parts
            piece_traffic = np.add.reduceat(minute_traffic, np.arange(0, len(minute_traffic), minutes))
            counts = _apportion(rows, piece_traffic.tolist())
            if max(counts) <= MAX_CHUNK_ROWS:
                break
        for index, count in enumerate(counts):
            piece_start = day_start + index * minutes * MINUTE
            yield Chunk(piece_start, min(piece_start + minutes * MINUTE, day_end), count)


def sample_times(rng: np.random.Generator, start: int, end: int, count: int) -> np.ndarray:
    """`count` times in `[start, end)` drawn from the traffic curve (inverse CDF on the minute grid)."""
    cdf = np.concatenate(([0.0], np.cumsum(_minute_traffic(start, end))))
    times = np.floor(np.interp(rng.random(count) * cdf[-1], cdf, _grid(start, end))).astype(np.int64)
    return np.clip(times, start, end - 1)


# --------------------------------------------------------------------------------------------
# Resources: which pod, version and environment sent a row
# --------------------------------------------------------------------------------------------

#: Pods of a service in each environment, one per `POD_SUFFIXES` entry.
INSTANCES_PER_SERVICE = len(POD_SUFFIXES)


def _version(service: Service, day: int, environment: str | None) -> str:
    """Semantic version on `day`; staging already runs the next release."""
    release = day // service.release_every_days + (1 if environment == "staging" else 0)
    return f"{service.major}.{release // 10 % 100}.{release % 10}"


_RESOURCE_TYPES = {
    "service_name": pa.string(),
    "service_version": pa.string(),
    "service_instance_id": pa.string(),
    "process_pid": pa.int32(),
    "deployment_environment": pa.string(),
    "otel_resource_attributes": pa.string(),
}


@functools.lru_cache(maxsize=8)
def resource_columns(day: int, *, with_instances: bool) -> dict[str, pa.Array]:
    """Resource columns for every (service, environment[, pod]) on `day`, in `resource_index` order.

    Metrics are reported per service, not per pod, so theirs carry no instance id or pid.
    """
    columns: dict[str, list[object]] = {name: [] for name in _RESOURCE_TYPES}
    for service_index, service in enumerate(SERVICES):
        for environment in ENVIRONMENTS:
            for pod in range(INSTANCES_PER_SERVICE if with_instances else 1):
                version = _version(service, day, environment)
                instance_id = (
                    f"{service.name}-{service.pod_hash}-{POD_SUFFIXES[pod]}" if with_instances else None
                )
                pid = 7 + 31 * pod + service_index if with_instances else None
                resource = {
                    "service.name": service.name,
                    "service.version": version,
                    "service.namespace": NAMESPACE,
                    "service.instance.id": instance_id,
                    "process.pid": pid,
                    "deployment.environment.name": environment,
                    "telemetry.sdk.name": SDK[0],
                    "telemetry.sdk.language": SDK[1],
                    "telemetry.sdk.version": SDK[2],
                }
                row = (service.name, version, instance_id, pid, environment, _json_without_nulls(resource))
                for name, value in zip(_RESOURCE_TYPES, row, strict=True):
                    columns[name].append(value)
    return {name: pa.array(values, _RESOURCE_TYPES[name]) for name, values in columns.items()}


def _json_without_nulls(values: Mapping[str, object]) -> str:
    return json.dumps({key: value for key, value in values.items() if value is not None})


def resource_index(
    service: np.ndarray, environment: np.ndarray, instance: np.ndarray | None = None
) -> np.ndarray:
    index = service * len(ENVIRONMENTS) + environment
    if instance is None:
        return index
    return index * INSTANCES_PER_SERVICE + instance


TIMESTAMP = pa.timestamp("us", tz="UTC")


def lookup(values: Mapping[str, pa.Array], index: np.ndarray) -> dict[str, pa.Array]:
    """Row `i` of each column is `values[index[i]]`, as a dictionary array: nothing is copied."""
    indices = pa.array(index.astype(np.int32))
    return {name: pa.DictionaryArray.from_arrays(indices, column) for name, column in values.items()}
