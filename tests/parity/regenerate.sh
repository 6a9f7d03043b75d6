#!/usr/bin/env bash
# Regenerates the expected verdicts of every parity case with datacontract-cli 1.2.8.
#
#   ../shared/peers/setup.sh          # once: installs datacontract-cli into /tmp/peers/venv
#   tests/parity/regenerate.sh
#
# For each case folder and each of its contract's servers, runs `datacontract test --server S` and stores the
# normalized report as expected-S.json next to the contract. `cargo test` (tests/integration/parity.rs) then checks
# that meshbox reaches the same verdicts and values.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${PEERS_VENV:-/tmp/peers/venv}
DCC=$VENV/bin/datacontract
[[ -x $DCC ]] || { echo "datacontract-cli not found at $DCC: run ../shared/peers/setup.sh first" >&2; exit 1; }
"$DCC" --version
for contract in "$HERE"/*/*.odcs.yaml; do
  dir=$(dirname "$contract")
  for server in $(grep -E '^  - server: ' "$contract" | awk '{print $3}'); do
    out=$(mktemp --suffix=.json)
    (cd "$dir" && "$DCC" test --server "$server" --output "$out" --output-format json "$(basename "$contract")" > /dev/null) || true
    "$VENV/bin/python" "$HERE/normalize.py" "$out" > "$dir/expected-$server.json"
    rm -f "$out"
    echo "$(basename "$dir") $server: $(grep -o '"result": "[a-z]*"' "$dir/expected-$server.json" | head -1)"
  done
done
