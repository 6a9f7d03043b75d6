#!/usr/bin/env bash
# Before/after in one run: the same `meshbox bench` of two or more release binaries, interleaved so all see the same
# machine load. Figures are only comparable within one run.
#
#   benches/compare.sh BINARY BINARY... [render reload access discovery]
#   ROUNDS=2 benches/compare.sh /tmp/meshbox-before target/release/meshbox access
#
# Arguments that are executable files are the binaries (oldest first); the rest name the benchmarks (default: all).
set -euo pipefail
bins=()
what=()
for arg in "$@"; do
  if [[ -f $arg && -x $arg ]]; then bins+=("$arg"); else what+=("$arg"); fi
done
((${#bins[@]} >= 2)) || { echo "usage: compare.sh BINARY BINARY... [benchmarks]" >&2; exit 2; }
((${#what[@]})) || what=(render reload access discovery)
ROUNDS=${ROUNDS:-1}
echo "machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for bin in "${bins[@]}"; do
  echo "binary: $bin ($("$bin" --version 2>/dev/null || echo unknown))"
done
for bench in "${what[@]}"; do
  for round in $(seq "$ROUNDS"); do
    for bin in "${bins[@]}"; do
      echo
      echo "## meshbox bench $bench — $bin (round $round)"
      echo
      RUST_LOG=warn "$bin" bench "$bench"
    done
  done
done
