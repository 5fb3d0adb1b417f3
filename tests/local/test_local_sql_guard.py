from __future__ import annotations

import duckdb
import pytest

from airflow_provider_logfire.local.sql_guard import SqlRefusedError, check_select


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select 1;",
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
        "FROM records",
        "VALUES (1), (2)",
        "DESCRIBE records",
        "SUMMARIZE SELECT 1",
        "SELECT 1 UNION ALL SELECT 2",
        "SELECT 1 -- a trailing comment",
        "/* leading */ SELECT 1",
    ],
)
def test_single_selects_pass(sql: str) -> None:
    check_select(sql)


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("COPY (SELECT 1) TO '/tmp/out.csv'", "COPY"),
        ("ATTACH '/tmp/other.db'", "ATTACH"),
        ("DETACH other", "DETACH"),
        ("INSTALL httpfs", "INSTALL/LOAD"),
        ("LOAD httpfs", "INSTALL/LOAD"),
        ("SET threads = 1", "SET"),
        ("RESET threads", "SET"),
        ("PRAGMA version", "PRAGMA"),
        ("CALL pragma_version()", "CALL"),
        ("CHECKPOINT", "CALL"),
        ("EXPLAIN SELECT 1", "EXPLAIN"),
        ("CREATE TABLE t (a INTEGER)", "CREATE"),
        ("CREATE VIEW v AS SELECT 1", "CREATE"),
        ("DROP TABLE records", "DROP"),
        ("INSERT INTO records (message) VALUES ('x')", "INSERT"),
        ("UPDATE records SET message = 'x'", "UPDATE"),
        ("DELETE FROM records", "DELETE"),
        ("ALTER TABLE records ADD COLUMN x INTEGER", "ALTER"),
        ("EXPORT DATABASE '/tmp/dump'", "EXPORT"),
        ("BEGIN TRANSACTION", "TRANSACTION"),
        ("VACUUM", "VACUUM"),
        ("USE memory", "SET"),
        ("PREPARE p AS SELECT 1", "PREPARE"),
    ],
)
def test_other_statements_are_refused_by_name(sql: str, named: str) -> None:
    with pytest.raises(SqlRefusedError) as refused:
        check_select(sql)
    message = str(refused.value)
    assert message.startswith("Only one SELECT statement is allowed; got ")
    assert named in message


def test_the_message_reads_as_documented() -> None:
    with pytest.raises(SqlRefusedError, match=r"^Only one SELECT statement is allowed; got COPY:"):
        check_select("COPY records TO 'x.parquet'")


def test_statement_types_unknown_to_the_python_enum_are_refused() -> None:
    with pytest.raises(SqlRefusedError, match="unsupported type"):
        check_select("UPDATE EXTENSIONS")


@pytest.mark.parametrize("sql", ["SELECT 1; SELECT 2", "SELECT 1; DROP TABLE records", "SELECT 1;;SELECT 2"])
def test_several_statements_are_refused(sql: str) -> None:
    with pytest.raises(SqlRefusedError, match="got 2 statements"):
        check_select(sql)


@pytest.mark.parametrize("sql", ["", "   \n", "-- only a comment", ";"])
def test_empty_sql_is_refused(sql: str) -> None:
    with pytest.raises(SqlRefusedError, match="empty"):
        check_select(sql)


def test_parse_errors_carry_duckdbs_own_message() -> None:
    sql = "SELEC start_timestamp FROM records"
    with pytest.raises(duckdb.ParserException) as duckdb_says:
        duckdb.extract_statements(sql)
    with pytest.raises(SqlRefusedError) as refused:
        check_select(sql)
    assert str(refused.value) == str(duckdb_says.value)
    assert "syntax error" in str(refused.value)
