#!/usr/bin/env bash
# Relationship (foreign-key) checks: what meshbox spends on one ODCS relationship against the same anti-join in plain
# DuckDB, on a generated pair of tables with a planted number of orphans.
#
#   benches/references.sh                                   # 1M child rows, 100k parent rows, 1234 orphans, 5 runs
#   CHILD_ROWS=100000 PARENT_ROWS=10000 RUNS=3 benches/references.sh
#
# The mesh has two products in two domains: `sales/orders` (CHILD_ROWS rows, `customer_id` with a property-level
# relationship `to: customers.customer_id`) and `crm/customers` (PARENT_ROWS rows). Every 1000th order has no customer
# (NULL: not an orphan); ORPHANS orders name a customer that does not exist. Rounds (one warm-up, then RUNS, the
# median reported) run each of these in turn, so machine noise spreads over all of them:
#   meshbox   the relationship-check phase of `meshbox validate` (its `references_ms` debug timing: resolving every
#             relationship of the mesh, the anti-join count, the failed-row sample), and `validate` end to end with
#             and without the relationship (the difference is what the relationship costs a user);
#   duckdb    the same two statements meshbox runs (count, then the five-row sample) on the same tables loaded into
#             plain DuckDB (Python package of the same DuckDB version, or the DuckDB CLI), and the load plus the
#             anti-join end to end;
# and prints the ratios. Both must find exactly ORPHANS orphans, or the script fails.
#
# Python DuckDB: /tmp/peers/venv (../shared/peers/setup.sh) when it has duckdb, else the `duckdb` CLI when installed,
# else a venv of its own under $WORK with the DuckDB version meshbox bundles.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CHILD_ROWS=${CHILD_ROWS:-1000000}
PARENT_ROWS=${PARENT_ROWS:-100000}
ORPHANS=${ORPHANS:-1234}
RUNS=${RUNS:-5}
WORK=${WORK:-/tmp/meshbox-references-bench}
DUCKDB_VERSION=${DUCKDB_VERSION:-2.0.0}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshbox-release}
(cd "$REPO" && cargo build --release --quiet)
BIN=$CARGO_TARGET_DIR/release/meshbox
MESH=$WORK/mesh
PLAIN=$WORK/mesh-without-relationship
mkdir -p "$WORK"

# ---- data and the two meshes ------------------------------------------------------------------------------------------
write_mesh() { # $1 folder, $2 the relationship lines (or nothing)
  mkdir -p "$1/crm/customers/data" "$1/sales/orders/data"
  echo "name: References benchmark" > "$1/mesh.yaml"
  cat > "$1/crm/customers/customers.odcs.yaml" <<'YAML'
apiVersion: v3.1.0
kind: DataContract
id: urn:bench:crm:customers
domain: crm
schema:
  - name: customers
    properties:
      - name: customer_id
        logicalType: integer
      - name: name
        logicalType: string
servers:
  - server: local
    type: local
    format: csv
    path: data/customers.csv
YAML
  cat > "$1/sales/orders/orders.odcs.yaml" <<YAML
apiVersion: v3.1.0
kind: DataContract
id: urn:bench:sales:orders
domain: sales
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
      - name: customer_id
        logicalType: integer
$2
      - name: amount
        logicalType: number
servers:
  - server: local
    type: local
    format: csv
    path: data/orders.csv
YAML
}
STAMP="$CHILD_ROWS $PARENT_ROWS $ORPHANS"
if [[ $(cat "$WORK/stamp" 2>/dev/null) != "$STAMP" ]]; then
  echo "== generating $CHILD_ROWS orders, $PARENT_ROWS customers, $ORPHANS orphans under $WORK"
  rm -rf "$MESH" "$PLAIN"
  write_mesh "$MESH" "        relationships:
          - to: customers.customer_id"
  write_mesh "$PLAIN" ""
  python3 - "$MESH" "$CHILD_ROWS" "$PARENT_ROWS" "$ORPHANS" <<'PY'
import sys
mesh, n, p, orphans = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
step = n // orphans
assert step >= 2, "fewer child rows than twice the orphans"
with open(f"{mesh}/crm/customers/data/customers.csv", "w") as f:
    f.write("customer_id,name\n")
    f.writelines(f"{i},customer {i}\n" for i in range(1, p + 1))
planted = 0
with open(f"{mesh}/sales/orders/data/orders.csv", "w") as f:
    f.write("order_id,customer_id,amount\n")
    for i in range(1, n + 1):
        if i % step == 0 and planted < orphans:
            planted += 1
            customer = str(p + i)  # no such customer
        elif i % 1000 == 1:
            customer = ""  # no customer at all: not an orphan
        else:
            customer = str((i * 7919) % p + 1)
        f.write(f"{i},{customer},{i % 997}.{i % 100:02d}\n")
assert planted == orphans
PY
  cp "$MESH"/crm/customers/data/customers.csv "$PLAIN"/crm/customers/data/
  cp "$MESH"/sales/orders/data/orders.csv "$PLAIN"/sales/orders/data/
  echo "$STAMP" > "$WORK/stamp"
fi
CUSTOMERS=$MESH/crm/customers/data/customers.csv
ORDERS=$MESH/sales/orders/data/orders.csv

# ---- plain DuckDB -----------------------------------------------------------------------------------------------------
PY=""
if [[ -x /tmp/peers/venv/bin/python ]] && /tmp/peers/venv/bin/python -c 'import duckdb' 2>/dev/null; then
  PY=/tmp/peers/venv/bin/python
elif ! command -v duckdb >/dev/null; then
  if [[ ! -x $WORK/venv/bin/python ]] || ! "$WORK/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    echo "== installing duckdb==$DUCKDB_VERSION into $WORK/venv"
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install --quiet "duckdb==$DUCKDB_VERSION"
  fi
  PY=$WORK/venv/bin/python
fi
COUNT_SQL='SELECT count(*) FROM orders AS c ANTI JOIN customers AS p ON p."customer_id" = c."customer_id" WHERE c."customer_id" IS NOT NULL'
SAMPLE_SQL='SELECT c.* FROM orders AS c ANTI JOIN customers AS p ON p."customer_id" = c."customer_id" WHERE c."customer_id" IS NOT NULL ORDER BY c."customer_id" LIMIT 5'
# One baseline run: load both tables, then the two statements meshbox runs; prints its timings as JSON.
cat > "$WORK/duckdb_python.py" <<'PY'
import json, sys, time
import duckdb
customers, orders, count_sql, sample_sql = sys.argv[1:5]
t0 = time.perf_counter()
con = duckdb.connect(":memory:")
con.execute("CREATE TABLE customers AS SELECT * FROM read_csv(?, header = true)", [customers])
con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?, header = true)", [orders])
t1 = time.perf_counter()
found = con.execute(count_sql).fetchone()[0]
if found:
    con.execute(sample_sql).fetchall()
t2 = time.perf_counter()
print(json.dumps({"engine": f"python duckdb {duckdb.__version__}", "orphans": found,
                  "antijoin_ms": (t2 - t1) * 1000, "end_to_end_ms": (t2 - t0) * 1000}))
PY
cat > "$WORK/duckdb_cli.py" <<'PY'
import json, re, subprocess, sys, time
customers, orders, count_sql, sample_sql = sys.argv[1:5]
q = lambda p: p.replace("'", "''")
script = (f"CREATE TABLE customers AS SELECT * FROM read_csv('{q(customers)}', header = true);\n"
          f"CREATE TABLE orders AS SELECT * FROM read_csv('{q(orders)}', header = true);\n"
          f".timer on\n{count_sql};\n{sample_sql};\n")
version = subprocess.run(["duckdb", "--version"], capture_output=True, text=True).stdout.strip()
t0 = time.perf_counter()
out = subprocess.run(["duckdb", "-csv", "-noheader"], input=script, capture_output=True, text=True, check=True).stdout
end = (time.perf_counter() - t0) * 1000
join = sum(float(x) for x in re.findall(r"Run Time \(s\): real ([0-9.]+)", out)) * 1000
print(json.dumps({"engine": f"duckdb CLI {version}", "orphans": int(out.strip().splitlines()[0]),
                  "antijoin_ms": join, "end_to_end_ms": end}))
PY
if [[ -n $PY ]]; then BASELINE="$PY $WORK/duckdb_python.py"; else BASELINE="python3 $WORK/duckdb_cli.py"; fi

# ---- rounds: baseline, meshbox with the relationship, meshbox without; one warm-up round, then RUNS measured -----------
RESULTS=$(python3 - "$BIN" "$MESH" "$PLAIN" "$RUNS" "$WORK" "$BASELINE" "$CUSTOMERS" "$ORDERS" "$COUNT_SQL" "$SAMPLE_SQL" <<'PY'
import json, os, re, shlex, statistics, subprocess, sys, time
binary, mesh, plain, runs, work, baseline = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
baseline_args = shlex.split(baseline) + sys.argv[7:11]
env = dict(os.environ, NO_COLOR="1", MESHBOX_CACHE_DIR=f"{work}/cache", MESHBOX_STATE_DIR=f"{work}/state",
           RUST_LOG="meshbox::live::snapshot=debug,warn")
def validate(folder):
    t0 = time.perf_counter()
    out = subprocess.run([binary, "validate", folder, "--format", "json"], capture_output=True, text=True, env=env)
    return (time.perf_counter() - t0) * 1000, out
rows = {k: [] for k in ["phase", "with", "without", "join", "end"]}
for round in range(runs + 1):
    duck = json.loads(subprocess.run(baseline_args, capture_output=True, text=True, check=True).stdout)
    ms, out = validate(mesh)
    m = re.search(r"references_ms=([0-9.]+)", re.sub(r"\x1b\[[0-9;]*m", "", out.stderr))
    report = json.loads(out.stdout)
    checks = [c for p in report["products"] for c in p["checks"] if c["kind"] == "relationship_foreign_key"]
    assert len(checks) == 1, checks
    without = validate(plain)[0]
    if round == 0:
        continue  # warm-up: page cache, first start
    for k, v in [("phase", float(m.group(1)) if m else float("nan")), ("with", ms), ("without", without),
                 ("join", duck["antijoin_ms"]), ("end", duck["end_to_end_ms"])]:
        rows[k].append(v)
print(json.dumps({"engine": duck["engine"], "duck_orphans": duck["orphans"], "orphans": checks[0]["measured"],
                  "status": checks[0]["status"], **{k: statistics.median(v) for k, v in rows.items()}}))
PY
)

# ---- report -----------------------------------------------------------------------------------------------------------
python3 - "$RESULTS" "$ORPHANS" "$CHILD_ROWS" "$PARENT_ROWS" "$RUNS" <<'PY'
import json, sys
r, planted = json.loads(sys.argv[1]), int(sys.argv[2])
child, parent, runs = sys.argv[3], sys.argv[4], sys.argv[5]
print(f"relationship check: {child} child rows, {parent} parent rows, {planted} planted orphans; median of {runs} rounds")
print(f"  baseline: {r['engine']}; each round runs the baseline, then meshbox with and without the relationship")
print("| what | ms |")
print("|---|---|")
print(f"| meshbox relationship-check phase (resolve + count + sample) | {r['phase']:.1f} |")
print(f"| plain DuckDB, same count + sample on loaded tables | {r['join']:.1f} |")
print(f"| meshbox validate with the relationship | {r['with']:.0f} |")
print(f"| meshbox validate without it | {r['without']:.0f} |")
print(f"| plain DuckDB load + anti-join end to end | {r['end']:.0f} |")
ratio = r["phase"] / r["join"] if r["join"] else float("nan")
print(f"ratio meshbox phase / plain DuckDB anti-join: {ratio:.2f}x; validate with - without: {r['with'] - r['without']:+.0f} ms")
bad = []
if r["orphans"] != planted or r["status"] != "fail":
    bad.append(f"meshbox found {r['orphans']} ({r['status']})")
if r["duck_orphans"] != planted:
    bad.append(f"DuckDB found {r['duck_orphans']}")
print("planted orphans: " + ("ok, both found " + str(planted) if not bad else "MISMATCH " + "; ".join(bad)))
sys.exit(1 if bad else 0)
PY
