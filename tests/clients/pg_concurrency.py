"""Opens N connections at once (argv[1], default 50), each running a few queries, and prints how many finished,
and the distinct errors, as JSON."""

import sys
import threading

import psycopg

from pg_common import dsn, emit

QUERIES = [
    "SELECT count(*) FROM crm.customers",
    "SELECT sum(range) FROM range(200000)",
    "SELECT table_name FROM information_schema.tables ORDER BY 1",
]


def client(results, errors, i):
    try:
        with psycopg.connect(dsn(), autocommit=True) as conn:
            for q in QUERIES:
                conn.execute(q).fetchall()
        results.append(i)
    except Exception as e:  # every failure is reported, none is fatal to the script
        errors.append(f"{type(e).__name__}: {str(e).strip()[:200]}")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    results, errors = [], []
    threads = [threading.Thread(target=client, args=(results, errors, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emit({"ok": len(results), "errors": sorted(set(errors))})


if __name__ == "__main__":
    main()
