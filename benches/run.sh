#!/usr/bin/env bash
# The catalog and live-folder benchmarks, with the release binary (figures go to BENCHMARKS.md).
#
#   benches/run.sh               # render + reload + access + discovery + start + soak
#   benches/run.sh render        # only one of them
#   benches/run.sh start         # cold start beside the DuckDB floor (add --binary A --binary B by hand to compare)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/meshbox-target}
(cd "$REPO" && cargo build --release --quiet)
BIN=$CARGO_TARGET_DIR/release/meshbox
echo "machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for what in ${@:-render reload access discovery start soak}; do
  echo
  echo "## meshbox bench $what"
  echo
  RUST_LOG=warn "$BIN" bench "$what"
done
