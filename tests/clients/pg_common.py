"""Shared by the pg_*.py clients that tests/integration/pg.rs runs: the connection string from the environment
(MESHBOX_PG_PORT, MESHBOX_PG_USER, MESHBOX_PG_PASSWORD) and JSON output of values and errors."""

import datetime
import decimal
import json
import os
import uuid


def dsn(user=None):
    parts = {
        "host": "127.0.0.1",
        "port": os.environ["MESHBOX_PG_PORT"],
        "dbname": "meshbox",
        "user": user or os.environ.get("MESHBOX_PG_USER", "viewer"),
        "connect_timeout": "10",
    }
    password = os.environ.get("MESHBOX_PG_PASSWORD")
    if password:
        parts["password"] = password
    return " ".join(f"{k}={v}" for k, v in parts.items())


def plain(value):
    """A value as JSON can carry it, with its Python type name."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        shown = value.isoformat()
    elif isinstance(value, datetime.timedelta):
        shown = value.total_seconds()
    elif isinstance(value, (decimal.Decimal, uuid.UUID)):
        shown = str(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        shown = bytes(value).hex()
    else:
        shown = value
    return {"type": type(value).__name__, "value": shown}


def error(e):
    diag = getattr(e, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    return {
        "sqlstate": getattr(e, "sqlstate", None),
        "message": (primary or str(e)).strip(),
        "position": getattr(diag, "statement_position", None) if diag else None,
    }


def emit(obj):
    print(json.dumps(obj, default=str))
