"""The `value` column of `metrics`, as Logfire's guides use it: built in the SQL where it is named.

Logfire's dashboard-query guide ("Working with metrics") describes `value` as one struct that
unifies a data point of any instrument type, read by the `metric_*` functions
(`metric_functions`). The local server stores the flat columns only, as the service's recorded
`/v1/schemas` lists them; a query naming `value` (`value` or `m.value` on a `metrics` source) gets
it as a `named_struct` of that row's columns, which DataFusion computes for the rows it reads.
`SELECT *` keeps listing the stored columns.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from airflow_provider_logfire.local.metric_functions import SERIES, SERIES_FUNCTIONS, VALUE_FIELDS
from airflow_provider_logfire.local.sql_guard import DIALECT

_VALUE = "value"
_METRICS = frozenset({"metrics"})
#: Tables known to have no `value` column: an unqualified `value` next to them is the metrics one.
_WITHOUT_VALUE = frozenset({"records", "records_all"})


def names_value(query: exp.Expression) -> bool:
    """Whether `query` may use the `value` of `metrics` (cheap: a column named `value` and the
    table `metrics` both appear)."""
    has_column = any(c.name.lower() == _VALUE for c in query.find_all(exp.Column))
    return has_column and any(t.name.lower() in _METRICS for t in query.find_all(exp.Table))


def build_value_columns(query: exp.Expression) -> exp.Expression:
    """`query` with each `value` of a `metrics` source replaced by the struct it stands for.

    An unnamed output column that held `value` keeps the name it was written with
    (`metric_avg(value)`), not that of the struct expression.
    """
    with_series = any(
        isinstance(f, exp.Anonymous) and str(f.this).lower() in SERIES_FUNCTIONS
        for f in query.find_all(exp.Anonymous)
    )
    replacements: list[tuple[exp.Column, exp.Expression]] = []
    try:
        for scope in traverse_scope(query):
            replacements.extend(_scope_replacements(scope, with_series))
    except SqlglotError:  # a shape sqlglot cannot scope: DataFusion's own error will say more
        return query
    if not replacements:
        return query
    named = {id(column) for column, _ in replacements}
    for scope in traverse_scope(query):
        if isinstance(scope.expression, exp.Select):
            _keep_output_names(scope.expression, named)
    for column, struct in replacements:
        column.replace(struct)
    return query


def _passes_table(source: exp.Table | Scope, names: frozenset[str]) -> bool:
    """One of the tables `names`, or a CTE or subquery passing all of its columns on
    (`SELECT * FROM metrics WHERE ...`, as the query operator's window prefix writes it)."""
    if isinstance(source, exp.Table):
        return source.name.lower() in names and not source.db
    select = source.expression
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return False
    star = select.expressions[0]
    if not (isinstance(star, exp.Star) or (isinstance(star, exp.Column) and isinstance(star.this, exp.Star))):
        return False
    inner = list(source.sources.values())
    return len(inner) == 1 and _passes_table(inner[0], names)


def _scope_replacements(scope: Scope, with_series: bool) -> list[tuple[exp.Column, exp.Expression]]:
    metrics = {alias: source for alias, source in scope.sources.items() if _passes_table(source, _METRICS)}
    if not metrics:
        return []
    others = [
        source
        for alias, source in scope.sources.items()
        if alias not in metrics and not _passes_table(source, _WITHOUT_VALUE)
    ]
    select = scope.expression if isinstance(scope.expression, exp.Select) else None
    aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)} if select else set()
    found = []
    for column in scope.columns:
        if column.name.lower() != _VALUE:
            continue
        if column.table:
            if column.table in metrics:
                found.append((column, _struct(column.table, with_series)))
            continue
        if len(metrics) != 1 or others:
            continue  # which source's `value` is meant is not ours to guess
        if _VALUE in aliases and not _inside_output(column, select):
            continue  # `ORDER BY value` next to `... AS value` means the output column
        (alias,) = metrics
        found.append((column, _struct(alias if len(scope.sources) > 1 else None, with_series)))
    return found


def _inside_output(column: exp.Column, select: exp.Select | None) -> bool:
    node: exp.Expression | None = column
    while node is not None and node.parent is not select:
        node = node.parent
    return node is not None and node.arg_key == "expressions"


def _struct(table: str | None, with_series: bool) -> exp.Expression:
    """`named_struct(...)` of the row's value columns and its series identity (NULL unless a
    function of the query reads it: building it costs a string per row)."""
    arguments: list[exp.Expression] = []
    for name in VALUE_FIELDS:
        arguments += [exp.Literal.string(name), exp.column(name, table=table)]
    series = exp.func(
        "concat_ws",
        exp.Literal.string("|"),
        exp.column("metric_name", table=table),
        exp.func("coalesce", exp.column("attributes", table=table), exp.Literal.string("")),
        exp.func("coalesce", exp.column("otel_resource_attributes", table=table), exp.Literal.string("")),
    )
    # Utf8, as the functions' signature has it (a cast to text could be Utf8View).
    typed = exp.func("arrow_cast", series if with_series else exp.null(), exp.Literal.string("Utf8"))
    arguments += [exp.Literal.string(SERIES), typed]
    return exp.Anonymous(this="named_struct", expressions=arguments)


def _keep_output_names(select: exp.Select, replaced: set[int]) -> None:
    outputs = []
    for expression in select.expressions:
        if isinstance(expression, (exp.Alias, exp.Star)) or not any(
            id(c) in replaced for c in expression.find_all(exp.Column)
        ):
            outputs.append(expression)
            continue
        name = (
            expression.name
            if isinstance(expression, exp.Column)
            else expression.sql(dialect=DIALECT, normalize_functions=False)
        )
        outputs.append(exp.alias_(expression, name, quoted=True, copy=False))
    select.set("expressions", outputs)
