#!/usr/bin/env bash
# The Postgres endpoint beside the console's JSON API, the CSV export and DuckDB's own Python client (the floor), on
# one generated product of ROWS rows (default 1,000,000): an aggregate over every row, and a full fetch of FETCH rows
# (default 100,000). Each case runs RUNS times (default 5), round-robin; the median wall time of each is printed with
# its ratio to the floor.
#
#   benches/pg.sh                        # builds meshbox in release mode first
#   BIN=~/.cache/meshbox-release/release/meshbox RUNS=3 benches/pg.sh
#
# psycopg and duckdb go into a bench venv (BENCH_VENV, default ~/.cache/meshbox-bench); both clients read every
# value into Python objects, as an analysis script would.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROWS=${ROWS:-1000000}
FETCH=${FETCH:-100000}
RUNS=${RUNS:-5}
HTTP_PORT=${HTTP_PORT:-17900}
PG_PORT=${PG_PORT:-17932}
VENV=${BENCH_VENV:-$HOME/.cache/meshbox-bench}
if [[ -z ${BIN:-} ]]; then
  export CARGO_TARGET_DIR=${RELEASE_TARGET_DIR:-$HOME/.cache/meshbox-release}
  (cd "$REPO" && cargo build --release --quiet)
  BIN=$CARGO_TARGET_DIR/release/meshbox
fi
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==2.0.0" "psycopg[binary]==3.3.9" >&2

work=$(mktemp -d /tmp/meshbox-pg-bench.XXXXXX)
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The mesh: one product, `bench.events`, read by role `analyst` with nothing masked.
mkdir -p "$work/mesh/bench/events/data"
cat >"$work/mesh/mesh.yaml" <<'YAML'
name: Postgres endpoint benchmark
roles:
  analyst: {clearance: public, unmasked: ["*"]}
YAML
cat >"$work/mesh/bench/events/events.odcs.yaml" <<'YAML'
apiVersion: v3.1.0
kind: DataContract
id: urn:bench:events
name: Events
version: 1.0.0
status: active
schema:
  - name: events
    properties:
      - {name: id, logicalType: integer, physicalType: BIGINT}
      - {name: category, logicalType: string}
      - {name: amount, logicalType: number, physicalType: "DECIMAL(12,2)"}
      - {name: ratio, logicalType: number, physicalType: DOUBLE}
      - {name: happened_at, logicalType: timestamp, physicalType: TIMESTAMP}
      - {name: note, logicalType: string}
servers:
  - {server: local, type: local, format: csv, path: data/events.csv}
YAML
"$VENV/bin/python" - "$work/mesh/bench/events/data/events.csv" "$ROWS" <<'PY'
import sys, duckdb
path, rows = sys.argv[1], int(sys.argv[2])
duckdb.sql(f"""COPY (SELECT range AS id, 'category-' || (range % 20) AS category,
  ((range * 7919) % 100000) / 100.0 AS amount, (range % 1000) / 7.0 AS ratio,
  TIMESTAMP '2024-01-01' + to_seconds(range) AS happened_at, 'note number ' || range AS note
  FROM range({rows})) TO '{path}' (HEADER)""")
PY

RUST_LOG=warn "$BIN" serve "$work/mesh" --no-watch --port "$HTTP_PORT" --pg-port "$PG_PORT" \
  --state-dir "$work/state" --sql-time-limit-ms 120000 --max-rows "$FETCH" --export-max-rows "$FETCH" \
  >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/api/status" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$HTTP_PORT/api/status" >/dev/null || { cat "$work/serve.log"; exit 1; }

echo "machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $BIN; rows: $ROWS; fetch: $FETCH; runs: $RUNS"
"$VENV/bin/python" - "$work/mesh/bench/events/data/events.csv" "$HTTP_PORT" "$PG_PORT" "$FETCH" "$RUNS" <<'PY'
import json, statistics, sys, time, urllib.request
import duckdb, psycopg

csv, http_port, pg_port, fetch, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
AGG = "SELECT category, count(*) AS n, sum(amount) AS total, avg(ratio) AS mean FROM {t} GROUP BY category ORDER BY 1"
FETCH = "SELECT * FROM {t} LIMIT " + str(fetch)

floor = duckdb.connect()
floor.execute(f"""CREATE TABLE events AS SELECT * FROM read_csv('{csv}', columns = {{'id': 'BIGINT',
  'category': 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'ratio': 'DOUBLE', 'happened_at': 'TIMESTAMP',
  'note': 'VARCHAR'}}, header = true)""")
dsn = f"host=127.0.0.1 port={pg_port} dbname=meshbox user=analyst"
pg = psycopg.connect(dsn, autocommit=True)

def post(path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{http_port}{path}", json.dumps(body).encode(),
                                 {"content-type": "application/json", "x-meshbox-role": "analyst"})
    with urllib.request.urlopen(req, timeout=600) as res:
        return res.read()

def duckdb_python(sql):
    return len(floor.execute(sql.format(t="events")).fetchall())

def psycopg_text(sql):
    with pg.cursor() as cur:
        cur.execute(sql.format(t="bench.events"))
        return len(cur.fetchall())

def psycopg_binary(sql):
    with pg.cursor(binary=True) as cur:
        cur.execute(sql.format(t="bench.events"))
        return len(cur.fetchall())

def api_query(sql):
    return len(json.loads(post("/api/query", {"sql": sql.format(t="bench.events")}))["rows"])

def api_export(sql):
    return post("/api/export", {"sql": sql.format(t="bench.events"), "format": "csv"}).count(b"\n") - 1

CASES = [duckdb_python, psycopg_text, psycopg_binary, api_query, api_export]
for name, sql in [("aggregate over every row", AGG), (f"fetch of {fetch} rows", FETCH)]:
    times = {c.__name__: [] for c in CASES}
    counts = {}
    for _ in range(runs):
        for case in CASES:
            started = time.perf_counter()
            counts[case.__name__] = case(sql)
            times[case.__name__].append(time.perf_counter() - started)
    base = statistics.median(times["duckdb_python"])
    print(f"\n{name}")
    print(f"  {'client':<16} {'rows':>8} {'median s':>10} {'× floor':>8}")
    for case in CASES:
        t = statistics.median(times[case.__name__])
        print(f"  {case.__name__:<16} {counts[case.__name__]:>8} {t:>10.3f} {t / base:>8.2f}")
PY
