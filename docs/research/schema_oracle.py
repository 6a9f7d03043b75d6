"""Validates JSON documents against the official ODCS/ODPS JSON schemas shipped in registry packages.

stdin: one JSON object per line: {"name": ..., "doc": <the manifest as JSON>}
stdout: one JSON object per line: {"name": ..., "schema": "<package>/<file>", "valid": bool, "errors": [...]}
The schema is chosen by the document's own kind + apiVersion (its declared version)."""
import json, sys
from importlib.metadata import distribution
from jsonschema import Draft201909Validator

ODCS = {
    "v3.0.0": None,  # no registry package ships the v3.0.0 schema
    "v3.0.1": ("open-data-contract-standard", "open_data_contract_standard/schema.json"),          # open-data-contract-standard==3.0.1
    "v3.0.2": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),      # datacontract-cli==1.2.8
    "v3.1.0": ("datacontract-cli", "datacontract/schemas/odcs-3.1.0.schema.json"),
    "v3.2.0": ("datacontract-cli", "datacontract/schemas/odcs-3.2.0.schema.json"),
}
ODPS = {
    "v1.0.0": ("dataproduct-cli", "dataproduct/schemas/odps-1.0.0.schema.json"),       # dataproduct-cli==0.3.2
    "v1.1.0": ("dataproduct-cli", "dataproduct/schemas/odps-1.1.0.schema.json"),
}
_cache = {}
def validator(key):
    if key not in _cache:
        schema = json.loads(distribution(key[0]).locate_file(key[1]).read_text(encoding="utf-8"))
        Draft201909Validator.check_schema(schema)
        _cache[key] = Draft201909Validator(schema)  # format: annotation only (the 2019-09 default)
    return _cache[key]

for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    doc = req["doc"]
    table = ODCS if doc.get("kind") == "DataContract" else ODPS if doc.get("kind") == "DataProduct" else {}
    key = table.get(doc.get("apiVersion"))
    if key is None:
        out = {"name": req["name"], "schema": None, "valid": None, "errors": []}
    else:
        errs = sorted(validator(key).iter_errors(doc), key=lambda e: list(e.absolute_path))
        out = {"name": req["name"], "schema": "/".join(key), "valid": not errs,
               "errors": [{"path": e.json_path, "keyword": e.validator, "message": e.message[:300]} for e in errs]}
    print(json.dumps(out), flush=True)
