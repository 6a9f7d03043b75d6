#!/usr/bin/env python3
"""Reduces a `datacontract test --output-format json` report to what the parity test compares.

Usage: normalize.py DCC_REPORT.json [EXIT_CODE [STDOUT.txt]] > expected-RUN.json

Per check: key, type, qualityId, result, the measured value (`diagnostics.value`) and whether datacontract-cli could
not implement it. Only where they occur (so older expected files keep their shape):
  - `timestamp`: for freshness / retention checks, the newest / oldest timestamp datacontract-cli measured
    (the age itself depends on the day the run happened, so it is not kept);
  - `failedSamples`: with --include-failed-samples; integral floats are written as integers (pandas turns an integer
    column with a NULL into floats) and the samples are sorted, as datacontract-cli does not order them;
  - `reason`: for run-level checks without a key (type lint / general), e.g. an unknown --quality-id.
Top level: tool version, overall result, the checks, and with EXIT_CODE the process exit code (`exit`). When
datacontract-cli stopped before writing a report (a rejected option), `result` is null, `checks` empty, and
`message` holds the first line it printed (from STDOUT.txt).
"""
import json
import os
import sys


def plain(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def samples(rows):
    rows = [{k: plain(v) for k, v in row.items()} if isinstance(row, dict) else row for row in rows]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


path = sys.argv[1]
exit_code = int(sys.argv[2]) if len(sys.argv) > 2 else None
stdout_path = sys.argv[3] if len(sys.argv) > 3 else None

if os.path.exists(path) and os.path.getsize(path) > 0:
    report = json.load(open(path))
else:
    report = None

if report is None:
    message = None
    if stdout_path and os.path.exists(stdout_path):
        lines = [line.strip() for line in open(stdout_path, errors="replace") if line.strip()]
        message = lines[0] if lines else None
    out = {"tool": os.environ.get("DCC_VERSION"), "result": None, "checks": [], "message": message}
else:
    checks = []
    for c in report.get("checks", []):
        diag = c.get("diagnostics") or {}
        check = {
            "key": c.get("key"),
            "type": c.get("type"),
            "qualityId": c.get("qualityId"),
            "result": c.get("result"),
            "value": diag.get("value"),
            "implementation": "unsupported" if c.get("implementation") == "unsupported" else None,
        }
        stamp = diag.get("latest_timestamp") or diag.get("oldest_timestamp")
        if stamp is not None:
            check["timestamp"] = stamp
        if c.get("failedSamples"):
            check["failedSamples"] = samples(c["failedSamples"])
        if c.get("key") is None and c.get("type") in ("lint", "general"):
            check["reason"] = c.get("reason")
        checks.append(check)
    out = {"tool": report.get("datacontractCliVersion"), "result": report.get("result"), "checks": checks}
if exit_code is not None:
    out["exit"] = exit_code
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
