"""Runs SQL through psycopg (extended protocol) and prints what came back, as JSON: per query the column names and
rows, or the error's SQLSTATE and message. Reads {"queries": [...], "params": [[...] or null, ...]} on stdin; the
user is MESHBOX_PG_USER. Each query runs on its own in autocommit, so one failing does not stop the next."""

import json
import sys

import psycopg

from pg_common import dsn, emit, error, plain


def run(conn, sql, params):
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            if cur.description is None:
                return {"status": cur.statusmessage}
            return {
                "columns": [d.name for d in cur.description],
                "rows": [[plain(v)["value"] for v in row] for row in cur.fetchall()],
                "status": cur.statusmessage,
            }
    except psycopg.Error as e:
        return {"error": error(e)}


def main():
    request = json.load(sys.stdin)
    queries = request["queries"]
    params = request.get("params") or [None] * len(queries)
    out = []
    with psycopg.connect(dsn(), autocommit=True) as conn:
        for sql, p in zip(queries, params):
            out.append(run(conn, sql, p))
            if conn.closed:
                conn = psycopg.connect(dsn(), autocommit=True)
    emit(out)


if __name__ == "__main__":
    main()
