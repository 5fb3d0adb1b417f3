"""Logfire's SQL layer over DataFusion: the rewrites that turn Logfire SQL into plain DataFusion SQL.

DataFusion parses Postgres-style SQL but knows neither Logfire's JSON operators nor its level
helpers. sqlglot parses them (it reads `->`, `->>` and `?` the Postgres way) and this module
rewrites the tree, the way the datafusion-functions-json planner and Logfire do on the service:

- `a -> 'k'` is `json_get(a, 'k')`; compared with a literal it reads the value as that literal's
  type (`json_get_str` for text, `json_get_float` for numbers, `json_get_bool`), cast with `::`
  it becomes the typed getter (`::int` → `json_get_int`, `::float`/`::numeric` →
  `json_get_float`, `::text` → `json_get_str`, `::bool` → `json_get_bool`), as the project's
  cast rewrite does;
- `a ->> 'k'` is `json_as_text`, `a ? 'k'` is `json_contains`; chains fold into one path;
- an unnamed output column made by an operator is named as Logfire names it (`attributes ->> 'k'`);
- `level` compared with a level name (`level >= 'warn'`, `level IN ('error', 'fatal')`) compares
  with the level's number; `time_bucket('1 hour', t)` is `date_bin(INTERVAL '1 hour', t)`;
- the `value` of a `metrics` row is built from its columns (`metric_value`).

A query that needs none of this reaches DataFusion exactly as the user wrote it.
"""

from __future__ import annotations

import json

import sqlglot
from sqlglot import exp

from airflow_provider_logfire.local.functions import JSON_FUNCTIONS, PATH_MARKER, encode_path, level_number
from airflow_provider_logfire.local.metric_value import build_value_columns, names_value
from airflow_provider_logfire.local.sql_guard import DIALECT, SqlRefusedError

_OPERATORS = (exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBContainsTopKey)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)
_CAST_GETTERS = {
    "json_get_int": {exp.DataType.Type.INT, exp.DataType.Type.BIGINT, exp.DataType.Type.SMALLINT},
    "json_get_float": {
        exp.DataType.Type.FLOAT,
        exp.DataType.Type.DOUBLE,
        exp.DataType.Type.DECIMAL,
    },
    "json_get_str": {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR},
    "json_get_bool": {exp.DataType.Type.BOOLEAN},
}


def rewrite(sql: str, query: exp.Expression) -> str:
    """The SQL DataFusion runs for `query` (parsed from `sql`): `sql` itself if nothing changes.

    The tree is rewritten in place (the caller parsed it for this). A query with nothing this
    module rewrites (no JSON operator, Logfire function or `level`) is answered without
    generating any SQL, which is most of an export's cost here.
    """
    if not _needs_rewrite(query):
        return sql
    original = query.sql(dialect=DIALECT)
    rewritten = _Rewriter().query(query).sql(dialect=DIALECT)
    return sql if rewritten == original else rewritten


_FUNCTIONS = JSON_FUNCTIONS | {"level_name", "time_bucket"}


def _needs_rewrite(query: exp.Expression) -> bool:
    for node in query.walk():
        if isinstance(node, _OPERATORS):
            return True
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in _FUNCTIONS:
            return True
        if _is_level(node):
            return True
    return names_value(query)


class _Rewriter:
    def query(self, tree: exp.Expression) -> exp.Expression:
        if names_value(tree):  # scoping the whole tree costs more than the rest of the rewrite
            tree = build_value_columns(tree)
        for select in _output_selects(tree):
            select.set("expressions", [_named(e) for e in select.expressions])
        return tree.transform(self._replace, copy=False).transform(_native_text, copy=False)

    def _replace(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Cast) and isinstance(_unparen(node.this), exp.JSONExtract):
            getter = _getter_for_type(node.to)
            if getter:
                return _json_call(getter, _unparen(node.this))
        if isinstance(node, _COMPARISONS):
            return self._comparison(node)
        if isinstance(node, exp.In):
            return self._membership(node)
        if isinstance(node, (exp.Like, exp.ILike)) and isinstance(_unparen(node.this), exp.JSONExtract):
            node.set("this", _json_call("json_get_str", _unparen(node.this)))
            return node
        if isinstance(node, _OPERATORS):
            name = {exp.JSONExtract: "json_get", exp.JSONExtractScalar: "json_as_text"}.get(type(node))
            return _json_call(name or "json_contains", node)
        if isinstance(node, exp.Anonymous):
            return _function(node)
        return node

    def _comparison(self, node: exp.Binary) -> exp.Expression:
        left, right = _unparen(node.this), _unparen(node.expression)
        for side, here, other in (("this", left, right), ("expression", right, left)):
            if isinstance(here, exp.JSONExtract) and isinstance(other, (exp.Literal, exp.Boolean)):
                node.set(side, _json_call(_getter_for_literal(other), here))
                return node
            if _is_level(here) and _is_string(other):
                node.set("expression" if side == "this" else "this", _level_literal(other))
                return node
        return node

    def _membership(self, node: exp.In) -> exp.Expression:
        this, items = _unparen(node.this), node.expressions
        if isinstance(this, exp.JSONExtract) and items and all(_is_string(i) for i in items):
            node.set("this", _json_call("json_get_str", this))
        elif _is_level(this) and items and all(_is_string(i) for i in items):
            node.set("expressions", [_level_literal(i) for i in items])
        return node


# -- JSON --------------------------------------------------------------------------------------


def _is_arrow(node: exp.Expression) -> bool:
    return isinstance(node, (exp.JSONExtract, exp.JSONExtractScalar))


def _flatten(node: exp.Expression) -> tuple[exp.Expression, list[str | int | exp.Expression]]:
    """An operator chain as its base document and the whole path (`a->'x'->>'y'` → a, [x, y])."""
    path: list[str | int | exp.Expression] = []
    while _is_arrow(node) or isinstance(node, exp.JSONBContainsTopKey):
        path = _path_elements(node.expression) + path
        node = _unparen(node.this)
        if isinstance(node, exp.JSONBContainsTopKey):
            break
    return node, path


def _path_elements(node: exp.Expression) -> list[str | int | exp.Expression]:
    if isinstance(node, exp.JSONPath):
        elements: list[str | int | exp.Expression] = []
        for part in node.expressions:
            if isinstance(part, exp.JSONPathKey):
                elements.append(str(part.this))
            elif isinstance(part, exp.JSONPathSubscript):
                elements.append(int(part.this))
        return elements
    if isinstance(node, exp.Literal):
        return [node.this if node.is_string else int(node.this)]
    return [node]


def _json_call(name: str, operator: exp.Expression) -> exp.Expression:
    base, path = _flatten(operator)
    return _call(name, base, path)


def _call(name: str, base: exp.Expression, path: list[str | int | exp.Expression]) -> exp.Expression:
    document = exp.cast(base, exp.DataType.build("text")) if not _is_text_column(base) else base
    if len(path) == 1 and isinstance(path[0], str):
        key: exp.Expression = exp.Literal.string(path[0])
    elif all(isinstance(p, (str, int)) for p in path):
        key = exp.Literal.string(encode_path(path))  # type: ignore[arg-type]
    elif len(path) == 1:
        key = exp.cast(path[0], exp.DataType.build("text"))  # type: ignore[arg-type]
    else:
        raise SqlRefusedError(
            f"{name}: a JSON path mixing literals and expressions is not supported by the local server"
        )
    return exp.Anonymous(this=name, expressions=[document, key])


def _is_text_column(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column)


def _function(node: exp.Anonymous) -> exp.Expression:
    name = str(node.this).lower()
    args = list(node.expressions)
    if name in JSON_FUNCTIONS and args:
        path: list[str | int | exp.Expression] = []
        for arg in args[1:]:
            path.extend(_path_elements(arg) if isinstance(arg, exp.Literal) else [arg])
        if not path:
            return exp.Anonymous(this=name, expressions=[args[0], exp.Literal.string(encode_path([]))])
        return _call(name, args[0], path)
    if name == "level_name" and len(args) == 1:
        return exp.Anonymous(this=name, expressions=[exp.cast(args[0], exp.DataType.build("int"))])
    if name == "time_bucket" and len(args) in (2, 3):
        width = args[0]
        interval = exp.Interval(this=width) if _is_string(width) else exp.cast(width, "interval")
        return exp.Anonymous(this="date_bin", expressions=[interval, *args[1:]])
    return node


def _getter_for_type(data_type: exp.DataType) -> str | None:
    for getter, types in _CAST_GETTERS.items():
        if data_type.this in types:
            return getter
    return None


def _getter_for_literal(literal: exp.Expression) -> str:
    if isinstance(literal, exp.Boolean):
        return "json_get_bool"
    if literal.is_string:
        return "json_get_str"
    return (
        "json_get_float" if "." in str(literal.this) or "e" in str(literal.this).lower() else "json_get_int"
    )


#: Functions whose answer for a top-level string key DataFusion can compute with its own
#: string functions (in Rust), leaving the Python UDF the documents that need parsing.
_NATIVE_TEXT = frozenset({"json_as_text", "json_get_str"})
_NATIVE_TEMPLATE = """CASE
  WHEN strpos({d}, {k}) = 0 AND strpos({d}, chr(92)) = 0 THEN NULL
  WHEN strpos({d}, chr(92)) = 0
   AND length({d}) - length(replace({d}, {k}, '')) = {n}
   AND starts_with(ltrim({prefix}), '{{')
   AND strpos({prefix}, '[') = 0
   AND length({prefix}) - length(replace({prefix}, '{{', '')) = 1
   AND starts_with({rest}, ':')
   AND starts_with(ltrim(substr({rest}, 2)), '"')
   AND strpos({value}, '"') > 0
  THEN split_part({value}, '"', 1)
  ELSE {fallback}
END"""


def _native_text(node: exp.Expression) -> exp.Expression:
    """`json_as_text(column, 'key')` as DataFusion string functions where they are exact.

    The same conditions as `functions._top_level_strings`: no backslash in the document, the key
    occurring once with nothing before it that opens an object or array, and a string value.
    A document without the key (and no escape that could hide it) is NULL; every other document
    goes to the UDF. CASE evaluates the UDF only on the rows that reach its branch.
    """
    if not isinstance(node, exp.Anonymous) or node.meta.get("native") or str(node.this) not in _NATIVE_TEXT:
        return node
    document, key = node.expressions
    if not isinstance(document, exp.Column) or not _is_string(key) or key.this.startswith(PATH_MARKER):
        return node
    node.meta["native"] = True
    quoted = json.dumps(key.this, ensure_ascii=False)
    d = document.sql(dialect=DIALECT)
    k = "'" + quoted.replace("'", "''") + "'"
    rest = f"ltrim(split_part({d}, {k}, 2))"
    sql = _NATIVE_TEMPLATE.format(
        d=d,
        k=k,
        n=len(quoted),
        prefix=f"split_part({d}, {k}, 1)",
        rest=rest,
        value=f"substr(ltrim(substr({rest}, 2)), 2)",
        fallback="__fallback__",
    )
    case = sqlglot.parse_one(sql, read=DIALECT)
    for placeholder in case.find_all(exp.Column):
        if placeholder.name == "__fallback__":
            placeholder.replace(node)
            break
    return case


# -- levels ------------------------------------------------------------------------------------


def _is_level(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name.lower() == "level"


def _level_literal(literal: exp.Expression) -> exp.Expression:
    try:
        return exp.Literal.number(level_number(str(literal.this)))
    except ValueError as exc:
        raise SqlRefusedError(str(exc)) from None


# -- output names ------------------------------------------------------------------------------


def _output_selects(tree: exp.Expression) -> list[exp.Select]:
    if isinstance(tree, exp.Select):
        return [tree]
    if isinstance(tree, exp.SetOperation):
        return _output_selects(tree.this)  # the first branch names a UNION's columns
    if isinstance(tree, exp.Subquery):
        return _output_selects(tree.this)
    return []


def _named(expression: exp.Expression) -> exp.Expression:
    """An unnamed operator column, aliased the way datafusion-functions-json names it."""
    core = _unparen(expression.this) if isinstance(expression, exp.Cast) else expression
    core = _unparen(core)
    if isinstance(expression, exp.Alias) or not isinstance(core, _OPERATORS):
        return expression
    return exp.alias_(expression, _display(core), quoted=True)


def _display(node: exp.Expression) -> str:
    node = _unparen(node)
    if isinstance(node, _OPERATORS):
        symbol = {exp.JSONExtract: "->", exp.JSONExtractScalar: "->>"}.get(type(node), "?")
        right = " ".join(_literal_display(e) for e in _path_elements(node.expression))
        return f"{_display(node.this)} {symbol} {right}"
    if isinstance(node, exp.Column):
        return node.name
    return node.sql(dialect=DIALECT)


def _literal_display(element: str | int | exp.Expression) -> str:
    if isinstance(element, str):
        return f"'{element}'"
    if isinstance(element, int):
        return str(element)
    return element.sql(dialect=DIALECT)


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node
