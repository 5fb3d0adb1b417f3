"""The SQL guard: exactly one read-only query passes; anything else is refused by name."""

from __future__ import annotations

import pytest

from airflow_provider_logfire.local.sql_guard import SqlRefusedError, parse_query


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select 1;",
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
        "VALUES (1), (2)",
        "SELECT 1 UNION ALL SELECT 2",
        "(SELECT 1)",
        "SELECT 1 -- a trailing comment",
        "/* leading */ SELECT 1",
        "SELECT attributes->>'http.route' FROM records WHERE attributes ? 'http.route'",
    ],
)
def test_single_queries_pass(sql: str) -> None:
    assert parse_query(sql) is not None


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("COPY (SELECT 1) TO '/tmp/out.csv'", "COPY"),
        ("COPY records TO '/tmp/out.parquet' STORED AS PARQUET", "COPY"),
        ("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'", "CREATE"),
        ("CREATE TABLE t (a INTEGER)", "CREATE"),
        ("CREATE VIEW v AS SELECT 1", "CREATE"),
        ("DROP TABLE records", "DROP"),
        ("INSERT INTO records (message) VALUES ('x')", "INSERT"),
        ("UPDATE records SET message = 'x'", "UPDATE"),
        ("DELETE FROM records", "DELETE"),
        ("SET datafusion.execution.time_zone = 'UTC'", "SET"),
        ("RESET threads", "RESET"),
        ("EXPLAIN SELECT 1", "EXPLAIN"),
        ("DESCRIBE records", "DESCRIBE"),
        ("SHOW TABLES", "SHOW"),
        ("ALTER TABLE records ADD COLUMN x INTEGER", "ALTER"),
        ("TRUNCATE records", "TRUNCATE"),
        ("BEGIN TRANSACTION", "BEGIN"),
        ("PREPARE p AS SELECT 1", "PREPARE"),
        ("DEALLOCATE p", "DEALLOCATE"),
    ],
)
def test_other_statements_are_refused_by_name(sql: str, named: str) -> None:
    with pytest.raises(SqlRefusedError) as refused:
        parse_query(sql)
    message = str(refused.value)
    assert message.startswith("Only one SELECT statement is allowed; got ")
    assert f"got {named}" in message


def test_the_message_reads_as_documented() -> None:
    with pytest.raises(SqlRefusedError, match=r"^Only one SELECT statement is allowed; got COPY:"):
        parse_query("COPY records TO 'x.parquet'")


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "SELECT 1; DROP TABLE records", "SELECT 1;;SELECT 2"])
def test_several_statements_are_refused(sql: str) -> None:
    with pytest.raises(SqlRefusedError, match="got 2 statements"):
        parse_query(sql)


@pytest.mark.parametrize("sql", ["", "   \n", "-- only a comment", ";"])
def test_empty_sql_is_refused(sql: str) -> None:
    with pytest.raises(SqlRefusedError, match="empty"):
        parse_query(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM '/etc/passwd'",
        'SELECT * FROM "/etc/passwd"',
        "SELECT * FROM 's3://bucket/data.parquet'",
        "SELECT * FROM records JOIN '../secrets.csv' ON true",
        "SELECT * FROM '~/notes.json'",
    ],
)
def test_a_path_as_a_table_is_refused(sql: str) -> None:
    with pytest.raises(SqlRefusedError, match="is not a table: the query API does not read files or URLs"):
        parse_query(sql)


def test_sql_sqlglot_cannot_parse_is_left_to_datafusion() -> None:
    # DataFusion's own error message then reaches the client, as on Logfire.
    assert parse_query("SELEC start_timestamp FROM records") is None
