#!/usr/bin/env bash
# Regenerates the expected verdicts of the parity cases with datacontract-cli 1.2.8.
#
#   ../shared/peers/setup.sh          # once: installs datacontract-cli into /tmp/peers/venv
#   tests/parity/regenerate.sh        # every case
#   tests/parity/regenerate.sh flags  # only the named case folders
#
# A case folder holds one `*.odcs.yaml` and its data. Its runs:
#   - with a `runs.txt`: one run per line, `<name> <datacontract test arguments...>` (shell quoting; blank lines
#     and lines starting with # are ignored), e.g. `tagged --server local_csv --tag critical`;
#   - without: one run per server of the contract, `<server> --server <server>`.
# Each run executes `datacontract test <arguments> --output ... --output-format json <contract>` inside the case
# folder and stores the normalized report (normalize.py, with the exit code) as expected-<name>.json; the case's
# previous expected-*.json files are removed first. `cargo test` (tests/integration/parity.rs) then checks that
# meshbox reaches the same verdicts and values.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VENV=${PEERS_VENV:-/tmp/peers/venv}
DCC=$VENV/bin/datacontract
PY=$VENV/bin/python
[[ -x $DCC ]] || { echo "datacontract-cli not found at $DCC: run ../shared/peers/setup.sh first" >&2; exit 1; }
DCC_VERSION=$("$DCC" --version | tr -d '[:space:]')
export DCC_VERSION
echo "datacontract-cli $DCC_VERSION"

if [[ $# -gt 0 ]]; then
  contracts=()
  for case in "$@"; do contracts+=("$HERE/${case%/}"/*.odcs.yaml); done
else
  contracts=("$HERE"/*/*.odcs.yaml)
fi

# Prints the runs of a case, one a line: `<name> <arguments>`.
runs_of() {
  local dir=$1 contract=$2
  if [[ -f $dir/runs.txt ]]; then
    grep -Ev '^[[:space:]]*(#|$)' "$dir/runs.txt"
  else
    grep -E '^  - server: ' "$contract" | awk '{print $3, "--server", $3}'
  fi
}

for contract in "${contracts[@]}"; do
  [[ -f $contract ]] || { echo "no contract: $contract" >&2; exit 1; }
  dir=$(dirname "$contract")
  case=$(basename "$dir")
  mapfile -t runs < <(runs_of "$dir" "$contract")
  rm -f "$dir"/expected-*.json
  for line in "${runs[@]}"; do
    read -r name rest <<< "$line"
    # shell-like splitting of the arguments, without evaluating them
    mapfile -d '' -t args < <("$PY" -c 'import shlex, sys; sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))' "$rest")
    out=$(mktemp --suffix=.json)
    log=$(mktemp --suffix=.txt)
    rm -f "$out"
    rc=0
    (cd "$dir" && "$DCC" test "${args[@]}" --output "$out" --output-format json "$(basename "$contract")" > "$log" 2>&1) || rc=$?
    "$PY" "$HERE/normalize.py" "$out" "$rc" "$log" > "$dir/expected-$name.json"
    rm -f "$out" "$log"
    "$PY" - "$dir/expected-$name.json" "$case" "$name" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]} {sys.argv[3]}: result {e['result']}, exit {e['exit']}, {len(e['checks'])} checks"
      + (f" ({e['message']})" if e.get("message") else ""))
PY
  done
done
