"""The demo shop and the kinds of traces it produces, as plain data.

Why: what the demo traffic looks like (services, routes, their child spans and logs, the failures
and how often each occurs) changes for other reasons than the numpy/pyarrow machinery in `demo.records`
that turns it into rows, and reads best on its own. Nothing here draws random numbers or builds
Arrow arrays; `demo.records` validates `TEMPLATES` with `check_template` and flattens them into arrays.

How: a `Template` is one kind of trace: a weight (how often it occurs), a median duration and
its rows as `Step`s, the root span first. Small helpers build the steps of each instrumentation
(`_server`, `_db`, `_cache`, `_client`, `_span`, `_log`, `_event`) and the recurring trace shapes;
texts hold placeholders (`$ID`, `$USER`, ...) that the INSERT fills in per trace. A span event is
a step of its own (`kind = 'span_event'`), as Logfire copies span events into rows of `records`;
its parent span also lists it in `otel_events`.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass

DEBUG, INFO, WARN, ERROR, FATAL = 5, 9, 13, 17, 21


# --------------------------------------------------------------------------------------------
# Services, environments and instrumentation scopes
# --------------------------------------------------------------------------------------------

NAMESPACE = "shop"
SDK = ("opentelemetry", "python", "1.39.1")


@dataclass(frozen=True)
class Service:
    name: str
    major: int
    release_every_days: int
    memory_mb: float
    pod_hash: str


SERVICES = (
    Service("api-gateway", 3, 5, 180.0, "5c9d7b8f4"),
    Service("checkout", 2, 2, 420.0, "7d9f8c6b5"),
    Service("inventory", 1, 3, 310.0, "6b4f9d2c7"),
    Service("email-worker", 1, 7, 260.0, "8f2a6c9d1"),
)
#: Kubernetes-style pod name suffixes; a service runs one pod per suffix and environment.
POD_SUFFIXES = ("x7k2q", "m4p9z", "b8r3w")
#: Deployment environments drawn per trace; `None` is telemetry sent without one.
ENVIRONMENTS: tuple[str | None, ...] = ("prod", "staging", None)
ENVIRONMENT_P = (0.85, 0.12, 0.03)

FASTAPI = ("opentelemetry.instrumentation.fastapi", "0.59b0")
_ASYNCPG = ("opentelemetry.instrumentation.asyncpg", "0.59b0")
_REDIS = ("opentelemetry.instrumentation.redis", "0.59b0")
_HTTPX = ("opentelemetry.instrumentation.httpx", "0.59b0")
_CELERY = ("opentelemetry.instrumentation.celery", "0.59b0")
_LOGFIRE = ("logfire", "4.16.0")


# --------------------------------------------------------------------------------------------
# Steps and templates
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanException:
    """An exception recorded on a span (its `exception` event and status)."""

    type: str
    message: str
    stacktrace: str


@dataclass(frozen=True)
class Step:
    """One row of a trace template. `parent` and `at` are relative to the trace."""

    name: str
    message: str
    service: str
    scope: tuple[str, str]
    parent: int | None
    at: tuple[float, float]  # start and end as fractions of the root span's duration
    kind: str = "span"
    level: int = INFO
    attributes: str | None = None  # JSON text with placeholders
    tags: tuple[str, ...] | None = None
    http_method: str | None = None
    http_route: str | None = None
    url_path: str | None = None
    url_query: str | None = None
    url_full: str | None = None
    status_code: int | None = None
    server: bool = False  # an HTTP server span: counted by the request metrics
    error: bool = False
    exception: SpanException | None = None


@dataclass(frozen=True)
class Template:
    weight: float
    median_ms: float
    steps: tuple[Step, ...]
    spread: float = 0.5  # sigma of the log-normal root duration


def check_template(template: Template) -> None:
    """Reject a template that could produce an orphan or a child outside its parent.

    `demo` checks every template when it builds its catalogue, so a bad one fails at import.
    """
    steps = template.steps
    if not steps or steps[0].parent is not None or any(s.parent is None for s in steps[1:]):
        raise ValueError(f"template {steps[0].name!r} must start with its only root span")
    if steps[0].at != (0.0, 1.0):
        raise ValueError(f"root of {steps[0].name!r} must span (0.0, 1.0)")
    for index, step in enumerate(steps[1:], start=1):
        parent = steps[step.parent or 0]
        if not (step.parent or 0) < index or parent.kind != "span":
            raise ValueError(f"{step.name!r}: the parent must be an earlier span of the same trace")
        if not parent.at[0] <= step.at[0] <= step.at[1] <= parent.at[1]:
            raise ValueError(f"{step.name!r} must lie within its parent {parent.name!r}")
        if step.kind in ("log", "span_event") and step.at[0] != step.at[1]:
            raise ValueError(f"{step.kind} {step.name!r} must be a point in time")
        if step.kind == "span_event" and (step.service, step.scope) != (parent.service, parent.scope):
            raise ValueError(f"span event {step.name!r} must come from its span's service and scope")
    events = [step.parent for step in steps if step.kind == "span_event"]
    if len(events) != len(set(events)):  # `demo.records` puts at most one event into `otel_events`
        raise ValueError(f"template {steps[0].name!r} has a span with more than one span event")


# --------------------------------------------------------------------------------------------
# Step builders, one per instrumentation
# --------------------------------------------------------------------------------------------

# Placeholders in message/attribute/URL templates, filled per trace by `demo`'s INSERT (`_fill`).
# $ID: order or product id, $USER: user id, $N: small count (page, quantity), $COST: a float.
_PLACEHOLDERS = ("$COST", "$USER", "$ID", "$N")
#: Log message fields and the placeholder each one shows (`{order_id}` -> `$ID`).
_LOG_FIELDS = {"order_id": "$ID", "user_id": "$USER", "page": "$N", "quantity": "$N", "total": "$COST"}


def _json_template(attributes: Mapping[str, object]) -> str:
    """JSON text in which numeric placeholders stand unquoted, so they fill in as JSON numbers."""
    text = json.dumps(attributes)
    for placeholder in _PLACEHOLDERS:
        text = text.replace(f'"{placeholder}"', placeholder)
    return text


def _server(
    service: str,
    method: str,
    route: str,
    *,
    path: str,
    status: int = 200,
    level: int | None = None,
    query: str | None = None,
    user: bool = True,
    parent: int | None = None,
    at: tuple[float, float] = (0.0, 1.0),
    exception: SpanException | None = None,
) -> Step:
    attributes: dict[str, object] = {
        "http.method": method,
        "http.route": route,
        "url.path": path,
        "url.scheme": "https",
        "http.response.status_code": status,
    }
    if query:
        attributes["url.query"] = query
    if user:
        attributes.update({"user_id": "$USER", "cost": "$COST"})
    if level is None:
        level = ERROR if status >= 500 else WARN if status >= 400 else INFO
    return Step(
        name=f"{method} {route}",
        message=f"{method} {path}",
        service=service,
        scope=FASTAPI,
        parent=parent,
        at=at,
        level=level,
        attributes=_json_template(attributes),
        http_method=method,
        http_route=route,
        url_path=path,
        url_query=query,
        status_code=status,
        server=True,
        error=status >= 500,
        exception=exception,
    )


def _db(
    service: str,
    table: str,
    statement: str,
    *,
    parent: int,
    at: tuple[float, float],
    exception: SpanException | None = None,
) -> Step:
    operation = statement.split()[0]
    attributes = {
        "db.system": "postgresql",
        "db.name": NAMESPACE,
        "db.operation": operation,
        "db.sql.table": table,
        "db.statement": statement,
        "net.peer.name": "postgres.internal",
    }
    return Step(
        name=f"{operation} {table}",
        message=f"{operation} {table}",
        service=service,
        scope=_ASYNCPG,
        parent=parent,
        at=at,
        level=ERROR if exception else INFO,
        attributes=_json_template(attributes),
        error=exception is not None,
        exception=exception,
    )


def _cache(service: str, command: str, key: str, *, parent: int, at: tuple[float, float]) -> Step:
    attributes = {"db.system": "redis", "db.statement": f"{command} {key}", "db.redis.database_index": 0}
    return Step(
        name=command,
        message=f"{command} {key}",
        service=service,
        scope=_REDIS,
        parent=parent,
        at=at,
        attributes=_json_template(attributes),
        tags=("cache",),
    )


def _client(
    service: str,
    method: str,
    url: str,
    *,
    status: int | None,
    parent: int,
    at: tuple[float, float],
    exception: SpanException | None = None,
) -> Step:
    attributes: dict[str, object] = {"http.method": method, "url.full": url}
    if status is not None:
        attributes["http.response.status_code"] = status
    return Step(
        name=method,
        message=f"{method} {url}",
        service=service,
        scope=_HTTPX,
        parent=parent,
        at=at,
        level=ERROR if exception else INFO,
        attributes=_json_template(attributes),
        http_method=method,
        url_full=url,
        status_code=status,
        error=exception is not None,
        exception=exception,
    )


def _span(
    service: str,
    name: str,
    *,
    attributes: Mapping[str, object],
    parent: int | None = None,
    at: tuple[float, float] = (0.0, 1.0),
    scope: tuple[str, str] = _LOGFIRE,
    level: int = INFO,
    exception: SpanException | None = None,
) -> Step:
    return Step(
        name=name,
        message=name.format(**_LOG_FIELDS),
        service=service,
        scope=scope,
        parent=parent,
        at=at,
        level=level,
        attributes=_json_template(attributes),
        error=exception is not None,
        exception=exception,
    )


def _log(
    service: str,
    template: str,
    *,
    parent: int,
    at: float,
    level: int = INFO,
    tags: tuple[str, ...] | None = None,
) -> Step:
    """A Logfire log: `span_name` is the message template, its fields become attributes."""
    fields = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    return Step(
        name=template,
        message=template.format(**_LOG_FIELDS),
        service=service,
        scope=_LOGFIRE,
        parent=parent,
        at=(at, at),
        kind="log",
        level=level,
        attributes=_json_template({field: _LOG_FIELDS[field] for field in fields}),
        tags=tags,
    )


def _event(parent_step: Step, name: str, *, parent: int, at: float, attributes: Mapping[str, object]) -> Step:
    """A span event of `parent_step` (at index `parent`): a row of its own and an `otel_events` entry."""
    return Step(
        name=name,
        message=name,
        service=parent_step.service,
        scope=parent_step.scope,
        parent=parent,
        at=(at, at),
        kind="span_event",
        attributes=_json_template(attributes),
    )


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------


def _traceback(frames: tuple[tuple[str, int, str, str], ...], exc_type: str, message: str) -> str:
    lines = ["Traceback (most recent call last):"]
    for path, line, function, code in frames:
        lines += [f'  File "{path}", line {line}, in {function}', f"    {code}"]
    lines.append(f"{exc_type}: {message}" if message else exc_type)
    return "\n".join(lines)


def _exception(exc_type: str, message: str, *frames: tuple[str, int, str, str]) -> SpanException:
    return SpanException(exc_type, message, _traceback(frames, exc_type, message))


_SITE = "/app/.venv/lib/python3.12/site-packages"
_DB_GONE = _exception(
    "asyncpg.exceptions.ConnectionDoesNotExistError",
    "connection was closed in the middle of operation",
    ("/app/checkout/api/orders.py", 58, "get_order", "row = await db.fetchrow(ORDER_BY_ID, order_id)"),
    (f"{_SITE}/asyncpg/pool.py", 617, "fetchrow", "return await con.fetchrow(query, *args, timeout=timeout)"),
    (
        f"{_SITE}/asyncpg/connection.py",
        748,
        "fetchrow",
        "data = await self._execute(query, args, 1, timeout)",
    ),
)
_PAYMENT_TIMEOUT = _exception(
    "httpx.ReadTimeout",
    "The read operation timed out",
    ("/app/checkout/api/checkout.py", 92, "place_order", "await payments.charge(order_id, total)"),
    ("/app/checkout/payments.py", 41, "charge", 'response = await client.post("/v1/charges", json=body)'),
    (f"{_SITE}/httpx/_client.py", 1859, "post", "return await self.request("),
    (
        f"{_SITE}/httpx/_transports/default.py",
        118,
        "map_httpcore_exceptions",
        "raise mapped_exc(message) from exc",
    ),
)
_SMTP_GONE = _exception(
    "smtplib.SMTPServerDisconnected",
    "Connection unexpectedly closed",
    ("/app/worker/tasks.py", 37, "send_order_confirmation", "mailer.send(message)"),
    ("/app/worker/mailer.py", 22, "send", "self._smtp.send_message(message)"),
    (
        "/usr/lib/python3.12/smtplib.py",
        405,
        "getreply",
        'raise SMTPServerDisconnected("Connection unexpectedly closed")',
    ),
)
_OUT_OF_MEMORY = _exception(
    "MemoryError",
    "",
    ("/app/worker/tasks.py", 51, "render_invoice", "pdf = renderer.render(order, attachments=True)"),
    ("/app/worker/render.py", 88, "render", "buffer = bytearray(page_count * PAGE_BYTES)"),
)

# --------------------------------------------------------------------------------------------
# The templates: the recurring trace shapes, then the weighted catalogue
# --------------------------------------------------------------------------------------------

_ORDER_BY_ID = "SELECT id, status, total, user_id FROM orders WHERE id = $1"
_USER_BY_EMAIL = "SELECT id, password_hash FROM users WHERE email = $1"
_PRODUCT_PAGE = "SELECT sku, name, price FROM products LIMIT 50 OFFSET $1"
_PAYMENTS_URL = "https://payments.example.net/v1/charges"
_RESERVATIONS_URL = "http://inventory.internal/reservations"


def _token(status: int, outcome: Step) -> tuple[Step, ...]:
    """`POST /auth/token` on the gateway: look the user up, then log the outcome."""
    return (
        _server("api-gateway", "POST", "/auth/token", path="/auth/token", status=status),
        _db("api-gateway", "users", _USER_BY_EMAIL, parent=0, at=(0.1, 0.5)),
        outcome,
    )


def _order(status: int, *, exception: SpanException | None = None) -> tuple[Step, ...]:
    """`GET /orders/{id}` on checkout after a cache miss: the root, the cache and the DB lookup."""
    return (
        _server("checkout", "GET", "/orders/{id}", path="/orders/$ID", status=status, exception=exception),
        _cache("checkout", "GET", "order:$ID", parent=0, at=(0.02, 0.1)),
        _db("checkout", "orders", _ORDER_BY_ID, parent=0, at=(0.12, 0.85), exception=exception),
    )


def _products(slow: bool) -> tuple[Step, ...]:
    """`GET /products?page=N` on inventory; a slow one logs a warning."""
    return (
        _server("inventory", "GET", "/products", path="/products", query="page=$N"),
        _db("inventory", "products", _PRODUCT_PAGE, parent=0, at=(0.05, 0.95) if slow else (0.1, 0.85)),
        _log(
            "inventory", "slow product listing for page {page}", parent=0, at=0.97, level=WARN, tags=("slow",)
        )
        if slow
        else _log("inventory", "listed products page {page}", parent=0, at=0.9, level=DEBUG),
    )


def _checkout(status: int, *, exception: SpanException | None = None) -> tuple[Step, ...]:
    """`POST /checkout`: insert the order, reserve stock on inventory (a nested server span), pay.

    The handler adds a span event to the request's span once the order is valid.
    """
    root = _server("checkout", "POST", "/checkout", path="/checkout", status=status, exception=exception)
    return (
        root,
        _db(
            "checkout",
            "orders",
            "INSERT INTO orders (user_id, total) VALUES ($1, $2)",
            parent=0,
            at=(0.02, 0.1),
        ),
        _client("checkout", "POST", _RESERVATIONS_URL, status=201, parent=0, at=(0.12, 0.4)),
        _server(
            "inventory", "POST", "/reservations", path="/reservations", status=201, parent=2, at=(0.13, 0.39)
        ),
        _db(
            "inventory",
            "stock",
            "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2",
            parent=3,
            at=(0.16, 0.36),
        ),
        _client(
            "checkout",
            "POST",
            _PAYMENTS_URL,
            status=None if exception else 200,
            parent=0,
            at=(0.45, 0.93),
            exception=exception,
        ),
        _event(root, "order validated", parent=0, at=0.11, attributes={"order_id": "$ID", "items": "$N"}),
    )


def _out_of_stock() -> tuple[Step, ...]:
    """`POST /checkout` rejected with 409 because inventory cannot reserve the stock."""
    return (
        _server("checkout", "POST", "/checkout", path="/checkout", status=409),
        _client("checkout", "POST", _RESERVATIONS_URL, status=409, parent=0, at=(0.05, 0.8)),
        _server(
            "inventory", "POST", "/reservations", path="/reservations", status=409, parent=1, at=(0.06, 0.79)
        ),
        _db("inventory", "stock", "SELECT available FROM stock WHERE sku = $1", parent=2, at=(0.1, 0.6)),
        _log("inventory", "only {quantity} left in stock for order {order_id}", parent=2, at=0.7, level=WARN),
        _log("checkout", "checkout rejected for user {user_id}: out of stock", parent=0, at=0.9, level=WARN),
    )


def _email(*, exception: SpanException | None = None) -> tuple[Step, ...]:
    """The worker's `send_order_confirmation` task; a failed send is retried (a warning)."""
    root = {
        "celery.task_name": "worker.tasks.send_order_confirmation",
        "order_id": "$ID",
        "messaging.system": "rabbitmq",
    }
    outcome = (
        _log(
            "email-worker", "retrying confirmation for order {order_id} in 60s", parent=0, at=0.97, level=WARN
        )
        if exception
        else _log(
            "email-worker", "confirmation for order {order_id} sent", parent=0, at=0.97, tags=("email",)
        )
    )
    sending = _span(
        "email-worker",
        "sending e-mail to user {user_id}",
        attributes={"user_id": "$USER"},
        parent=0,
        at=(0.15, 0.95),
        level=ERROR if exception else INFO,
        exception=exception,
    )
    return (
        _span(
            "email-worker",
            "run/send_order_confirmation",
            attributes=root,
            scope=_CELERY,
            level=WARN if exception else INFO,
        ),
        _db("email-worker", "orders", _ORDER_BY_ID, parent=0, at=(0.02, 0.1)),
        sending,
        outcome,
        # Connected before the send (and, in the failing variant, before the exception event).
        _event(
            sending,
            "smtp connected",
            parent=2,
            at=0.2,
            attributes={"net.peer.name": "smtp.internal", "net.peer.port": 587},
        ),
    )


def _crash() -> tuple[Step, ...]:
    """The worker runs out of memory: the only fatal records."""
    root = {"celery.task_name": "worker.tasks.render_invoice", "order_id": "$ID"}
    return (
        _span(
            "email-worker",
            "run/render_invoice",
            attributes=root,
            scope=_CELERY,
            level=FATAL,
            exception=_OUT_OF_MEMORY,
        ),
        _log(
            "email-worker",
            "worker out of memory while rendering order {order_id}",
            parent=0,
            at=0.9,
            level=FATAL,
        ),
    )


#: (weight, median root duration in ms, steps[, spread]). Weights set the mix: mostly fast,
#: successful requests; about 3% warnings, well under 1% errors, a handful of fatal records.
TEMPLATES = (
    Template(12, 2, (_server("api-gateway", "GET", "/health", path="/health", level=DEBUG, user=False),)),
    Template(8, 60, _token(200, _log("api-gateway", "issued token for user {user_id}", parent=0, at=0.9))),
    Template(
        1.2,
        70,
        _token(
            401, _log("api-gateway", "invalid credentials for user {user_id}", parent=0, at=0.9, level=WARN)
        ),
    ),
    Template(
        18,
        8,
        (
            _server("checkout", "GET", "/orders/{id}", path="/orders/$ID"),
            _cache("checkout", "GET", "order:$ID", parent=0, at=(0.1, 0.6)),
            _log("checkout", "order {order_id} served from cache", parent=0, at=0.8, level=DEBUG),
        ),
    ),
    Template(
        9,
        35,
        (
            *_order(200),
            _cache("checkout", "SETEX", "order:$ID", parent=0, at=(0.87, 0.93)),
            _log("checkout", "order {order_id} loaded", parent=0, at=0.95),
        ),
    ),
    Template(
        1.5, 25, (*_order(404), _log("checkout", "order {order_id} not found", parent=0, at=0.9, level=WARN))
    ),
    Template(
        0.25,
        4000,
        (
            *_order(500, exception=_DB_GONE),
            _log("checkout", "failed to load order {order_id}", parent=0, at=0.9, level=ERROR),
        ),
        spread=0.3,
    ),
    Template(14, 45, _products(slow=False)),
    Template(0.8, 1800, _products(slow=True)),
    Template(
        10,
        6,
        (
            _server("inventory", "GET", "/products/{sku}", path="/products/$ID"),
            _cache("inventory", "GET", "product:$ID", parent=0, at=(0.15, 0.7)),
        ),
    ),
    Template(
        4,
        320,
        (
            *_checkout(200),
            _log(
                "checkout",
                "order {order_id} placed by user {user_id} for {total} EUR",
                parent=0,
                at=0.96,
                tags=("checkout", "billing"),
            ),
        ),
    ),
    Template(0.4, 150, _out_of_stock()),
    Template(
        0.15,
        10500,
        (
            *_checkout(502, exception=_PAYMENT_TIMEOUT),
            _log(
                "checkout",
                "payment for order {order_id} timed out",
                parent=0,
                at=0.98,
                level=ERROR,
                tags=("billing",),
            ),
        ),
        spread=0.1,
    ),
    Template(5, 900, _email()),
    Template(0.3, 30000, _email(exception=_SMTP_GONE), spread=0.2),
    Template(0.01, 200, _crash()),
)
