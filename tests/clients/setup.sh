#!/usr/bin/env bash
# The client tools the PG-endpoint and MCP tests drive meshbox with: psycopg (Postgres extended protocol, binary
# types) and the official MCP Python SDK, in a venv outside the checkout. Idempotent; prints the venv's python.
# Used by .ci/run; tests/integration/pg.rs and mcp.rs find the venv at the same default place (MESHBOX_CLIENTS_PYTHON
# overrides). psql itself comes from the postgresql-client Debian package (.ci/run installs it).
set -euo pipefail
VENV=${MESHBOX_CLIENTS_VENV:-$HOME/.cache/meshbox-clients}
if [[ ! -x $VENV/bin/python ]]; then
  python3 -m venv "$VENV" >&2
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "psycopg[binary]==3.3.9" "mcp==2.3.0" >&2
echo "$VENV/bin/python"
