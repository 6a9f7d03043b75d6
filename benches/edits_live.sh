#!/usr/bin/env bash
# Edits live (issue 13 §4): write → visible through `POST /api/query`, as users see it. Each binary runs
# `meshbox serve` with its real watcher on a copy of the mesh; one line is appended to a CSV and the console is polled
# over a real socket (as the default role) until the new row answers. Binaries take turns edit by edit, so all see the
# same machine load. Two meshes: a copy of the bundled sample mesh (a 2,400-row CSV) and a generated 1,000-product mesh
# with five masked role profiles (the last product's CSV, which no other product consumes).
#
#   benches/edits_live.sh BINARY...                       # oldest first
#   EDITS=20 PRODUCTS=1000 benches/edits_live.sh /tmp/meshbox-before ~/.cache/meshbox-release/release/meshbox
#
# The newest binary writes the synthetic mesh (`meshbox bench generate`); the roles and masking below are the same
# as `meshbox bench reload` adds (src/cli/bench_mesh.rs, `ROLES`). Needs Python 3 (standard library only).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDITS=${EDITS:-20}
PRODUCTS=${PRODUCTS:-1000}
bins=("$@")
((${#bins[@]} >= 1)) || { echo "usage: edits_live.sh BINARY..." >&2; exit 2; }
work=$(mktemp -d /tmp/meshbox-edits-live.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for bin in "${bins[@]}"; do echo "binary: $bin"; done

# The synthetic mesh, written once and copied per binary.
"${bins[-1]}" bench generate "$work/synthetic" --products "$PRODUCTS" >/dev/null
cat >>"$work/synthetic/mesh.yaml" <<'YAML'
access:
  default_role: viewer
  default_level: public
  levels:
    domain01: internal
    domain02: restricted
roles:
  viewer: {clearance: public, unmasked: [public]}
  analyst: {clearance: internal, unmasked: [public, internal]}
  auditor: {clearance: restricted, unmasked: [public, restricted]}
  team00: {clearance: public, unmasked: [public], domains: [domain00]}
  team01: {clearance: internal, unmasked: [public], domains: [domain01]}
  steward: {clearance: restricted, unmasked: ["*"]}
  admin: {admin: true}
YAML
mkdir -p "$work/synthetic/policies"
printf 'masking: {restricted: hash, internal: redact, pii: partial}\n' >"$work/synthetic/policies/masking.yaml"
last=$(printf '%04d' $((PRODUCTS - 1)))
synthetic_product=$(cd "$work/synthetic" && ls -d domain*/*-"$last")

# Starts `BIN serve DIR` on PORT; prints its pid once /api/status answers.
serve() {
  local bin=$1 dir=$2 port=$3
  RUST_LOG=warn "$bin" serve "$dir" --port "$port" --state-dir "$dir.state" --sql-time-limit-ms 30000 \
    >"$dir.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/api/status', timeout=1)" \
      2>/dev/null; then
      echo "$pid"
      return
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$dir.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "meshbox serve on port $port did not answer" >&2
  exit 1
}

measure() {
  local label=$1 source=$2 csv=$3 kind=$4 table=$5
  local ports=() dirs=() port=7790
  for i in "${!bins[@]}"; do
    local dir="$work/run-$kind-$i"
    cp -r "$source" "$dir"
    pid=$(serve "${bins[$i]}" "$dir" "$port")
    pids+=("$pid")
    ports+=("$port")
    dirs+=("$dir")
    port=$((port + 1))
  done
  python3 - "$label" "$EDITS" "$csv" "$kind" "$table" "${dirs[*]}" "${ports[*]}" "${bins[*]}" <<'PY'
import json, sys, time, urllib.request

label, edits, csv, kind, table = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
dirs, ports, bins = sys.argv[6].split(), sys.argv[7].split(), sys.argv[8].split()

def post(port, sql):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/query", data=json.dumps({"sql": sql}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)

def status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=60) as r:
        return json.load(r)

def row(path, n):
    # sample: a new stock level; synthetic: the last line with a new id (the first column).
    if kind == "sample":
        return f"2099-01-01,WH-BENCH,SKU-B{n:05d},1,0", f"SELECT count(*) FROM {table} WHERE sku = 'SKU-B{n:05d}'"
    with open(path) as f:
        last = f.read().rstrip("\r\n").splitlines()[-1]
    marker = 10_000_000 + n
    return marker_row(last, marker), f"SELECT count(*) FROM {table} WHERE id = {marker}"

def eol(path):
    # The file's own line ending: a CRLF file that gains an LF line is no longer one CSV dialect.
    with open(path, "rb") as f:
        return b"\r\n" if f.read().endswith(b"\r\n") else b"\n"

def marker_row(last, marker):
    return ",".join([str(marker)] + last.split(",")[1:])

def pct(v, p):
    s = sorted(v)
    return s[round((len(s) - 1) * p)]

times = {b: [] for b in range(len(bins))}
phases = {b: [] for b in range(len(bins))}
for n in range(1, edits + 1):
    for b, (d, port) in enumerate(zip(dirs, ports)):
        path = f"{d}/{csv}"
        line, sql = row(path, n)
        before = status(port)["history"][0]["generation"]
        written = time.perf_counter()
        with open(path, "ab") as f:
            f.write(line.encode() + eol(path))
        while True:
            answer = post(port, sql)
            if answer.get("rows") == [[1]]:
                break
            if time.perf_counter() - written > 30:
                sys.exit(f"{bins[b]}: the new row is not visible after 30 s: {answer}; see {d}.log")
            time.sleep(0.005)
        times[b].append((time.perf_counter() - written) * 1000)
        # The row can answer before the rebuild has finished (the metadata follows the data): wait for its snapshot,
        # so that its phases are the ones recorded and the next binary's edit does not share the machine with it.
        while (latest := status(port)["history"][0])["generation"] <= before:
            time.sleep(0.005)
        phases[b].append(latest)

print(f"\n### {label}: {edits} edits, write → visible through POST /api/query (real socket, default role)\n")
print("| binary | p50 ms | p95 ms | max ms | rebuild p50 ms |\n|---|---|---|---|---|")
for b, name in enumerate(bins):
    took = [h.get("took_ms", 0) for h in phases[b]]
    print(f"| {name} | {pct(times[b], .5):.0f} | {pct(times[b], .95):.0f} | {max(times[b]):.0f} | {pct(took, .5):.0f} |")
for b, name in enumerate(bins):
    with_phases = [h["phases"] for h in phases[b] if h.get("phases")]
    if not with_phases:
        continue
    keys = list(with_phases[0].keys())
    print(f"\nPhases of {name} (p50 ms over {len(with_phases)} rebuilds, from /api/status history):\n")
    print("| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    print("| " + " | ".join(f"{pct([p[k] for p in with_phases], .5):.1f}" for k in keys) + " |")
PY
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pids=()
}

measure "sample mesh (12 products, 2,400-row CSV)" "$REPO/sample-mesh" \
  catalog/stock-levels/data/stock_levels.csv sample catalog.stock_levels
table=$(basename "$synthetic_product" | tr '-' '_')
measure "synthetic mesh ($PRODUCTS products, 5 masked role profiles)" "$work/synthetic" \
  "$synthetic_product/data.csv" synthetic "${synthetic_product%%/*}.$table"
