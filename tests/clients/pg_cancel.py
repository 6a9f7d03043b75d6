"""Starts a query that would run for long, sends a CancelRequest (psycopg's conn.cancel()) after a moment, and
prints how it ended and how long it took, as JSON; then checks the connection still answers."""

import threading
import time

import psycopg

from pg_common import dsn, emit, error

SLOW = "SELECT count(*) FROM range(100000000) a, range(100000) b WHERE a.range + b.range = -1"


def main():
    with psycopg.connect(dsn(), autocommit=True) as conn:
        started = time.monotonic()
        timer = threading.Timer(0.5, conn.cancel)
        timer.start()
        outcome = {}
        try:
            conn.execute(SLOW).fetchall()
            outcome["finished"] = True
        except psycopg.Error as e:
            outcome["error"] = error(e)
        outcome["seconds"] = time.monotonic() - started
        timer.cancel()
        outcome["after"] = conn.execute("SELECT 41 + 1").fetchone()[0]
        emit(outcome)


if __name__ == "__main__":
    main()
