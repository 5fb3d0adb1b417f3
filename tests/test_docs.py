"""The documentation cannot rot: the site builds strictly, and every example in it runs.

1. `mkdocs build --strict`: a broken link, anchor or snippet include fails the build; every example
   file is shown on some page.
2. Every `docs/examples/*.py` script, and the pytest example, runs against a local server (the
   connection and token come from environment variables, as they would for a reader). They run in
   the background while the DAGs of step 3 run, to keep this file well under a minute.
3. Every DAG in `docs/examples/dags/` loads and runs through `dag.test()`, and does what its page says.
4. What the pages say is read back from the code: every parameter (with its real default and
   whether it is templated), hook and client method, CLI flag, connection field and settings field;
   the exception hierarchy; the base URL each connection example resolves to; and the error
   messages the pages quote. A change in the code without a change in the docs fails here.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import gzip
import html
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest

from airflow_provider_logfire.client import LogfireClient
from airflow_provider_logfire.local.engine import LocalEngine
from airflow_provider_logfire.local.testing import LocalServer, run_local_server
from tests.conftest import copy_airflow_db
from tests.support.s3 import LocalS3, local_s3

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONTENT = DOCS / "content"
EXAMPLES = DOCS / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
DAG_FILES = sorted((EXAMPLES / "dags").glob("*.py"))
PYTEST_EXAMPLE = EXAMPLES / "pytest" / "test_with_local_server.py"
#: Not the development token, so that a leak into any output is caught.
TOKEN = "pylf_v1_us_DoCsExAmPlEsEcReT9"
TODAY = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
YESTERDAY = {"min_timestamp": TODAY - timedelta(days=1), "max_timestamp": TODAY}
ROWS_PER_DAY = 12_000
SCRIPT_TIMEOUT = 120


@pytest.fixture(scope="module")
def docs_server() -> LocalServer:
    """Demo data from two days before today to noon tomorrow: yesterday is complete and settled."""
    engine = LocalEngine()
    engine.load_demo(days=3, rows_per_day=ROWS_PER_DAY, seed=7, end=TODAY + timedelta(days=1, hours=12))
    with run_local_server(engine, token=TOKEN) as server:
        yield server
    engine.close()


def connection_env(server: LocalServer) -> dict[str, str]:
    """What a reader exports before running an example: a connection, or the client's variables."""
    return {
        "AIRFLOW_CONN_LOGFIRE_DEFAULT": json.dumps(
            {"conn_type": "logfire", "host": server.url, "password": server.token}
        ),
        "LOGFIRE_READ_TOKEN": server.token,
        "LOGFIRE_BASE_URL": server.url,
    }


def scalar(server: LocalServer, sql: str, **window: Any) -> Any:
    with LogfireClient.from_token(server.token, base_url=server.url) as client:
        row = client.query_json_rows(sql, limit=1, **window)["rows"][0]
    return next(iter(row.values()))


# -- 1. the site ----------------------------------------------------------------------------------


def test_site_builds_strictly(tmp_path: Path) -> None:
    site = tmp_path / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(DOCS / "mkdocs.yml"),
            "-d",
            str(site),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        cwd=tmp_path,  # snippet paths must not depend on where the build runs
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html")}
    assert {"index.html", "connection/index.html", "reference/hook/index.html"} <= pages
    markup = "\n".join(p.read_text() for p in site.rglob("*.html"))
    assert "fonts.googleapis.com" not in markup, "the site must not fetch fonts"
    text = html.unescape(re.sub(r"<[^>]+>", "", markup))
    assert "--8<--" not in text, "a snippet was not included"
    # Included code really is the example files' code (a distinctive line of each kind).
    assert "expand_kwargs(hourly_windows())" in text
    assert 'time_column="recorded_timestamp"' in text
    assert "except CrowdedInstantError as exc:" in text
    # Mermaid diagrams reach the page as Material renders them: a <pre class="mermaid"> block each.
    for page, kind in (("guides/exporting", "flowchart LR"), ("guides/time-windows", "gantt")):
        page_html = (site / page / "index.html").read_text()
        blocks = re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', page_html, re.S)
        assert [b for b in blocks if html.unescape(b).lstrip().startswith(kind)], (
            f"no {kind} diagram on {page}"
        )


def test_every_example_file_is_shown_in_the_docs() -> None:
    included = set()
    for page in CONTENT.rglob("*.md"):
        for path in re.findall(r'--8<-- "([^":]+)', page.read_text()):
            included.add((ROOT / path).resolve())
    examples = {p.resolve() for p in [*SCRIPTS, *DAG_FILES, PYTEST_EXAMPLE]}
    assert not examples - included, f"examples no page shows: {sorted(map(str, examples - included))}"
    example_dags = {p.resolve() for p in (ROOT / "example_dags").rglob("*") if p.suffix in (".py", ".sql")}
    assert not example_dags - included, "every example DAG (and its SQL) of the project has a page"


# -- 2. examples run in the background -------------------------------------------------------------


class BackgroundExamples:
    """Example subprocesses started together, so that they run while the DAG runs below do."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def result(self, name: str) -> tuple[int, str]:
        process = self.processes[name]
        try:
            output, _ = process.communicate(timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            return -1, f"timed out after {SCRIPT_TIMEOUT} s\n{output}"
        return process.returncode, output

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture(scope="module")
def background_examples(docs_server: LocalServer, airflow_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """Start every example script, and the pytest example, against the docs server."""
    background = BackgroundExamples()
    env = {**os.environ, **connection_env(docs_server)}
    for script in SCRIPTS:
        background.start(script.name, [sys.executable, str(script)], env)
    # dag.test() in the pytest example writes Airflow's SQLite database: give it a copy of its own,
    # so that it cannot lock out the DAG runs of test_example_dags_run going on at the same time.
    home = tmp_path_factory.mktemp("pytest-example-home")
    copy_airflow_db(airflow_db / "airflow.db", home / "airflow.db")
    (home / "dags").mkdir()
    shutil.copy(EXAMPLES / "dags" / "quickstart.py", home / "dags")  # the one DAG it runs: less to parse
    pytest_env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
    }
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", str(PYTEST_EXAMPLE)]
    background.start(PYTEST_EXAMPLE.name, args, pytest_env)
    yield background
    background.stop()


# -- 3. the DAGs ----------------------------------------------------------------------------------

RUNS: list[dict[str, Any]] = [
    {"dag_id": "logfire_quickstart", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_query_options", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_window_length", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_window_explicit", "logical_date": TODAY.isoformat()},
    {
        "dag_id": "logfire_window_manual",
        "logical_date": None,
        "run_after": (TODAY + timedelta(hours=6)).isoformat(),
    },
    {"dag_id": "logfire_transfer_options", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_sensor_options", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_to_object_storage", "logical_date": TODAY.isoformat()},
    {"dag_id": "logfire_hook_tasks", "logical_date": TODAY.isoformat()},
]


def test_example_dags_load_without_errors() -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover - earlier Airflow 3 releases
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES / "dags"))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(run["dag_id"] for run in RUNS)


@pytest.fixture
def s3() -> Iterator[LocalS3]:
    with local_s3() as running:
        yield running


def test_example_dags_run(
    docs_server: LocalServer,
    run_dags,
    tmp_path: Path,
    background_examples: BackgroundExamples,
    s3: LocalS3,
) -> None:
    """Runs while the example scripts do (`background_examples`); they share only the server."""
    exports = tmp_path / "exports"
    partition = f"date={(TODAY - timedelta(days=1)):%Y-%m-%d}"
    archived = exports / "archive" / partition / "records.parquet"
    archived.parent.mkdir(parents=True)
    archived.write_bytes(b"an earlier export")
    runs = [dict(run) for run in RUNS]
    # The S3 recipe runs against a local S3-compatible server, through the Amazon provider and s3fs.
    s3.create_bucket("docs-lake")
    object_roots = {"s3_root": "s3://docs-lake/logfire", "gcs_root": str(tmp_path / "gcs")}
    next(r for r in runs if r["dag_id"] == "logfire_to_object_storage")["conf"] = object_roots
    env = {**connection_env(docs_server), **s3.connection_env(), "LOGFIRE_EXPORT_ROOT": str(exports)}
    reports = {report.dag_id: report for report in run_dags(DAG_FILES, runs, env=env)}
    for report in reports.values():
        assert report.state == "success", (report.dag_id, report.tasks, report.log[-4000:])
        assert TOKEN not in report.log
        assert TOKEN not in json.dumps([report.xcom, report.rendered], default=str)

    def count(sql: str, **window: Any) -> int:
        return scalar(docs_server, sql, **(window or YESTERDAY))

    day_rows = count("SELECT count(*) FROM records")
    assert day_rows == ROWS_PER_DAY
    errors = count("SELECT count(*) FROM records WHERE level >= 17")

    # Home page: the quickstart DAG writes yesterday's partition.
    quick = reports["logfire_quickstart"].xcom["export_records"]
    assert quick["rows"] == ROWS_PER_DAY
    assert quick["path"] == str(exports / "records" / partition / "records.parquet")
    assert pq.read_metadata(quick["path"]).num_rows == ROWS_PER_DAY

    # LogfireQueryOperator: the XCom shapes its page shows.
    query = reports["logfire_query_options"].xcom
    assert sum(row["errors"] for row in query["errors_per_service"]) == errors
    assert set(query["levels_as_columns"]) == {"level", "n"}
    assert sum(query["levels_as_columns"]["n"]) == ROWS_PER_DAY
    csv_rows = list(csv.DictReader(io.StringIO(query["slowest_as_csv"])))
    assert len(csv_rows) == 20 and set(csv_rows[0]) == {"start_timestamp", "span_name", "duration"}
    assert "the result may be cut off" in reports["logfire_query_options"].log
    paris_hours = [row["paris_hour"] for row in query["requests_per_paris_hour"]]
    assert paris_hours == sorted(paris_hours) and len(paris_hours) == 24
    assert {row["deployment_environment"] for row in query["prod_and_staging"]} == {"prod", "staging"}
    assert [row["deployment_environment"] for row in query["without_environment"]] == [None]
    last_hour = {"min_timestamp": TODAY - timedelta(hours=1), "max_timestamp": TODAY}
    assert query["last_hour"] == [{"n": count("SELECT count(*) FROM records", **last_hour)}]
    # Bound parameters: the templated service, a number, `%%` as a literal `%`, a list for IN.
    assert query["errors_of_one_service"]  # the demo's checkout service has errors every day
    assert sum(row["errors"] for row in query["errors_of_one_service"]) == count(
        "SELECT count(*) FROM records WHERE service_name = 'checkout' AND level >= 17 "
        "AND span_name NOT LIKE '%health%'"
    )
    assert {row["service_name"]: row["errors"] for row in query["errors_of_some_services"]} == {
        service: count(f"SELECT count(*) FROM records WHERE service_name = '{service}'")
        for service in ("checkout", "email-worker")
    }

    # Time windows: both fixes of the zero-width interval read yesterday; a manual run reads run_after - 6h.
    for dag_id in ("logfire_window_length", "logfire_window_explicit"):
        assert reports[dag_id].xcom["count_day"][0]["n"] == ROWS_PER_DAY, dag_id
    manual = reports["logfire_window_manual"].xcom["count_recent"][0]
    six_hours = {"min_timestamp": TODAY, "max_timestamp": TODAY + timedelta(hours=6)}
    assert manual["n"] == count("SELECT count(*) FROM records", **six_hours) > 0
    assert manual["first"] >= TODAY.strftime("%Y-%m-%dT00:00:00")

    # LogfireToFileTransfer: every format and compression, metrics, environments, if_exists.
    transfer = reports["logfire_transfer_options"].xcom
    summary_keys = {"path", "files", "format", "rows", "requests", "bytes", "min_timestamp", "max_timestamp"}
    assert set(transfer["errors_csv"]) == summary_keys
    assert transfer["errors_csv"]["files"] == [transfer["errors_csv"]["path"]]
    with gzip.open(transfer["errors_csv"]["path"], "rt") as errors_csv:
        assert len(list(csv.DictReader(errors_csv))) == errors == transfer["errors_csv"]["rows"]
    with pa.CompressedInputStream(transfer["spans_jsonl"]["path"], "zstd") as jsonl:
        lines = jsonl.read().decode().splitlines()
    assert (
        len(lines)
        == transfer["spans_jsonl"]["rows"]
        == count("SELECT count(*) FROM records WHERE kind = 'span'")
    )
    assert isinstance(json.loads(lines[0])["attributes"], str), "JSON text columns stay text"
    with pa.memory_map(transfer["records_arrow"]["path"]) as source:
        assert pyarrow.ipc.open_file(source).read_all().num_rows == ROWS_PER_DAY
    metrics_rows = count("SELECT count(*) FROM metrics")
    assert (
        transfer["metrics_parquet"]["rows"]
        == metrics_rows
        == pq.read_metadata(transfer["metrics_parquet"]["path"]).num_rows
    )
    prod = count("SELECT count(*) FROM records WHERE deployment_environment = 'prod'")
    assert transfer["prod_only"]["rows"] == prod
    assert transfer["archive_once"]["skipped"] is True
    assert archived.read_bytes() == b"an earlier export"

    # File sets: hourly parts, partition columns, an empty window skipped, a templated format.
    hourly = transfer["hourly_parts"]
    manifest = json.loads((Path(hourly["path"]) / "_SUCCESS").read_text())
    assert hourly["rows"] == manifest["rows"] == day_rows and len(hourly["files"]) == len(manifest["files"])
    assert all(entry["rows"] <= 500 and entry["path"].startswith("hour=") for entry in manifest["files"])
    by_service = Path(transfer["errors_by_service"]["path"])
    assert transfer["errors_by_service"]["rows"] == errors
    assert {p.parent.parent.name for p in by_service.glob("service_name=*/level=*/errors.jsonl")} >= {
        "service_name=checkout"
    }
    assert reports["logfire_transfer_options"].tasks["fatal_only"] == "skipped"
    assert not (exports / "fatal").exists()
    assert transfer["chosen_format"]["format"] == "parquet"
    assert pq.read_metadata(transfer["chosen_format"]["path"]).num_rows == day_rows

    # Object storage recipe, run against local roots (the DAG's params).
    stored = reports["logfire_to_object_storage"].xcom
    key = f"logfire/records/{partition}/records.parquet"
    assert stored["to_s3"]["path"] == f"s3://docs-lake/{key}"
    assert s3.keys("docs-lake") == [key]
    assert pq.read_metadata(io.BytesIO(s3.read("docs-lake", key))).num_rows == ROWS_PER_DAY
    path = Path(object_roots["gcs_root"]) / "records" / partition / "records.parquet"
    assert stored["to_gcs"]["path"] == str(path)
    assert pq.read_metadata(path).num_rows == ROWS_PER_DAY

    assert set(reports["logfire_sensor_options"].tasks.values()) == {"success"}

    hook_tasks = reports["logfire_hook_tasks"]
    slowest = hook_tasks.xcom["slowest_routes"]
    assert len(slowest) == 5 and set(slowest[0]) == {"http_route", "requests", "p95_seconds"}
    assert sum(n for _, n in hook_tasks.xcom["errors_by_service"]) == errors
    assert hook_tasks.tasks["has_errors"] == "success"


# -- the scripts and the pytest example, started before the DAG runs, finish here ---------------


def test_example_scripts_run(background_examples: BackgroundExamples) -> None:
    assert SCRIPTS, "no example scripts found"
    failures = []
    for script in SCRIPTS:
        code, output = background_examples.result(script.name)
        if code != 0:
            failures.append(f"{script.name} exited {code}:\n{output[-3000:]}")
        assert TOKEN not in output, f"{script.name} printed the read token"
    assert not failures, "\n\n".join(failures)


def test_pytest_example_passes(background_examples: BackgroundExamples) -> None:
    code, output = background_examples.result(PYTEST_EXAMPLE.name)
    assert code == 0, output[-4000:]
    assert "2 passed" in output and "skipped" not in output, output[-2000:]


# -- 4. the reference pages name what the code has ------------------------------------------------


def _page(name: str) -> str:
    return (CONTENT / name).read_text()


def _param_rows(page: str) -> dict[str, list[str]]:
    """Rows of the page's parameter tables: `| `name` | default | templated | description |`."""
    rows = {}
    for line in page.splitlines():
        match = re.match(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|(.*)\|\s*$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match[2].split(" | ")]
    return rows


def _documented_default(cell: str) -> Any:
    from airflow_provider_logfire.client import RetryPolicy

    if cell == "required":
        return inspect.Parameter.empty
    code = cell.strip("`")
    names = {"timedelta": timedelta, "RetryPolicy": RetryPolicy}
    return eval(compile(ast.parse(code, mode="eval"), "<docs>", "eval"), names)


def _table_after(page: str, heading: str) -> dict[str, list[str]]:
    section = page.split(heading, 1)
    assert len(section) == 2, f"the page needs a '{heading}' section"
    return _param_rows(section[1].split("\n## ", 1)[0])


def _public_classes():
    from airflow_provider_logfire.hooks.logfire import LogfireHook
    from airflow_provider_logfire.operators.query import LogfireQueryOperator
    from airflow_provider_logfire.sensors.data_available import LogfireDataAvailableSensor
    from airflow_provider_logfire.transfers.logfire_to_file import LogfireToFileTransfer
    from airflow_provider_logfire.triggers.data_available import LogfireDataAvailableTrigger
    from airflow_provider_logfire.triggers.new_data import LogfireNewDataTrigger

    return [
        (LogfireQueryOperator, "reference/query-operator.md"),
        (LogfireToFileTransfer, "reference/transfer.md"),
        (LogfireDataAvailableSensor, "reference/sensor.md"),
        (LogfireDataAvailableTrigger, "reference/sensor.md"),
        (LogfireNewDataTrigger, "reference/new-data-trigger.md"),
        (LogfireHook, "reference/hook.md"),
    ]


@pytest.mark.parametrize(
    ("cls", "page_name"), _public_classes(), ids=lambda value: getattr(value, "__name__", None)
)
def test_every_parameter_is_documented_with_its_default(cls: type, page_name: str) -> None:
    rows = _table_after(_page(page_name), f"## `{cls.__name__}` parameters")
    templated = set(getattr(cls, "template_fields", ()))
    parameters = [
        p for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]  # fmt: skip
    assert [p.name for p in parameters] == list(rows), "the table lists the parameters in signature order"
    for parameter in parameters:
        default, is_templated, description = rows[parameter.name]
        assert _documented_default(default) == parameter.default, (parameter.name, default)
        assert (is_templated == "yes") == (parameter.name in templated), parameter.name
        assert description, parameter.name


def test_every_hook_method_is_documented() -> None:
    from airflow_provider_logfire.hooks.logfire import LogfireHook

    page = _page("reference/hook.md")
    headings = set(re.findall(r"^### `([a-z_]+)\(", page, flags=re.MULTILINE))
    methods = {
        name
        for name, value in vars(LogfireHook).items()
        if callable(getattr(LogfireHook, name)) and not name.startswith("_")
    }
    assert methods - headings == set(), "hook methods without a section"
    assert headings - methods == set(), "sections for methods the hook does not have"
    for name in inspect.signature(LogfireHook.get_df).parameters:
        if name != "self":
            assert f"`{name}`" in page, f"get_df parameter {name} is not described"


def test_every_cli_flag_is_documented() -> None:
    from airflow_provider_logfire.local.cli import build_parser

    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    rows = _param_rows_flags(_page("guides/local-server.md"))
    for action in serve._actions:
        flag = next((s for s in action.option_strings if s.startswith("--")), None)
        if flag is None or flag == "--help":
            continue
        assert flag in rows, f"{flag} is not in the local server page's flag table"
        if flag != "--token" and action.default is not None and not isinstance(action.default, bool):
            assert rows[flag] == f"`{action.default}`", (flag, rows[flag], action.default)


def _param_rows_flags(page: str) -> dict[str, str]:
    return {
        m[1]: m[2].strip() for m in re.finditer(r"^\| `(--[a-z-]+)[^`]*` \| ([^|]+) \|", page, re.MULTILINE)
    }


def test_connection_page_names_every_form_field() -> None:
    from airflow_provider_logfire._airflow.connection_form import CONN_FIELD_LABELS, RELABELING

    page = _page("connection.md")
    for extra, label in CONN_FIELD_LABELS.items():
        assert f"`{extra}`" in page and f"**{label}**" in page, extra
    for label in RELABELING.values():
        assert f"**{label}**" in page, label


def _exception_classes() -> list[type]:
    import airflow_provider_logfire.exceptions as exceptions

    return [getattr(exceptions, name) for name in exceptions.__all__]


def exception_tree() -> str:
    """The provider's exception hierarchy as the reference page draws it (from the code)."""
    errors = _exception_classes()
    root = errors[[c.__name__ for c in errors].index("LogfireError")]

    def line(cls: type, depth: int) -> list[str]:
        others = [b.__name__ for b in cls.__bases__[1:] if b is not Exception]
        also = f" (also {', '.join(others)})" if others else ""
        out = ["    " * depth + cls.__name__ + also]
        children = sorted((c for c in errors if c.__bases__[0] is cls), key=lambda c: c.__name__)
        for child in children:
            out += line(child, depth + 1)
        return out

    return "\n".join(line(root, 0))


def test_exception_reference_matches_the_hierarchy() -> None:
    page = _page("reference/exceptions.md")
    assert exception_tree() in page, "the tree in reference/exceptions.md must be:\n" + exception_tree()
    for cls in _exception_classes():
        assert f"| `{cls.__name__}` |" in page or cls.__name__ == "LogfireError", cls.__name__


def test_exception_module_draws_its_own_tree() -> None:
    """The tree in `exceptions.py`'s docstring names every class under its real parent."""
    import airflow_provider_logfire.exceptions as exceptions

    parents: dict[str, str] = {}
    stack: list[str] = []
    for raw in (exceptions.__doc__ or "").splitlines():
        match = re.match(r"^    ((?:│   |    )*)(?:├── |└── )?([A-Za-z.]+)", raw)
        if not match or not (match[2][0].isupper() or match[2].startswith("dbapi.")):
            continue
        depth = len(match[1]) // 4 + (1 if "── " in raw else 0)
        del stack[depth:]
        if stack:
            parents[match[2]] = stack[-1]
        stack.append(match[2])
    for cls in _exception_classes():
        if cls.__name__ != "LogfireError":
            assert parents.get(cls.__name__) == cls.__bases__[0].__name__, cls.__name__
    assert parents.get("dbapi.Error") == "LogfireError"


def test_settings_and_retry_tables_match_the_dataclasses() -> None:
    from airflow_provider_logfire.client import ClientSettings, RetryPolicy

    page = _page("reference/client.md")
    for cls in (ClientSettings, RetryPolicy):
        rows = _table_after(page, f"## `{cls.__name__}` parameters")
        fields = dataclasses.fields(cls)
        assert [f.name for f in fields] == list(rows), cls.__name__
        for field in fields:
            default = (
                field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
            )
            expected = inspect.Parameter.empty if default is dataclasses.MISSING else default
            assert _documented_default(rows[field.name][0]) == expected, (cls.__name__, field.name)


def test_every_client_method_is_documented() -> None:
    from airflow_provider_logfire.client import AsyncLogfireClient, LogfireClient

    page = _page("reference/client.md")
    for cls in (LogfireClient, AsyncLogfireClient):
        for name, value in vars(cls).items():
            if not name.startswith("_") and callable(value) and name != "from_token":
                assert f"`{name}(" in page or f"`await {name}(" in page, f"{cls.__name__}.{name}"


def test_connection_examples_resolve_where_they_say() -> None:
    """Each `# ... → URL` comment over an AIRFLOW_CONN_... line on the connection page is true."""
    from airflow_provider_logfire.hooks.logfire import LogfireHook

    page = _page("connection.md")
    examples = re.findall(r"# [^\n]*→ (\S+)\n\s*export AIRFLOW_CONN_([A-Z_]+)='(\{.*\})'", page)
    assert len(examples) >= 6
    for url, conn_id, connection in examples:
        conn = json.loads(connection)
        fake = type(
            "Conn",
            (),
            {
                "password": conn.get("password"),
                "host": conn.get("host"),
                "extra_dejson": conn.get("extra", {}),
            },
        )
        settings = LogfireHook(conn_id.lower()).settings_from_connection(fake)
        assert settings.resolved_base_url == url, (conn_id, connection)


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _assert_quoted(page_name: str, message: str) -> None:
    assert _normalized(message) in _normalized(_page(page_name)), f"{page_name} must quote:\n{message}"


def test_quoted_messages_are_the_real_ones() -> None:
    import httpx

    from airflow_provider_logfire.client import ClientSettings, LogfireConfigError
    from airflow_provider_logfire.client.base import ClientBase
    from airflow_provider_logfire.client.protocol import RequestSpec, error_from_response
    from airflow_provider_logfire.core.planning import CrowdedInstantError, split_full_piece
    from airflow_provider_logfire.core.windows import TimeWindow, WindowError, resolve_window
    from airflow_provider_logfire.operators.query import LogfireQueryOperator

    source = "connection 'logfire_default'"
    request = RequestSpec("POST", "/v2/query")
    invalid = {"content-type": "application/json"}, b'{"detail": "Invalid token"}'
    us = ClientSettings(token="pylf_v1_us_abc", source=source)
    eu_to_us = ClientSettings(token="pylf_v1_eu_abc", region="us", source=source)
    remote = ClientSettings(token="pylf_v1_us_abc", base_url="https://logfire.example.com", source=source)
    messages = [
        str(error_from_response(us, request, 401, *invalid)),
        str(error_from_response(eu_to_us, request, 401, *invalid)),
        str(error_from_response(us, request, 402, {}, b"")),
        str(error_from_response(remote, request, 404, {}, b"")),
        str(ClientBase(us)._transport_error(httpx.ReadTimeout("timed out"), request, mid_body=False)),
    ]
    for refused in (
        {"token": ""},
        {"token": "pylf_v1_local_devtoken"},
        {"token": "t", "base_url": "http://logfire.example.com"},
    ):
        with pytest.raises(LogfireConfigError) as caught:
            ClientSettings(**refused, source=source)
        messages.append(str(caught.value))
    with pytest.raises(LogfireConfigError) as v1_only:
        LogfireClient.from_token("t", base_url="http://127.0.0.1:1", api_version="v1").query_json(
            "SELECT 1", environment="prod"
        )
    messages.append(str(v1_only.value))
    from airflow_provider_logfire._airflow.compat import AirflowException

    operator = LogfireQueryOperator(task_id="q", sql="SELECT 1", fail_on_truncation=True)
    with pytest.raises(AirflowException) as truncated:
        operator._check_truncation(10_000)
    messages.append(str(truncated.value))
    unbound = LogfireQueryOperator(
        task_id="p", sql="SELECT 1 WHERE %(service)s IS NOT NULL", parameters={"servce": "checkout"}
    )
    from airflow_provider_logfire._airflow.parameters import bound_sql

    with pytest.raises(LogfireConfigError) as missing_parameter:
        bound_sql(unbound.sql, unbound.parameters)
    messages.append(str(missing_parameter.value))
    from airflow_provider_logfire._airflow.compat import AirflowFailException
    from airflow_provider_logfire._airflow.failures import failures_that_retries_cannot_fix
    from airflow_provider_logfire.exceptions import LogfireQueryError

    with pytest.raises(AirflowFailException) as failed_fast, failures_that_retries_cannot_fix():
        raise LogfireQueryError("Logfire query failed: <the server's explanation>", status_code=400)
    messages.append(f"AirflowFailException: {failed_fast.value}")
    instant = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    with pytest.raises(CrowdedInstantError) as crowded:
        split_full_piece(TimeWindow(instant, instant + timedelta(microseconds=1)))
    messages.append(str(crowded.value))
    for message in messages:
        _assert_quoted("guides/troubleshooting.md", message)
    _assert_quoted("guides/exporting.md", str(crowded.value))

    day = datetime(2026, 11, 27, tzinfo=timezone.utc)
    for kwargs in (
        {"data_interval_start": day, "data_interval_end": day, "logical_date": day},
        {"run_after": day + timedelta(hours=6)},
    ):
        with pytest.raises(WindowError) as no_window:
            resolve_window(**kwargs)
        reason = str(no_window.value).split(" Fix it in one of three ways", 1)[0]
        _assert_quoted("guides/troubleshooting.md", reason)
        _assert_quoted("guides/time-windows.md", reason)
