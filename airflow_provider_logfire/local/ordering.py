"""What in a query depends on the order rows are scanned in, so the engine knows what it may skip
or spread over threads.

**A sort the stored order already gives.**
An export asks for each piece of its window as `SELECT * FROM (<query>) WHERE <piece> ORDER BY
start_timestamp`. The stored rows are sorted by that column and each session scans them as one
partition, in order (see `engine.LocalEngine._session`), so the sort DataFusion would run (a copy
of every column of the page, ~10 ms of CPU for 10,000 rows) puts nothing in a different place. The
service has its own reasons to sort; here, when the query is a plain chain of filters and column
picks over `records` ending in that one ascending key, the answer is the same without it.

Only that shape qualifies; anything that could reorder rows between the scan and the answer
(a join, a subquery in a filter, grouping, DISTINCT, a window function, a CTE, a set operation,
an inner LIMIT, an alias that could take the column's name) keeps its ORDER BY. Rows with equal
times come in their stored order, which a sort does not promise either.

**A scan that only needs the window's first rows.** `SELECT * FROM records` under the API's limit
reads the first rows of the window in stored order, so its session is given only those.

**An aggregation whose answer cannot depend on row order.** The scan is one partition so that a
page without ORDER BY is the same on every request; an aggregation then runs its first phase on
one core. `SELECT attributes->>'http.route', count(*) FROM records GROUP BY 1` spends nearly
all its time there (evaluating the group key over every row). When every aggregate in the query
gives the same answer however the rows are dealt out (count, min, max, approx_distinct,
bool_and/or, bit_and/or/xor: not a float sum, whose last bits depend on the order of additions,
not array_agg or first_value, and not a t-digest percentile), the scan may be split across the
session's threads. The groups of an aggregation already come out in no fixed order.
"""

from __future__ import annotations

import functools

import sqlglot
import sqlglot.errors
from sqlglot import exp
from sqlglot.tokens import TokenType

from airflow_provider_logfire.local.sql_guard import DIALECT
from airflow_provider_logfire.local.tables import RECORDS

#: What a query level may hold: the outermost may also order, limit and skip.
_INNER_PARTS = frozenset({"expressions", "from_", "where"})
_OUTER_PARTS = _INNER_PARTS | {"order", "limit", "offset"}
_TIME_COLUMN = RECORDS.time_column


def without_stored_order(query: exp.Expression, sql: str) -> str | None:
    """`sql` (the text of `query`) without its ORDER BY if that is `ORDER BY start_timestamp` over
    `records` in stored order and nothing between can reorder rows; None when it must stay.

    The clause is cut out of the text, which is otherwise left exactly as written: SQL generated
    from sqlglot's tree would be sqlglot's Postgres, not always DataFusion's (`to_char` formats).
    The caller must know the session's `records` rows are in time order (one sorted run).
    """
    if not isinstance(query, exp.Select) or not _ascending_time_key(query.args.get("order")):
        return None
    if not _plain(query, _OUTER_PARTS):
        return None
    return _cut_outer_order_by(sql)


def _cut_outer_order_by(sql: str) -> str | None:
    """`sql` without its last ORDER BY outside parentheses (up to LIMIT, OFFSET or the end)."""
    try:
        tokens = sqlglot.tokenize(sql, read=DIALECT)
    except sqlglot.errors.TokenError:
        return None
    depth, found = 0, None
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and token.token_type == TokenType.ORDER_BY:
            found = index
    if found is None:
        return None
    start = tokens[found].start
    end = next((t.start for t in tokens[found + 1 :] if t.token_type in _AFTER_ORDER), len(sql))
    return sql[:start] + sql[end:]


#: What may follow an ORDER BY of one plain column (whose key holds no parenthesis).
_AFTER_ORDER = frozenset({TokenType.LIMIT, TokenType.OFFSET, TokenType.FETCH, TokenType.SEMICOLON})


def _ascending_time_key(order: exp.Order | None) -> bool:
    if order is None or len(order.expressions) != 1:
        return False
    key = order.expressions[0]
    # NULLS FIRST or LAST: the same, since the column is never NULL in `records`.
    return (
        isinstance(key, exp.Ordered)
        and not key.args.get("desc")
        and isinstance(key.this, exp.Column)
        and key.this.name == _TIME_COLUMN
    )


def _plain(select: exp.Expression, allowed: frozenset[str]) -> bool:
    """Whether `select` only filters and picks columns of `records` (or of such a subquery)."""
    if not isinstance(select, exp.Select):
        return False
    if any(value for key, value in select.args.items() if key not in allowed):
        return False
    if not all(_picked_column(e) for e in select.expressions):
        return False
    where = select.args.get("where")
    if where is not None and where.find(exp.Query, exp.Subquery, exp.Exists):
        return False
    source = select.args.get("from_")
    if source is None:
        return False
    source = source.this
    if isinstance(source, exp.Subquery):
        return _only_alias(source) and _plain(source.this, _INNER_PARTS)
    return _records(source)


def _picked_column(expression: exp.Expression) -> bool:
    """`*`, `t.*` or a column as it is: no alias (one could take the time column's name)."""
    return isinstance(expression, (exp.Star, exp.Column))


def _only_alias(source: exp.Expression) -> bool:
    return not any(value for key, value in source.args.items() if key not in {"this", "alias"})


def _records(source: exp.Expression) -> bool:
    return (
        isinstance(source, exp.Table)
        and not source.args.get("db")
        and not source.args.get("catalog")
        and source.name.lower() == RECORDS.name
        and _only_alias(source)
    )


def leading_rows(query: exp.Expression, limit: int, *, ordered: bool = True) -> int | None:
    """How many rows of `records`, from the start of the window, answer `query` under `limit`:
    for a plain scan (`SELECT *` or columns, no filter, no order, no OFFSET) the first rows are
    the answer, so the session needs no others; None for any other query.

    A page (`SELECT * FROM records` with `limit=10000` over a day) then hands DataFusion one
    10,000-row slice instead of every stored chunk of the day. `ordered=False` says the query's
    ORDER BY is being left out (see `without_stored_order`).
    """
    if not isinstance(query, exp.Select) or query.args.get("where"):
        return None
    if ordered and query.args.get("order"):
        return None
    if not _plain(query, _INNER_PARTS | {"limit", "order"}) or not isinstance(
        query.args["from_"].this, exp.Table
    ):
        return None
    written = query.args.get("limit")
    if written is None:
        return limit
    count = written.expression
    if not isinstance(count, exp.Literal) or count.is_string or not str(count.this).isdigit():
        return None
    return min(limit, int(count.this))


#: Aggregates whose result is the same whatever order, or split, their input rows come in.
_ORDER_FREE = (exp.Count, exp.Min, exp.Max, exp.ApproxDistinct, exp.LogicalAnd, exp.LogicalOr)
_ORDER_FREE_NAMES = frozenset(
    {"count", "min", "max", "approx_distinct", "bool_and", "bool_or", "bit_and", "bit_or", "bit_xor"}
)


def order_free_aggregation(query: exp.Expression) -> bool:
    """Whether `query` is one aggregation over one table whose answer is the same however the
    scanned rows are split among threads (see the module's docstring)."""
    if not isinstance(query, exp.Select) or query.args.get("joins") or query.args.get("with_"):
        return False
    source = query.args.get("from_")
    if source is None or not isinstance(source.this, exp.Table):
        return False
    aggregated = bool(query.args.get("group"))
    for node in query.walk():
        if node is not query and isinstance(node, (exp.Query, exp.Subquery, exp.Window, exp.Exists)):
            return False
        if isinstance(node, exp.AggFunc):
            if not isinstance(node, _ORDER_FREE):
                return False
            aggregated = True
        elif isinstance(node, exp.Anonymous) and str(node.this).lower() in _aggregate_names():
            if str(node.this).lower() not in _ORDER_FREE_NAMES:
                return False
            aggregated = True
    return aggregated


@functools.cache
def _aggregate_names() -> frozenset[str]:
    """DataFusion's aggregate and window functions, by name (as its information schema lists them)."""
    from datafusion import SessionConfig, SessionContext

    ctx = SessionContext(SessionConfig().with_information_schema(True))
    rows = ctx.sql(
        "SELECT DISTINCT routine_name FROM information_schema.routines WHERE function_type <> 'SCALAR'"
    ).to_pylist()
    return frozenset(row["routine_name"].lower() for row in rows)
