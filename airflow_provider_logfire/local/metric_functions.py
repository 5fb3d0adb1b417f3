"""Logfire's `metric_*` functions over the `value` of a `metrics` row, on whole Arrow arrays.

Logfire's dashboard-query guide ("Working with metrics") documents a `value` column that unifies
a data point of any instrument type, and functions over it: per row `metric_avg`, `metric_sum`,
`metric_count`, `metric_min`, `metric_max`; aggregates `metric_quantile(p, value)`,
`metric_increase(value, recorded_timestamp)`, `metric_rate(value, recorded_timestamp)` and
`metric_merge(value)`. The guide names what each computes, not how; what this module does where
it is silent is the local server's choice, listed in the dialect guide:

- `value` is a struct of the row's own columns (`VALUE_FIELDS`; `metric_value` builds it in the
  SQL) plus `series`, the identity of its time series (metric name, attributes and resource);
- a quantile spreads each histogram bucket's observations evenly between its bounds (clamped
  to the smallest and largest observation), as the guide's bucket-unpacking recipe does, and
  interpolates linearly between neighbouring observations; gauges and sums are their readings;
- an increase adds up delta points; a cumulative series adds its rises from one point to the
  next, a fall or a new start time being a reset after which the new value is the rise; a rate
  is the increase per second of the time the points cover.

Per-row functions are Arrow compute kernels; an aggregate keeps the value structs its group
receives and computes once, with numpy over all of them, when DataFusion asks for the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datafusion import Accumulator, SessionContext, udaf, udf

from airflow_provider_logfire.local.tables import METRICS

#: The `metrics` columns a `value` holds, in order; `series` follows them.
VALUE_FIELDS = (
    "metric_type",
    "aggregation_temporality",
    "start_timestamp",
    "recorded_timestamp",
    "scalar_value",
    "histogram_count",
    "histogram_sum",
    "histogram_min",
    "histogram_max",
    "histogram_bucket_counts",
    "histogram_explicit_bounds",
    "exp_histogram_scale",
    "exp_histogram_zero_count",
    "exp_histogram_zero_threshold",
    "exp_histogram_positive_bucket_counts",
    "exp_histogram_positive_bucket_counts_offset",
    "exp_histogram_negative_bucket_counts",
    "exp_histogram_negative_bucket_counts_offset",
)
SERIES = "series"
#: The functions that tell one time series from another (reading `series`).
SERIES_FUNCTIONS = frozenset({"metric_increase", "metric_rate", "metric_merge"})
VALUE_TYPE = pa.struct(
    [pa.field(name, METRICS.column(name).arrow_type) for name in VALUE_FIELDS]
    + [pa.field(SERIES, pa.string())]
)
_HISTOGRAMS = ("histogram", "exponential_histogram", "summary")
_TIMESTAMP = METRICS.column("recorded_timestamp").arrow_type


class MetricFunctionError(ValueError):
    """A metric function cannot answer for its input (e.g. histograms of different flavours)."""


def register_metric_functions(ctx: SessionContext) -> None:
    """Make the `metric_*` functions callable in `ctx`."""
    for function in _SCALARS:
        ctx.register_udf(function)
    for aggregate in _AGGREGATES:
        ctx.register_udaf(aggregate)


# -- per row ------------------------------------------------------------------------------------


def _is_histogram(value: pa.StructArray) -> pa.Array:
    return pc.fill_null(pc.is_in(value.field("metric_type"), pa.array(_HISTOGRAMS)), False)


def _count(value: pa.StructArray) -> pa.Array:
    """Observations in each point: a histogram's count, one reading for a gauge or sum."""
    readings = pc.if_else(pc.is_valid(value.field("scalar_value")), 1, None).cast(pa.int64())
    return pc.if_else(_is_histogram(value), value.field("histogram_count").cast(pa.int64()), readings)


def _sum(value: pa.StructArray) -> pa.Array:
    return pc.if_else(_is_histogram(value), value.field("histogram_sum"), value.field("scalar_value"))


def _avg(value: pa.StructArray) -> pa.Array:
    count = _count(value).cast(pa.float64())
    mean = pc.divide(value.field("histogram_sum"), pc.if_else(pc.equal(count, 0.0), None, count))
    return pc.if_else(_is_histogram(value), mean, value.field("scalar_value"))


def _extreme(name: str) -> Callable[[pa.StructArray], pa.Array]:
    def extreme(value: pa.StructArray) -> pa.Array:
        return pc.if_else(_is_histogram(value), value.field(name), value.field("scalar_value"))

    return extreme


def _scalar(name: str, compute: Callable[[pa.StructArray], pa.Array], result: pa.DataType) -> object:
    def evaluate(value: pa.Array) -> pa.Array:
        return compute(_struct(value)).cast(result)

    return udf(evaluate, [VALUE_TYPE], result, "immutable", name)


def _struct(value: pa.Array | pa.ChunkedArray) -> pa.StructArray:
    if isinstance(value, pa.ChunkedArray):
        value = pa.concat_arrays(value.chunks) if value.num_chunks else pa.array([], VALUE_TYPE)
    return value  # type: ignore[return-value]


_SCALARS = (
    _scalar("metric_count", _count, pa.int64()),
    _scalar("metric_sum", _sum, pa.float64()),
    _scalar("metric_avg", _avg, pa.float64()),
    _scalar("metric_min", _extreme("histogram_min"), pa.float64()),
    _scalar("metric_max", _extreme("histogram_max"), pa.float64()),
)


# -- aggregates: what a group received ------------------------------------------------------------


class _Collected(Accumulator):
    """Keeps the `value` structs (and times) of a group; `result` computes over all of them."""

    def __init__(self) -> None:
        self._values: list[pa.Array] = []
        self._times: list[pa.Array] = []
        self._parameter: float | None = None

    def update(self, *arrays: pa.Array) -> None:
        *parameter, values, times = self._arguments(arrays)
        if parameter and self._parameter is None and len(parameter[0]):
            self._parameter = parameter[0][0].as_py()
        self._values.append(_struct(values))
        self._times.append(times.cast(_TIMESTAMP))

    def _arguments(self, arrays: tuple[pa.Array, ...]) -> tuple[pa.Array, ...]:
        """(parameter?, value, time): aggregates without a time argument use the recorded one."""
        return arrays

    def state(self) -> list[pa.Scalar]:
        values = pa.concat_arrays(self._values) if self._values else pa.array([], VALUE_TYPE)
        times = pa.concat_arrays(self._times) if self._times else pa.array([], _TIMESTAMP)
        return [_one_list(values), _one_list(times), pa.scalar(self._parameter, pa.float64())]

    def merge(self, states: list[pa.Array]) -> None:
        values, times, parameters = states
        self._values.append(pc.list_flatten(values).cast(VALUE_TYPE))
        self._times.append(pc.list_flatten(times).cast(_TIMESTAMP))
        if self._parameter is None:
            given = pc.drop_null(parameters)
            self._parameter = given[0].as_py() if len(given) else None

    def evaluate(self) -> pa.Scalar:
        values = pa.concat_arrays(self._values) if self._values else pa.array([], VALUE_TYPE)
        times = pa.concat_arrays(self._times) if self._times else pa.array([], _TIMESTAMP)
        return self.result(values, times)

    def result(self, values: pa.StructArray, times: pa.Array) -> pa.Scalar:
        raise NotImplementedError


def _one_list(items: pa.Array) -> pa.Scalar:
    """`items` as one list scalar, without converting a row to Python."""
    return pa.ListArray.from_arrays(pa.array([0, len(items)], pa.int32()), items)[0]


_STATE = [pa.list_(VALUE_TYPE), pa.list_(_TIMESTAMP), pa.float64()]


def _aggregate(
    name: str, accumulator: type[_Collected], inputs: list[pa.DataType], result: pa.DataType
) -> object:
    return udaf(accumulator, inputs, result, _STATE, "immutable", name)


# -- metric_quantile ------------------------------------------------------------------------------


class _Quantile(_Collected):
    def _arguments(self, arrays: tuple[pa.Array, ...]) -> tuple[pa.Array, ...]:
        quantile, values = arrays
        return quantile, values, _struct(values).field("recorded_timestamp")

    def result(self, values: pa.StructArray, times: pa.Array) -> pa.Scalar:
        p = self._parameter
        if p is None or not 0.0 <= p <= 1.0:
            if not len(values):
                return pa.scalar(None, pa.float64())
            raise MetricFunctionError(f"metric_quantile: the quantile must be between 0 and 1, got {p!r}")
        return pa.scalar(quantile(p, values), pa.float64())


def _flavour(function: str, values: pa.StructArray, *, readings_mix: bool) -> str | None:
    """The one metric type of a group (gauges and sums count as one when `readings_mix`)."""
    kinds = set(pc.unique(pc.drop_null(values.field("metric_type"))).to_pylist())
    found = {("scalar" if readings_mix and kind in ("gauge", "sum") else kind) for kind in kinds}
    if len(found) > 1:
        raise MetricFunctionError(
            f"{function}: every row of a group must be the same kind of metric, got "
            + ", ".join(sorted(kinds))
            + " (filter on metric_type or group by it)"
        )
    return found.pop() if found else None


def quantile(p: float, values: pa.StructArray) -> float | None:
    """The `p` quantile of the observations behind `values` (one flavour of metric)."""
    flavour = _flavour("metric_quantile", values, readings_mix=True)
    if flavour is None:
        return None
    if flavour == "scalar":
        readings = pc.drop_null(values.field("scalar_value")).to_numpy(zero_copy_only=False)
        return float(np.quantile(readings, p)) if len(readings) else None
    if flavour == "histogram":
        segments = _explicit_segments(values)
    elif flavour == "exponential_histogram":
        segments = _exponential_segments(values)
    else:
        raise MetricFunctionError(f"metric_quantile: {flavour} points hold no distribution")
    return _segment_quantile(p, *segments)


def _bounds(values: pa.StructArray) -> tuple[float, float]:
    low = pc.min(values.field("histogram_min")).as_py()
    high = pc.max(values.field("histogram_max")).as_py()
    return (-np.inf if low is None else low), (np.inf if high is None else high)


def _explicit_segments(values: pa.StructArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, count) of the group's merged explicit buckets; all rows share the bounds."""
    counts_list = values.field("histogram_bucket_counts")
    bounds_list = values.field("histogram_explicit_bounds")
    valid = pc.and_(pc.is_valid(counts_list), pc.is_valid(bounds_list))
    counts_list, bounds_list = counts_list.filter(valid), bounds_list.filter(valid)
    if not len(counts_list):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    widths = pc.list_value_length(bounds_list).to_numpy(zero_copy_only=False)
    lengths = pc.list_value_length(counts_list).to_numpy(zero_copy_only=False)
    rows, width = len(widths), int(widths[0])
    bounds = pc.list_flatten(bounds_list).to_numpy(zero_copy_only=False).astype(float)
    if (widths != width).any() or (lengths != width + 1).any():
        raise MetricFunctionError("metric_quantile: the histograms of a group must share their bucket bounds")
    bounds = bounds.reshape(rows, width)
    if not (bounds == bounds[0]).all():
        raise MetricFunctionError("metric_quantile: the histograms of a group must share their bucket bounds")
    counts = pc.list_flatten(counts_list).to_numpy(zero_copy_only=False).astype(float)
    counts = counts.reshape(rows, width + 1).sum(axis=0)
    low, high = _bounds(values)
    lower = np.concatenate([[-np.inf], bounds[0]])
    upper = np.concatenate([bounds[0], [np.inf]])
    # The open-ended buckets end at the smallest and largest observation when those are known.
    lower[0] = low if np.isfinite(low) else upper[0]
    upper[-1] = high if np.isfinite(high) else lower[-1]
    lower, upper = np.clip(lower, low, high), np.clip(upper, low, high)
    return np.nan_to_num(lower), np.nan_to_num(upper), counts


class _ExponentialBuckets:
    """A group's exponential histogram buckets, merged at the group's coarsest scale."""

    def __init__(self, values: pa.StructArray) -> None:
        values = values.filter(pc.is_valid(values.field("exp_histogram_scale")))
        self.values = values
        self.scales = values.field("exp_histogram_scale").to_numpy(zero_copy_only=False).astype(np.int64)
        self.scale = int(self.scales.min()) if len(self.scales) else 0
        self.positive = self._merged(
            "exp_histogram_positive_bucket_counts", "exp_histogram_positive_bucket_counts_offset"
        )
        self.negative = self._merged(
            "exp_histogram_negative_bucket_counts", "exp_histogram_negative_bucket_counts_offset"
        )
        self.zero_count = int(pc.sum(pc.fill_null(values.field("exp_histogram_zero_count"), 0)).as_py() or 0)

    def _merged(self, counts_name: str, offset_name: str) -> tuple[np.ndarray, np.ndarray]:
        """(bucket index, count) of every non-empty bucket, indices at `self.scale`."""
        counts_list = self.values.field(counts_name)
        lengths = pc.fill_null(pc.list_value_length(counts_list), 0).to_numpy(zero_copy_only=False)
        counts = pc.fill_null(pc.list_flatten(counts_list), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        offsets = (
            pc.fill_null(self.values.field(offset_name), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        )
        row = np.repeat(np.arange(len(lengths)), lengths)
        position = np.arange(len(counts)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        index = np.right_shift(offsets[row] + position, self.scales[row] - self.scale)  # floor: coarser
        merged, inverse = np.unique(index, return_inverse=True)
        totals = np.bincount(inverse, weights=counts, minlength=len(merged)).astype(np.int64)
        return merged[totals > 0], totals[totals > 0]

    @staticmethod
    def dense(buckets: tuple[np.ndarray, np.ndarray]) -> tuple[list[int], int]:
        """(counts from the first to the last non-empty bucket, index of the first)."""
        index, counts = buckets
        if not len(index):
            return [], 0
        dense = np.zeros(int(index.max() - index.min()) + 1, dtype=np.int64)
        dense[index - index.min()] = counts
        return dense.tolist(), int(index.min())


def _exponential_segments(values: pa.StructArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, count) of the group's exponential buckets, merged at the coarsest scale."""
    merged = _ExponentialBuckets(values)
    if not len(merged.values):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    base = 2.0 ** (2.0**-merged.scale)
    low, high = _bounds(merged.values)
    positive, positive_counts = merged.positive
    negative, negative_counts = merged.negative
    zero = float(merged.zero_count)
    negative, negative_counts = negative[::-1], negative_counts[::-1]  # most negative first
    lower = np.concatenate([-(base ** (negative + 1.0)), [0.0], base**positive])
    upper = np.concatenate([-(base**negative), [0.0], base ** (positive + 1.0)])
    counts = np.concatenate([negative_counts, [zero], positive_counts])
    return np.clip(lower, low, high), np.clip(upper, low, high), counts


def _segment_quantile(p: float, lower: np.ndarray, upper: np.ndarray, counts: np.ndarray) -> float | None:
    """The `p` quantile of observations spread evenly over each segment (one in the middle of a
    segment holding one), interpolated linearly between neighbouring observations."""
    keep = counts > 0
    lower, upper, counts = lower[keep], upper[keep], counts[keep]
    total = counts.sum()
    if total <= 0:
        return None
    rank = p * (total - 1)
    below = np.floor(rank)
    ends = np.cumsum(counts)

    def observation(k: float) -> float:
        segment = int(np.searchsorted(ends, k, side="right"))
        segment = min(segment, len(counts) - 1)
        i = k - (ends[segment] - counts[segment])
        n = counts[segment]
        if n <= 1:
            return float((lower[segment] + upper[segment]) / 2)
        return float(lower[segment] + i * (upper[segment] - lower[segment]) / (n - 1))

    first = observation(below)
    if rank == below:
        return first
    return first + (rank - below) * (observation(below + 1) - first)


# -- metric_increase and metric_rate ---------------------------------------------------------------


def _counter_parts(values: pa.StructArray, times: pa.Array) -> tuple[float, float]:
    """(increase of the delta points, increase per second of the delta points) plus the same
    for the cumulative series: returned as the group's (increase, rate)."""
    reading = pc.coalesce(values.field("scalar_value"), values.field("histogram_count").cast(pa.float64()))
    keep = pc.and_(pc.is_valid(reading), pc.is_valid(times))
    values, reading, times = values.filter(keep), reading.filter(keep), times.filter(keep)
    if not len(values):
        return float("nan"), float("nan")
    amount = reading.to_numpy(zero_copy_only=False).astype(float)
    at = times.cast(pa.int64()).to_numpy(zero_copy_only=False)
    started = pc.fill_null(values.field("start_timestamp").cast(pa.int64()), -1).to_numpy(
        zero_copy_only=False
    )
    delta = pc.fill_null(pc.equal(values.field("aggregation_temporality"), "delta"), False).to_numpy(
        zero_copy_only=False
    )

    increase, rate = 0.0, 0.0
    if delta.any():
        covered_from = np.where(started[delta] >= 0, started[delta], at[delta]).min()
        seconds = (at[delta].max() - covered_from) / 1e6
        increase += amount[delta].sum()
        rate += amount[delta].sum() / seconds if seconds > 0 else float("nan")
    cumulative = ~delta
    if cumulative.any():
        series = pc.fill_null(values.field(SERIES), "").filter(pa.array(cumulative))
        codes = pc.dictionary_encode(series).indices.to_numpy(zero_copy_only=False)
        order = np.lexsort((at[cumulative], codes))
        code, value, when, start = (
            codes[order],
            amount[cumulative][order],
            at[cumulative][order],
            started[cumulative][order],
        )
        same = code[1:] == code[:-1]
        rise = value[1:] - value[:-1]
        reset = (rise < 0) | (start[1:] != start[:-1])
        step = np.where(same, np.where(reset, value[1:], rise), 0.0)
        per_series = np.bincount(code[1:], weights=step, minlength=code.max() + 1)
        first = np.full(code.max() + 1, np.iinfo(np.int64).max)
        last = np.full(code.max() + 1, np.iinfo(np.int64).min)
        np.minimum.at(first, code, when)
        np.maximum.at(last, code, when)
        seconds = (last - first) / 1e6
        spanned = seconds > 0
        increase += per_series.sum()
        rate += (per_series[spanned] / seconds[spanned]).sum() if spanned.any() else float("nan")
    return increase, rate


class _Increase(_Collected):
    def result(self, values: pa.StructArray, times: pa.Array) -> pa.Scalar:
        increase, _ = _counter_parts(values, times)
        return pa.scalar(None if np.isnan(increase) else increase, pa.float64())


class _Rate(_Collected):
    def result(self, values: pa.StructArray, times: pa.Array) -> pa.Scalar:
        _, rate = _counter_parts(values, times)
        return pa.scalar(None if np.isnan(rate) else rate, pa.float64())


# -- metric_merge ------------------------------------------------------------------------------------


class _Merge(_Collected):
    def _arguments(self, arrays: tuple[pa.Array, ...]) -> tuple[pa.Array, ...]:
        (values,) = arrays
        return values, _struct(values).field("recorded_timestamp")

    def result(self, values: pa.StructArray, times: pa.Array) -> pa.Scalar:
        return pa.scalar(merge(values), VALUE_TYPE)


def merge(values: pa.StructArray) -> dict[str, object] | None:
    """The group's points folded into one `value`: histograms add up their observations
    (exponential ones at the coarsest scale), delta sums their amounts; a gauge or cumulative
    sum is its latest reading, per series, added up over the series."""
    flavour = _flavour("metric_merge", values, readings_mix=False)
    if flavour is None:
        return None

    def common(name: str) -> object:
        distinct = pc.unique(values.field(name))
        return distinct[0].as_py() if len(distinct) == 1 else None

    merged: dict[str, object] = {name: None for name in VALUE_TYPE.names}
    merged.update(
        metric_type=flavour,
        aggregation_temporality=common("aggregation_temporality"),
        start_timestamp=pc.min(values.field("start_timestamp")).as_py(),
        recorded_timestamp=pc.max(values.field("recorded_timestamp")).as_py(),
        series=common(SERIES),
    )
    if flavour in _HISTOGRAMS:
        merged.update(
            histogram_count=pc.sum(values.field("histogram_count")).as_py(),
            histogram_sum=pc.sum(values.field("histogram_sum")).as_py(),
            histogram_min=pc.min(values.field("histogram_min")).as_py(),
            histogram_max=pc.max(values.field("histogram_max")).as_py(),
        )
    if flavour == "histogram":
        _, _, counts = _explicit_segments(values)  # checks that the rows share their bounds
        bounds = values.field("histogram_explicit_bounds").filter(
            pc.is_valid(values.field("histogram_bucket_counts"))
        )
        if len(counts):
            merged["histogram_bucket_counts"] = counts.astype(np.int64).tolist()
            merged["histogram_explicit_bounds"] = pc.drop_null(bounds)[0].as_py()
    elif flavour == "exponential_histogram":
        buckets = _ExponentialBuckets(values)
        positive, positive_offset = buckets.dense(buckets.positive)
        negative, negative_offset = buckets.dense(buckets.negative)
        merged.update(
            exp_histogram_scale=buckets.scale,
            exp_histogram_zero_count=buckets.zero_count,
            exp_histogram_zero_threshold=pc.max(values.field("exp_histogram_zero_threshold")).as_py(),
            exp_histogram_positive_bucket_counts=positive,
            exp_histogram_positive_bucket_counts_offset=positive_offset,
            exp_histogram_negative_bucket_counts=negative,
            exp_histogram_negative_bucket_counts_offset=negative_offset,
        )
    elif flavour in ("gauge", "sum"):
        merged["scalar_value"] = _merged_reading(values)
    return merged


def _merged_reading(values: pa.StructArray) -> float | None:
    readings = values.filter(pc.is_valid(values.field("scalar_value")))
    if not len(readings):
        return None
    amount = readings.field("scalar_value").to_numpy(zero_copy_only=False).astype(float)
    delta = pc.fill_null(pc.equal(readings.field("aggregation_temporality"), "delta"), False)
    delta = delta.to_numpy(zero_copy_only=False) & pc.equal(readings.field("metric_type"), "sum").to_numpy(
        zero_copy_only=False
    )
    total = amount[delta].sum() if delta.any() else 0.0
    if (~delta).any():  # the latest reading of each series
        latest = readings.filter(pa.array(~delta))
        codes = pc.dictionary_encode(pc.fill_null(latest.field(SERIES), "")).indices.to_numpy(
            zero_copy_only=False
        )
        at = latest.field("recorded_timestamp").cast(pa.int64()).to_numpy(zero_copy_only=False)
        order = np.lexsort((at, codes))
        last_of_series = np.r_[codes[order][1:] != codes[order][:-1], True]
        total += amount[~delta][order][last_of_series].sum()
    return float(total)


_AGGREGATES = (
    _aggregate("metric_quantile", _Quantile, [pa.float64(), VALUE_TYPE], pa.float64()),
    _aggregate("metric_increase", _Increase, [VALUE_TYPE, _TIMESTAMP], pa.float64()),
    _aggregate("metric_rate", _Rate, [VALUE_TYPE, _TIMESTAMP], pa.float64()),
    _aggregate("metric_merge", _Merge, [VALUE_TYPE], VALUE_TYPE),
)
