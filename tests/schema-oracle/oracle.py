"""The schema oracle: judges JSON documents by the official ODCS/ODPS JSON schemas shipped in registry packages.

argv[1]: meshbox's folder of schema copies (src/folder/standard_schemas); each package file must be byte-identical to
its copy there, else the oracle stops with an error (the copies drifted from the packages).
stdin: one JSON object per line: {"name": ..., "standard": "odcs"|"odps", "version": "v3.2.0", "doc": <the manifest as JSON>}
stdout: one JSON object per line: {"name": ..., "valid": bool|null, "errors": [{"path", "message"}]}
The schema is the one of the document's declared apiVersion (`version` when the document declares none). ODCS v3.0.0 has no published schema: it is judged by the
v3.0.1 schema minus the top-level `authoritativeDefinitions` v3.0.1 added, plus the top-level `type` v3.0.0 had
(the same adjustment meshbox makes; see src/folder/standard_schemas/README.md)."""
import copy, json, sys
from importlib.metadata import distribution
from pathlib import Path
from jsonschema import Draft201909Validator

PACKAGED = {  # copy in meshbox -> (package, path inside it)
    "odcs-3.0.1.schema.json": ("open-data-contract-standard", "open_data_contract_standard/schema.json"),
    "odcs-3.0.2.schema.json": ("datacontract-cli", "datacontract/schemas/odcs-3.0.2.schema.json"),
    "odcs-3.1.0.schema.json": ("datacontract-cli", "datacontract/schemas/odcs-3.1.0.schema.json"),
    "odcs-3.2.0.schema.json": ("datacontract-cli", "datacontract/schemas/odcs-3.2.0.schema.json"),
    "odps-1.0.0.schema.json": ("dataproduct-cli", "dataproduct/schemas/odps-1.0.0.schema.json"),
    "odps-1.1.0.schema.json": ("dataproduct-cli", "dataproduct/schemas/odps-1.1.0.schema.json"),
}
BY_VERSION = {
    ("odcs", "v3.0.0"): "odcs-3.0.1.schema.json",
    ("odcs", "v3.0.1"): "odcs-3.0.1.schema.json",
    ("odcs", "v3.0.2"): "odcs-3.0.2.schema.json",
    ("odcs", "v3.1.0"): "odcs-3.1.0.schema.json",
    ("odcs", "v3.2.0"): "odcs-3.2.0.schema.json",
    ("odps", "v1.0.0"): "odps-1.0.0.schema.json",
    ("odps", "v1.1.0"): "odps-1.1.0.schema.json",
}


def packaged_schemas(copies: Path):
    out = {}
    for name, (package, inner) in PACKAGED.items():
        data = distribution(package).locate_file(inner).read_bytes()
        if data != (copies / name).read_bytes():
            sys.exit(f"{copies / name} differs from {inner} in the {package} package")
        out[name] = json.loads(data)
    return out


def as_v300(schema):
    schema = copy.deepcopy(schema)
    del schema["properties"]["authoritativeDefinitions"]
    schema["properties"]["type"] = {"type": "string"}
    return schema


def main():
    schemas = packaged_schemas(Path(sys.argv[1]))
    validators = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        doc = req["doc"]
        declared = doc.get("apiVersion") if isinstance(doc, dict) else None
        key = (req["standard"], declared if isinstance(declared, str) else req.get("version"))
        if key not in BY_VERSION:
            print(json.dumps({"name": req["name"], "valid": None, "errors": []}), flush=True)
            continue
        if key not in validators:
            schema = schemas[BY_VERSION[key]]
            if key == ("odcs", "v3.0.0"):
                schema = as_v300(schema)
            Draft201909Validator.check_schema(schema)
            validators[key] = Draft201909Validator(schema)  # format: an annotation (the 2019-09 default)
        errors = sorted(validators[key].iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        print(json.dumps({"name": req["name"], "valid": not errors,
                          "errors": [{"path": e.json_path, "message": e.message[:300]} for e in errors]}), flush=True)


main()
