"""One value of each type meshbox serves, read through psycopg in text and in binary format (extended protocol,
server-side parameter binding), then parameters of each type bound and read back. Prints JSON."""

import datetime
import decimal
import uuid

import psycopg

from pg_common import dsn, emit, plain

VALUES = """
SELECT 42::SMALLINT AS int2, 420000::INTEGER AS int4, 4200000000::BIGINT AS int8,
       12.50::DECIMAL(10,2) AS numeric, 1.5::DOUBLE AS float8, 2.25::REAL AS float4,
       true AS bool, 'héllo' AS text, DATE '2024-02-29' AS date,
       TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS tstz,
       TIME '10:11:12.5' AS time, INTERVAL 3 DAY + INTERVAL 4 HOUR AS interval,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS uuid, [1, 2, 3] AS list, {'a': 1, 'b': 'x'} AS struct,
       '\\x00\\xff'::BLOB AS bytea, 18446744073709551615::UBIGINT AS ubigint, NULL::INTEGER AS null_int,
       NULL::VARCHAR AS null_text
"""

PARAMS = [
    ("int", 7),
    ("big", 2**40),
    ("float", 2.5),
    ("decimal", decimal.Decimal("123.456")),
    ("text", "it's ok; DROP TABLE x"),
    ("bool", True),
    ("date", datetime.date(2024, 2, 29)),
    ("timestamp", datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)),
    ("timestamptz", datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ("uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    ("bytes", b"\x00\x01\xff"),
    ("interval", datetime.timedelta(days=1, hours=2)),
    ("none", None),
]


def read(conn, binary):
    with conn.cursor(binary=binary) as cur:
        cur.execute(VALUES)
        row = cur.fetchone()
        names = [d.name for d in cur.description]
        oids = [d.type_code for d in cur.description]
        return {n: dict(plain(v), oid=o) for n, v, o in zip(names, row, oids)}


def bound(conn, binary):
    out = {}
    with conn.cursor(binary=binary) as cur:
        for name, value in PARAMS:
            cur.execute("SELECT %s AS v", (value,))
            out[name] = plain(cur.fetchone()[0])
    return out


def main():
    with psycopg.connect(dsn(), autocommit=True) as conn:
        emit(
            {
                "text": read(conn, False),
                "binary": read(conn, True),
                "params_text": bound(conn, False),
                "params_binary": bound(conn, True),
            }
        )


if __name__ == "__main__":
    main()
