#!/usr/bin/env bash
# meshbox beside datacontract-cli and the raw-DuckDB baseline, on the peer benchmark's `orders` data.
#
#   benches/peers.sh                          # SIZES="100000 1000000" RUNS=5
#   SIZES=100000 RUNS=3 benches/peers.sh
#   BEFORE=/path/to/older/meshbox SIZES=100000 RUNS=3 benches/peers.sh   # also times an older build, side by side
#   BIN=/path/to/meshbox benches/peers.sh                                 # a build of your own instead of building
#
# Builds meshbox in release mode, then runs ../shared/peers/bench.sh with meshbox's cases added
# (`meshbox test` on the same contract and the same files, CSV and Parquet). bench.sh times every case
# round-robin under /usr/bin/time -v and prints median wall time, peak RSS and the ratio to the DuckDB baseline.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
PEERS=${PEERS:-$REPO/../shared/peers}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshbox-target}
if [[ -z ${BIN:-} ]]; then
  (cd "$REPO" && cargo build --release --quiet)
  BIN=$CARGO_TARGET_DIR/release/meshbox
fi
CASES=$(mktemp --suffix=.tsv)
trap 'rm -f "$CASES"' EXIT
# Each command tests the contract in the peers folder against {D} (PEERS_DATA), like the datacontract-cli cases do.
cat > "$CASES" <<TSV
meshbox_test_csv	env PEERS_DATA={D} ORDERS_STEM=orders MESHBOX_CACHE_DIR=/tmp/peers/meshbox-cache $BIN test {HERE}/orders.odcs.yaml --server local_csv
meshbox_test_parquet	env PEERS_DATA={D} ORDERS_STEM=orders MESHBOX_CACHE_DIR=/tmp/peers/meshbox-cache $BIN test {HERE}/orders.odcs.yaml --server local_parquet
TSV
if [[ -n ${BEFORE:-} ]]; then
  cat >> "$CASES" <<TSV
meshbox_before_test_csv	env PEERS_DATA={D} ORDERS_STEM=orders MESHBOX_CACHE_DIR=/tmp/peers/meshbox-cache $BEFORE test {HERE}/orders.odcs.yaml --server local_csv
meshbox_before_test_parquet	env PEERS_DATA={D} ORDERS_STEM=orders MESHBOX_CACHE_DIR=/tmp/peers/meshbox-cache $BEFORE test {HERE}/orders.odcs.yaml --server local_parquet
TSV
fi
SIZES=${SIZES:-"100000 1000000"} RUNS=${RUNS:-5} EXTRA_CASES=$CASES "$PEERS/bench.sh"
# Afterwards: the same commands on the files with planted defects must fail with exactly the planted counts (a correctness gate).
for N in ${SIZES:-100000 1000000}; do
  D=${PEERS_ROOT:-/tmp/peers}/data/n$N
  if [[ -f $D/orders_bad.csv ]]; then
    for server in local_csv local_parquet; do
      out=$(env PEERS_DATA="$D" ORDERS_STEM=orders_bad "$BIN" test "$PEERS/orders.odcs.yaml" --server $server --format json || true)
      echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
got = {c["quality_id"]: c["measured"] for c in r["checks"] if c.get("quality_id")}
want = {"customer_email_not_null": 37, "order_id_unique": 5, "amount_non_negative": 11, "status_accepted_values": 3}
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
print("meshbox planted defects", sys.argv[1], "ok" if not bad and r["result"] == "failed" else f"MISMATCH {bad}")
sys.exit(1 if bad else 0)' "n$N $server"
    done
  fi
done
