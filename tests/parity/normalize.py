#!/usr/bin/env python3
"""Reduces a `datacontract test --output-format json` report to what the parity test compares.

Usage: normalize.py DCC_REPORT.json > expected-SERVER.json
"""
import json
import sys

report = json.load(open(sys.argv[1]))
checks = []
for c in report.get("checks", []):
    diag = c.get("diagnostics") or {}
    checks.append({
        "key": c.get("key"),
        "type": c.get("type"),
        "qualityId": c.get("qualityId"),
        "result": c.get("result"),
        "value": diag.get("value"),
        "implementation": "unsupported" if c.get("implementation") == "unsupported" else None,
    })
json.dump({"tool": report.get("datacontractCliVersion"), "result": report.get("result"), "checks": checks},
          sys.stdout, indent=1)
sys.stdout.write("\n")
