#!/usr/bin/env bash
# Prototype of the .ci/run step: a venv holding jsonschema plus the three registry packages that ship the
# official ODCS/ODPS schema files (installed --no-deps: only their data files are used, nothing is imported).
set -euo pipefail
VENV=${SCHEMA_ORACLE_VENV:-/tmp/schema-oracle/venv}
if [[ ! -x $VENV/bin/python ]]; then python3 -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "jsonschema==4.26.0"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  "datacontract-cli==1.2.8" "open-data-contract-standard==3.0.1" "dataproduct-cli==0.3.2"
"$VENV/bin/python" - <<'PY'
from importlib.metadata import distribution  # locates files without importing the packages
for dist, names in {"datacontract-cli": ["datacontract/schemas/odcs-3.0.2.schema.json", "datacontract/schemas/odcs-3.1.0.schema.json", "datacontract/schemas/odcs-3.2.0.schema.json"],
                    "open-data-contract-standard": ["open_data_contract_standard/schema.json"],
                    "dataproduct-cli": ["dataproduct/schemas/odps-1.0.0.schema.json", "dataproduct/schemas/odps-1.1.0.schema.json"]}.items():
    for n in names:
        p = distribution(dist).locate_file(n)
        assert p.is_file(), p
print("schema oracle ready")
PY
