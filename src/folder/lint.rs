//! `meshbox lint`: ODCS contracts and ODPS descriptors judged by the official JSON schema of their declared version,
//! explained by meshbox's own rules (required fields, types, allowed values, unknown fields): every problem at once,
//! each with file, line, column, the JSON path of the field and a hint.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::yaml::{Document, Problem, is_inside, kind_of, path_of};
use crate::folder::scan::{ManifestKind, manifest_kind_by_name};
use crate::folder::standard_schema::{self, Standard, Violation};
use crate::model::manifest::odcs::Metric;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// ODCS versions, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum V {
    V300,
    V301,
    V302,
    V310,
    V320,
}

impl V {
    fn name(&self) -> &'static str {
        match self {
            V::V300 => "v3.0.0",
            V::V301 => "v3.0.1",
            V::V302 => "v3.0.2",
            V::V310 => "v3.1.0",
            V::V320 => "v3.2.0",
        }
    }

    fn parse(s: &str) -> Option<V> {
        Some(match s {
            "v3.0.0" => V::V300,
            "v3.0.1" => V::V301,
            "v3.0.2" => V::V302,
            "v3.1.0" => V::V310,
            "v3.2.0" => V::V320,
            _ => return None,
        })
    }
}

/// A field an object may have, from the version that introduced it.
#[derive(Clone, Copy)]
struct F(&'static str, V);

const ALL: V = V::V300;

/// Collects problems for one document.
struct Lint<'a> {
    doc: &'a Document,
    v: V,
    out: Vec<Diagnostic>,
}

/// For "did you mean" hints: the candidate closest to `word` ignoring case, if it is at most `max_edits` edits away
/// (ties go to the alphabetically first).
fn nearest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>, max_edits: usize) -> Option<&'c str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word, &c.to_ascii_lowercase()), c))
        .min()
        .filter(|(edits, _)| *edits <= max_edits)
        .map(|(_, c)| c)
}

impl Lint<'_> {
    fn push(&mut self, severity: Severity, code: &'static str, path: &str, message: String, hint: Option<String>) {
        self.out.push(self.doc.diagnostic(Problem {
            severity,
            code,
            path: path.to_string(),
            message,
            hint,
        }));
    }

    fn error(&mut self, code: &'static str, path: &str, message: String, hint: Option<String>) {
        self.push(Severity::Error, code, path, message, hint);
    }

    fn warn(&mut self, code: &'static str, path: &str, message: String, hint: Option<String>) {
        self.push(Severity::Warning, code, path, message, hint);
    }

    /// Reports keys the object does not define. `closed`: the schema forbids unknown keys in this version.
    fn fields(&mut self, map: &Mapping, path: &str, fields: &[F], closed: bool, what: &str) {
        for key in map.keys() {
            let Some(k) = key.as_str() else {
                self.error(
                    "wrong-type",
                    path,
                    format!("field names must be text, found {}", kind_of(key)),
                    None,
                );
                continue;
            };
            match fields.iter().find(|f| f.0 == k) {
                Some(f) if f.1 <= self.v => {}
                Some(f) => {
                    let p = path_of(path, k);
                    self.push(
                        if closed { Severity::Error } else { Severity::Warning },
                        "version",
                        &p,
                        format!(
                            "`{k}` is not part of ODCS {}; it was added in {}",
                            self.v.name(),
                            f.1.name()
                        ),
                        Some("raise `apiVersion` or remove the field".into()),
                    );
                }
                None if closed => {
                    let p = path_of(path, k);
                    let known = fields.iter().filter(|f| f.1 <= self.v).map(|f| f.0);
                    let hint = match nearest(k, known, 2) {
                        Some(name) => format!("did you mean `{name}`?"),
                        None => format!("{what} does not define `{k}`; keep your own data under `customProperties`"),
                    };
                    self.error(
                        "unknown-field",
                        &p,
                        format!("unknown field `{k}` in {what}"),
                        Some(hint),
                    );
                }
                None => {}
            }
        }
    }

    fn require(&mut self, map: &Mapping, path: &str, key: &str, what: &str, hint: &str) -> bool {
        if map.get(key).is_none_or(Value::is_null) {
            self.error(
                "missing-field",
                path,
                format!("{what} needs `{key}`"),
                Some(hint.to_string()),
            );
            false
        } else {
            true
        }
    }

    fn expect(&mut self, map: &Mapping, path: &str, key: &str, want: Want) {
        let Some(v) = map.get(key) else { return };
        if v.is_null() {
            return;
        }
        let ok = match want {
            Want::Str => v.is_string(),
            Want::Bool => v.is_bool(),
            Want::Int => v.as_i64().is_some() || v.as_u64().is_some(),
            Want::Num => v.is_number(),
            Want::List => v.is_sequence(),
            Want::StrList => v.as_sequence().is_some_and(|s| s.iter().all(Value::is_string)),
        };
        if !ok {
            let p = path_of(path, key);
            let hint = match (want, v) {
                (Want::Bool, Value::String(s)) if s == "true" || s == "false" => {
                    Some(format!("write `{key}: {s}` without quotes"))
                }
                (Want::Num | Want::Int, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
                    Some(format!("write `{key}: {}` without quotes", s.trim()))
                }
                (Want::List | Want::StrList, Value::String(s)) => Some(format!("write a list: `{key}: [{s}]`")),
                (Want::Str, Value::Number(n)) => Some(format!("quote it: `{key}: \"{n}\"`")),
                _ => None,
            };
            self.error(
                "wrong-type",
                &p,
                format!("`{key}` expects {}, found {}", want.name(), kind_of(v)),
                hint,
            );
        }
    }

    /// `expect` for each field of a table of field → expected kind.
    fn expect_all(&mut self, map: &Mapping, path: &str, kinds: &[(&str, Want)]) {
        for &(key, want) in kinds {
            self.expect(map, path, key, want);
        }
    }

    fn one_of(&mut self, map: &Mapping, path: &str, key: &str, options: &[&str], severity: Severity) {
        let Some(Value::String(s)) = map.get(key) else {
            self.expect(map, path, key, Want::Str);
            return;
        };
        if !options.contains(&s.as_str()) {
            let p = path_of(path, key);
            let hint = match nearest(s, options.iter().copied(), 3) {
                Some(o) => format!("did you mean `{o}`?"),
                None => format!("use one of: {}", options.join(", ")),
            };
            self.push(
                severity,
                "unknown-value",
                &p,
                format!("`{key}` is `{s}`, which is not one of the allowed values"),
                Some(hint),
            );
        }
    }

    /// The items of a list field that are mappings (others reported).
    fn items<'v>(&mut self, map: &'v Mapping, path: &str, key: &str) -> Vec<(String, &'v Mapping)> {
        let p = path_of(path, key);
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let ip = format!("{p}[{i}]");
                    match v {
                        Value::Mapping(m) => Some((ip, m)),
                        other => {
                            self.error(
                                "wrong-type",
                                &ip,
                                format!("each item of `{key}` is an object, found {}", kind_of(other)),
                                None,
                            );
                            None
                        }
                    }
                })
                .collect(),
            Some(other) => {
                self.error(
                    "wrong-type",
                    &p,
                    format!("`{key}` expects a list, found {}", kind_of(other)),
                    Some(format!("start each item of `{key}` with `- `")),
                );
                Vec::new()
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Want {
    Str,
    Bool,
    Int,
    Num,
    List,
    StrList,
}

impl Want {
    fn name(&self) -> &'static str {
        match self {
            Want::Str => "text",
            Want::Bool => "a boolean (true or false)",
            Want::Int => "a whole number",
            Want::Num => "a number",
            Want::List => "a list",
            Want::StrList => "a list of texts",
        }
    }
}

const SERVER_TYPES_30: &[&str] = &[
    "api",
    "athena",
    "azure",
    "bigquery",
    "clickhouse",
    "databricks",
    "denodo",
    "dremio",
    "duckdb",
    "glue",
    "cloudsql",
    "db2",
    "informix",
    "kafka",
    "kinesis",
    "local",
    "mysql",
    "oracle",
    "postgresql",
    "postgres",
    "presto",
    "pubsub",
    "redshift",
    "s3",
    "sftp",
    "snowflake",
    "sqlserver",
    "synapse",
    "trino",
    "vertica",
    "custom",
];
const SERVER_TYPES_31: &[&str] = &["hive", "impala", "zen"];
const SERVER_TYPES_32: &[&str] = &[
    "btrieve",
    "exasol",
    "fastobjects",
    "hana",
    "iceberg",
    "ingres",
    "poet",
    "teradata",
    "vectorwise",
    "versant",
];

/// Fields a server of each type may have, beyond the common ones.
fn server_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "local" => &["path", "format", "delimiter", "encoding"],
        "duckdb" => &["database", "schema"],
        "s3" | "azure" | "sftp" => &["location", "endpointUrl", "format", "delimiter", "encoding"],
        "api" => &["location"],
        "athena" => &["stagingDir", "schema", "catalog", "regionName", "workgroup"],
        "bigquery" => &["project", "dataset"],
        "glue" => &["account", "database", "location", "format", "encoding"],
        "kafka" => &["host", "format", "encoding"],
        "kinesis" => &["region", "format", "encoding"],
        "oracle" => &["host", "port", "serviceName"],
        "pubsub" => &["project"],
        "redshift" => &["host", "database", "schema", "region", "account"],
        "snowflake" => &["host", "port", "account", "database", "schema", "warehouse"],
        "databricks" | "presto" => &["host", "catalog", "schema"],
        "trino" => &["host", "port", "catalog", "schema"],
        "iceberg" => &["catalog", "catalogUrl", "namespace", "warehouse"],
        "custom" => &[
            "account",
            "catalog",
            "database",
            "dataset",
            "delimiter",
            "endpointUrl",
            "format",
            "host",
            "location",
            "path",
            "port",
            "project",
            "region",
            "regionName",
            "schema",
            "serviceName",
            "stagingDir",
            "warehouse",
            "stream",
            "encoding",
        ],
        _ => &["host", "port", "database", "schema"],
    }
}

const DIMENSIONS: &[&str] = crate::model::manifest::odcs::QUALITY_DIMENSIONS;
const DIMENSION_ABBREVIATIONS: &[&str] = &["ac", "cp", "cf", "cs", "cv", "tm", "uq"];
const METRICS: &[&str] = &[
    "nullValues",
    "missingValues",
    "invalidValues",
    "duplicateValues",
    "rowCount",
];
const QUALITY_FIELDS: &[F] = &[
    F("name", ALL),
    F("description", ALL),
    F("type", ALL),
    F("dimension", ALL),
    F("method", ALL),
    F("severity", ALL),
    F("businessImpact", ALL),
    F("unit", ALL),
    F("schedule", ALL),
    F("scheduler", ALL),
    F("tags", ALL),
    F("authoritativeDefinitions", ALL),
    F("customProperties", ALL),
    F("rule", ALL),
    F("query", ALL),
    F("engine", ALL),
    F("implementation", ALL),
    F("id", V::V310),
    F("metric", V::V310),
    F("arguments", V::V310),
];
const OPERATORS: &[&str] = &[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
];

/// Top-level fields of an ODCS contract (v3.0.0 also allowed `type`; see `contract_fields`).
const CONTRACT_FIELDS: &[F] = &[
    F("version", ALL),
    F("kind", ALL),
    F("apiVersion", ALL),
    F("id", ALL),
    F("name", ALL),
    F("tenant", ALL),
    F("tags", ALL),
    F("status", ALL),
    F("servers", ALL),
    F("dataProduct", ALL),
    F("description", ALL),
    F("domain", ALL),
    F("schema", ALL),
    F("support", ALL),
    F("price", ALL),
    F("team", ALL),
    F("roles", ALL),
    F("slaDefaultElement", ALL),
    F("slaProperties", ALL),
    F("authoritativeDefinitions", V::V301),
    F("customProperties", ALL),
    F("contractCreatedTs", ALL),
    F("context", V::V320),
];

/// The kind each top-level field of a contract expects.
const CONTRACT_KINDS: &[(&str, Want)] = &[
    ("version", Want::Str),
    ("id", Want::Str),
    ("name", Want::Str),
    ("tenant", Want::Str),
    ("status", Want::Str),
    ("domain", Want::Str),
    ("dataProduct", Want::Str),
    ("contractCreatedTs", Want::Str),
    ("tags", Want::StrList),
];

/// Top-level fields of a contract deprecated since ODCS v3.1.0, with what to write instead.
const CONTRACT_DEPRECATIONS: &[(&str, &str)] = &[
    (
        "dataProduct",
        "name the contract in the product's ODPS output port instead",
    ),
    ("slaDefaultElement", "set `element` on each SLA property"),
];

const DESCRIPTION_FIELDS: &[F] = &[
    F("purpose", ALL),
    F("usage", ALL),
    F("limitations", ALL),
    F("authoritativeDefinitions", V::V301),
    F("customProperties", V::V301),
];

const SLA_PROPERTY_FIELDS: &[F] = &[
    F("property", ALL),
    F("value", ALL),
    F("valueExt", ALL),
    F("unit", ALL),
    F("element", ALL),
    F("driver", ALL),
    F("description", V::V310),
    F("scheduler", V::V310),
    F("schedule", V::V310),
    F("id", V::V310),
    F("customProperties", V::V320),
    F("authoritativeDefinitions", V::V320),
];

const ROLE_FIELDS: &[F] = &[
    F("role", ALL),
    F("description", ALL),
    F("access", ALL),
    F("firstLevelApprovers", ALL),
    F("secondLevelApprovers", ALL),
    F("customProperties", V::V301),
    F("id", V::V310),
];

const SUPPORT_FIELDS: &[F] = &[
    F("channel", ALL),
    F("url", ALL),
    F("description", ALL),
    F("tool", ALL),
    F("scope", ALL),
    F("invitationUrl", ALL),
    F("customProperties", V::V310),
    F("id", V::V310),
];

const PRICE_FIELDS: &[F] = &[
    F("priceAmount", ALL),
    F("priceCurrency", ALL),
    F("priceUnit", ALL),
    F("id", V::V310),
];

impl Lint<'_> {
    fn contract(&mut self, root: &Mapping) {
        self.contract_fields(root);
        self.one_of(root, "", "kind", &["DataContract"], Severity::Error);
        self.expect_all(root, "", CONTRACT_KINDS);
        for &(key, instead) in CONTRACT_DEPRECATIONS {
            if root.contains_key(key) && self.v >= V::V310 {
                self.warn(
                    "deprecated",
                    key,
                    format!("`{key}` is deprecated since ODCS v3.1.0"),
                    Some(instead.to_string()),
                );
            }
        }
        self.contract_description(root);
        for (p, s) in self.items(root, "", "servers") {
            self.server(s, &p);
        }
        for (p, t) in self.items(root, "", "schema") {
            self.schema_object(t, &p);
        }
        for (p, s) in self.items(root, "", "slaProperties") {
            self.sla_property(s, &p);
        }
        for (p, r) in self.items(root, "", "roles") {
            self.fields(r, &p, ROLE_FIELDS, self.v >= V::V310, "a role");
            self.require(r, &p, "role", "a role", "e.g. `role: analyst`");
        }
        for (p, s) in self.items(root, "", "support") {
            self.support_channel(s, &p);
        }
        if let Some(Value::Mapping(price)) = root.get("price") {
            self.fields(price, "price", PRICE_FIELDS, self.v >= V::V310, "a price");
            self.expect(price, "price", "priceAmount", Want::Num);
        }
        self.team(root);
        self.custom_properties(root, "");
        self.authoritative_definitions(root, "");
    }

    /// The top-level fields of a contract: known ones, and the ones every contract needs.
    fn contract_fields(&mut self, root: &Mapping) {
        let mut fields = CONTRACT_FIELDS.to_vec();
        if self.v == V::V300 {
            fields.push(F("type", V::V300));
        }
        self.fields(root, "", &fields, true, "an ODCS contract");
        for key in ["version", "apiVersion", "kind", "id"] {
            self.require(
                root,
                "",
                key,
                "an ODCS contract",
                &format!("add `{key}:` at the top of the file"),
            );
        }
        if self.v < V::V320 {
            self.require(
                root,
                "",
                "status",
                "an ODCS contract before v3.2.0",
                "add `status: active` (or draft, proposed, deprecated, retired)",
            );
        }
    }

    fn contract_description(&mut self, root: &Mapping) {
        match root.get("description") {
            Some(Value::Mapping(d)) => {
                self.fields(d, "description", DESCRIPTION_FIELDS, false, "a description");
                for k in ["purpose", "usage", "limitations"] {
                    self.expect(d, "description", k, Want::Str);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => self.error(
                "wrong-type",
                "description",
                format!(
                    "`description` expects an object with purpose, usage and limitations, found {}",
                    kind_of(other)
                ),
                Some("write `description:` and below it `  purpose: ...`".into()),
            ),
        }
    }

    fn sla_property(&mut self, s: &Mapping, p: &str) {
        self.fields(s, p, SLA_PROPERTY_FIELDS, self.v >= V::V310, "an SLA property");
        self.require(s, p, "property", "an SLA property", "e.g. `property: latency`");
        self.require(s, p, "value", "an SLA property", "e.g. `value: 1` with `unit: d`");
        self.expect(s, p, "unit", Want::Str);
        self.expect(s, p, "element", Want::Str);
    }

    fn support_channel(&mut self, s: &Mapping, p: &str) {
        self.fields(s, p, SUPPORT_FIELDS, self.v >= V::V310, "a support channel");
        self.require(s, p, "channel", "a support channel", "e.g. `channel: \"#data-help\"`");
        if self.v < V::V310 {
            self.require(s, p, "url", "a support channel in ODCS v3.0", "add the channel's `url`");
        }
    }

    fn team(&mut self, root: &Mapping) {
        let member = [
            F("username", ALL),
            F("role", ALL),
            F("dateIn", ALL),
            F("dateOut", ALL),
            F("replacedByUsername", ALL),
            F("name", V::V302),
            F("description", V::V302),
            F("id", V::V310),
            F("tags", V::V310),
            F("customProperties", V::V310),
            F("authoritativeDefinitions", V::V310),
        ];
        match root.get("team") {
            Some(Value::Sequence(_)) => {
                if self.v >= V::V310 {
                    self.warn(
                        "deprecated",
                        "team",
                        "a list of members as `team` is deprecated since ODCS v3.1.0".into(),
                        Some("write `team: {name: ..., members: [...]}`".into()),
                    );
                }
                for (p, m) in self.items(root, "", "team") {
                    self.fields(m, &p, &member, self.v >= V::V310, "a team member");
                    if self.v >= V::V310 {
                        self.require(m, &p, "username", "a team member", "add `username:`");
                    }
                }
            }
            Some(Value::Mapping(t)) => {
                if self.v < V::V310 {
                    self.error(
                        "version",
                        "team",
                        "`team` as an object is ODCS v3.1.0+; v3.0 expects a list of members".into(),
                        Some("raise `apiVersion` to v3.1.0".into()),
                    );
                }
                let f = [
                    F("id", ALL),
                    F("name", ALL),
                    F("description", ALL),
                    F("members", ALL),
                    F("tags", ALL),
                    F("customProperties", ALL),
                    F("authoritativeDefinitions", ALL),
                ];
                self.fields(t, "team", &f, true, "a team");
                for (p, m) in self.items(t, "team", "members") {
                    self.fields(m, &p, &member, true, "a team member");
                    self.require(m, &p, "username", "a team member", "add `username:`");
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => self.error(
                "wrong-type",
                "team",
                format!("`team` expects an object or a list, found {}", kind_of(other)),
                None,
            ),
        }
    }

    fn custom_properties(&mut self, map: &Mapping, path: &str) {
        for (p, c) in self.items(map, path, "customProperties") {
            let f = [
                F("property", ALL),
                F("value", ALL),
                F("description", V::V310),
                F("id", V::V310),
                F("vendor", V::V320),
            ];
            self.fields(c, &p, &f, self.v >= V::V310, "a custom property");
            if self.v >= V::V310 {
                self.require(c, &p, "property", "a custom property", "add `property:`");
                if !c.contains_key("value") {
                    self.error(
                        "missing-field",
                        &p,
                        "a custom property needs `value`".into(),
                        Some("add `value:` (null is allowed)".into()),
                    );
                }
            }
        }
    }

    fn authoritative_definitions(&mut self, map: &Mapping, path: &str) {
        for (p, a) in self.items(map, path, "authoritativeDefinitions") {
            let f = [
                F("url", ALL),
                F("type", ALL),
                F("description", V::V310),
                F("id", V::V310),
            ];
            self.fields(a, &p, &f, self.v >= V::V310, "an authoritative definition");
            self.require(a, &p, "url", "an authoritative definition", "add `url:`");
            self.require(
                a,
                &p,
                "type",
                "an authoritative definition",
                "e.g. `type: businessDefinition`",
            );
        }
    }

    fn server(&mut self, s: &Mapping, p: &str) {
        let mut types: Vec<&str> = SERVER_TYPES_30.to_vec();
        if self.v >= V::V310 {
            types.extend(SERVER_TYPES_31);
        }
        if self.v >= V::V320 {
            types.extend(SERVER_TYPES_32);
        }
        self.require(s, p, "server", "a server", "name it, e.g. `server: local`");
        self.require(s, p, "type", "a server", "e.g. `type: local`");
        self.one_of(s, p, "type", &types, Severity::Error);
        let kind = s.get("type").and_then(Value::as_str).unwrap_or("custom");
        let mut f: Vec<F> = [
            "server",
            "type",
            "description",
            "environment",
            "roles",
            "customProperties",
        ]
        .iter()
        .map(|k| F(k, ALL))
        .collect();
        f.push(F("id", V::V310));
        f.extend(server_fields(kind).iter().map(|k| F(k, ALL)));
        self.fields(s, p, &f, self.v >= V::V310, &format!("a `{kind}` server"));
        if kind == "local" {
            for key in ["path", "format"] {
                if !s.contains_key(key) {
                    self.warn(
                        "missing-field",
                        p,
                        format!("a local server should have `{key}`"),
                        Some("e.g. `path: data/orders.csv` and `format: csv`".into()),
                    );
                }
            }
        }
        if let Some(port) = s.get("port")
            && port.is_string()
            && self.v < V::V320
        {
            self.error(
                "wrong-type",
                &path_of(p, "port"),
                "`port` is a number before ODCS v3.2.0".into(),
                Some("write the number, or use v3.2.0 for `${DB_PORT}` references".into()),
            );
        }
    }

    fn schema_object(&mut self, t: &Mapping, p: &str) {
        let f = [
            F("name", ALL),
            F("physicalType", ALL),
            F("description", ALL),
            F("businessName", ALL),
            F("authoritativeDefinitions", ALL),
            F("tags", ALL),
            F("customProperties", V::V301),
            F("id", V::V310),
            F("deprecated", V::V320),
            F("synonyms", V::V320),
            F("logicalType", ALL),
            F("physicalName", ALL),
            F("dataGranularityDescription", ALL),
            F("properties", ALL),
            F("quality", ALL),
            F("relationships", V::V310),
            F("context", V::V320),
        ];
        self.fields(t, p, &f, true, "a schema object");
        self.require(
            t,
            p,
            "name",
            "a schema object",
            "e.g. `name: orders` (it becomes the table name)",
        );
        for k in ["name", "physicalType", "physicalName", "description", "businessName"] {
            self.expect(t, p, k, Want::Str);
        }
        self.expect(t, p, "tags", Want::StrList);
        if t.contains_key("logicalType") {
            self.one_of(t, p, "logicalType", &["object"], Severity::Error);
        }
        for (pp, prop) in self.items(t, p, "properties") {
            self.property(prop, &pp, true);
        }
        for (qp, q) in self.items(t, p, "quality") {
            self.quality(q, &qp, false);
        }
        for (rp, r) in self.items(t, p, "relationships") {
            let f = [
                F("type", ALL),
                F("from", ALL),
                F("to", ALL),
                F("customProperties", ALL),
                F("id", V::V320),
            ];
            self.fields(r, &rp, &f, true, "a relationship");
            self.require(
                r,
                &rp,
                "from",
                "a schema-level relationship",
                "e.g. `from: orders.customer_id`",
            );
            self.require(r, &rp, "to", "a relationship", "e.g. `to: customers.id`");
        }
        self.custom_properties(t, p);
        self.authoritative_definitions(t, p);
    }
}

const PROPERTY_FIELDS: &[F] = &[
    F("name", ALL),
    F("physicalType", ALL),
    F("description", ALL),
    F("businessName", ALL),
    F("authoritativeDefinitions", ALL),
    F("tags", ALL),
    F("customProperties", V::V301),
    F("id", V::V310),
    F("deprecated", V::V320),
    F("synonyms", V::V320),
    F("primaryKey", ALL),
    F("primaryKeyPosition", ALL),
    F("logicalType", ALL),
    F("logicalTypeOptions", ALL),
    F("physicalName", V::V302),
    F("required", ALL),
    F("unique", ALL),
    F("partitioned", ALL),
    F("partitionKeyPosition", ALL),
    F("classification", ALL),
    F("encryptedName", ALL),
    F("transformSourceObjects", ALL),
    F("transformLogic", ALL),
    F("transformDescription", ALL),
    F("examples", ALL),
    F("criticalDataElement", ALL),
    F("quality", ALL),
    F("items", ALL),
    F("properties", ALL),
    F("relationships", V::V310),
    F("semanticType", V::V320),
    F("enum", V::V320),
    F("map", V::V320),
];

/// The kind each field of a property expects.
const PROPERTY_KINDS: &[(&str, Want)] = &[
    ("name", Want::Str),
    ("physicalType", Want::Str),
    ("physicalName", Want::Str),
    ("description", Want::Str),
    ("businessName", Want::Str),
    ("classification", Want::Str),
    ("transformLogic", Want::Str),
    ("transformDescription", Want::Str),
    ("primaryKey", Want::Bool),
    ("required", Want::Bool),
    ("unique", Want::Bool),
    ("partitioned", Want::Bool),
    ("criticalDataElement", Want::Bool),
    ("primaryKeyPosition", Want::Int),
    ("partitionKeyPosition", Want::Int),
    ("tags", Want::StrList),
    ("examples", Want::List),
];

const ENUM_VALUE_FIELDS: &[F] = &[
    F("value", ALL),
    F("label", ALL),
    F("id", ALL),
    F("description", ALL),
    F("customProperties", ALL),
    F("authoritativeDefinitions", ALL),
    F("tags", ALL),
];

const PROPERTY_RELATIONSHIP_FIELDS: &[F] = &[
    F("type", ALL),
    F("to", ALL),
    F("customProperties", ALL),
    F("id", V::V320),
];

impl Lint<'_> {
    fn property(&mut self, prop: &Mapping, p: &str, named: bool) {
        self.fields(prop, p, PROPERTY_FIELDS, true, "a property");
        if named {
            self.require(
                prop,
                p,
                "name",
                "a property",
                "e.g. `name: order_id` (the column name in the data)",
            );
        }
        self.expect_all(prop, p, PROPERTY_KINDS);
        self.logical_type(prop, p);
        for (ep, e) in self.items(prop, p, "enum") {
            self.fields(e, &ep, ENUM_VALUE_FIELDS, true, "an enum value");
            if !e.contains_key("value") {
                self.error(
                    "missing-field",
                    &ep,
                    "an enum value needs `value`".into(),
                    Some("e.g. `- value: open`".into()),
                );
            }
        }
        for (qp, q) in self.items(prop, p, "quality") {
            self.quality(q, &qp, true);
        }
        for (rp, r) in self.items(prop, p, "relationships") {
            self.fields(
                r,
                &rp,
                PROPERTY_RELATIONSHIP_FIELDS,
                true,
                "a property-level relationship",
            );
            self.require(r, &rp, "to", "a relationship", "e.g. `to: customers.id`");
        }
        if let Some(Value::Mapping(items)) = prop.get("items") {
            self.property(items, &path_of(p, "items"), false);
        }
        for (cp, child) in self.items(prop, p, "properties") {
            self.property(child, &cp, true);
        }
        self.custom_properties(prop, p);
        self.authoritative_definitions(prop, p);
    }

    /// `logicalType` of a property and what depends on it: `semanticType`, `logicalTypeOptions` and `map`.
    fn logical_type(&mut self, prop: &Mapping, p: &str) {
        let mut logical = vec!["string", "date", "number", "integer", "object", "array", "boolean"];
        if self.v >= V::V310 {
            logical.extend(["timestamp", "time"]);
        }
        if self.v >= V::V320 {
            logical.extend(["map", "vector"]);
        }
        if prop.contains_key("logicalType") {
            self.one_of(prop, p, "logicalType", &logical, Severity::Error);
        }
        if self.v >= V::V320 {
            self.one_of_opt(prop, p, "semanticType", &["column", "measure", "dimension"]);
        }
        let lt = prop.get("logicalType").and_then(Value::as_str);
        if let Some(Value::Mapping(opts)) = prop.get("logicalTypeOptions") {
            self.type_options(opts, &path_of(p, "logicalTypeOptions"), lt);
        } else if let Some(other) = prop.get("logicalTypeOptions").filter(|v| !v.is_null()) {
            self.error(
                "wrong-type",
                &path_of(p, "logicalTypeOptions"),
                format!("`logicalTypeOptions` expects an object, found {}", kind_of(other)),
                None,
            );
        }
        if lt == Some("map") && !prop.contains_key("map") {
            self.error(
                "missing-field",
                p,
                "a `map` property needs `map: {key: ..., value: ...}`".into(),
                None,
            );
        }
    }

    fn one_of_opt(&mut self, map: &Mapping, path: &str, key: &str, options: &[&str]) {
        if map.contains_key(key) {
            self.one_of(map, path, key, options, Severity::Error);
        }
    }

    fn type_options(&mut self, opts: &Mapping, p: &str, logical: Option<&str>) {
        let Some(lt) = logical else { return };
        let allowed: &[&str] = match lt {
            "string" => &["minLength", "maxLength", "pattern", "format"],
            "date" => &["format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"],
            "timestamp" | "time" => &[
                "format",
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "timezone",
                "defaultTimezone",
            ],
            "integer" | "number" => &[
                "multipleOf",
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "format",
            ],
            "object" => &["maxProperties", "minProperties", "required"],
            "array" => &["maxItems", "minItems", "uniqueItems"],
            "vector" => &[
                "dimensions",
                "elementType",
                "distanceMetric",
                "embeddingModel",
                "embeddingModelVersion",
                "normalized",
            ],
            "boolean" => &[],
            _ => return,
        };
        let f: Vec<F> = allowed.iter().map(|k| F(k, ALL)).collect();
        self.fields(opts, p, &f, true, &format!("{lt} `logicalTypeOptions`"));
        for k in [
            "minLength",
            "maxLength",
            "maxProperties",
            "minProperties",
            "maxItems",
            "minItems",
            "dimensions",
        ] {
            self.expect(opts, p, k, Want::Int);
        }
        self.expect(opts, p, "pattern", Want::Str);
        if let Some(pat) = opts.get("pattern").and_then(Value::as_str)
            && let Err(e) = regex::Regex::new(pat)
        {
            self.error(
                "bad-pattern",
                &path_of(p, "pattern"),
                format!("`pattern` is not a valid regular expression: {e}"),
                None,
            );
        }
        if matches!(lt, "integer" | "number") {
            for k in ["multipleOf", "minimum", "maximum"] {
                self.expect(opts, p, k, Want::Num);
            }
        }
        for k in ["exclusiveMinimum", "exclusiveMaximum"] {
            match opts.get(k) {
                Some(Value::Bool(_)) if self.v >= V::V310 => self.warn(
                    "version",
                    &path_of(p, k),
                    format!("in ODCS v3.1+ `{k}` is the bound itself, not a flag on minimum/maximum"),
                    Some(format!("write `{k}: 0` instead of `{k}: true`")),
                ),
                Some(Value::Number(_) | Value::String(_)) if self.v < V::V310 => self.warn(
                    "version",
                    &path_of(p, k),
                    format!("in ODCS v3.0 `{k}` is a boolean flag; a bound is the v3.1+ form"),
                    Some("raise `apiVersion` to v3.1.0".into()),
                ),
                _ => {}
            }
        }
    }

    fn quality(&mut self, q: &Mapping, p: &str, on_property: bool) {
        self.quality_fields(q, p);
        self.one_of_opt(q, p, "type", &["text", "library", "sql", "custom"]);
        let kind = q.get("type").and_then(Value::as_str).unwrap_or("library");
        self.metric_and_dimension(q, p);
        let ops = self.operators(q, p);
        match kind {
            "sql" => {
                self.require(
                    q,
                    p,
                    "query",
                    "an sql rule",
                    "e.g. `query: SELECT count(*) FROM {object} WHERE amount < 0`",
                );
                self.require_operator(p, &ops);
            }
            "custom" => {
                self.require(q, p, "engine", "a custom rule", "e.g. `engine: soda`");
                self.require(
                    q,
                    p,
                    "implementation",
                    "a custom rule",
                    "the engine's own definition of the check",
                );
            }
            "text" => {}
            _ => self.library_rule(q, p, on_property, &ops),
        }
        if let Some(Value::String(u)) = q.get("unit")
            && !matches!(u.to_ascii_lowercase().as_str(), "rows" | "percent" | "%" | "percentage")
        {
            self.warn(
                "unknown-value",
                &path_of(p, "unit"),
                format!("unit `{u}` is neither `rows` nor `percent`"),
                None,
            );
        }
    }

    fn quality_fields(&mut self, q: &Mapping, p: &str) {
        let mut f: Vec<F> = QUALITY_FIELDS.to_vec();
        f.extend(OPERATORS.iter().map(|o| F(o, ALL)));
        if self.v < V::V310 {
            f.push(F("validValues", ALL));
        }
        self.fields(q, p, &f, self.v >= V::V310, "a quality rule");
    }

    /// `metric` (or the deprecated `rule`) and `dimension` of a quality rule take known values.
    fn metric_and_dimension(&mut self, q: &Mapping, p: &str) {
        if q.contains_key("rule") && self.v >= V::V310 {
            self.warn(
                "deprecated",
                &path_of(p, "rule"),
                "`rule` is deprecated since ODCS v3.1.0".into(),
                Some("use `metric:` (nullValues, missingValues, invalidValues, duplicateValues, rowCount)".into()),
            );
        }
        if q.contains_key("metric") {
            self.one_of(q, p, "metric", METRICS, Severity::Error);
        }
        if let Some(Value::String(d)) = q.get("dimension") {
            if DIMENSION_ABBREVIATIONS.contains(&d.as_str()) {
                self.warn(
                    "abbreviation",
                    &path_of(p, "dimension"),
                    format!("`{d}` is an abbreviation the schema does not accept"),
                    Some(format!("use one of: {}", DIMENSIONS.join(", "))),
                );
            } else {
                self.one_of(q, p, "dimension", DIMENSIONS, Severity::Error);
            }
        }
    }

    /// The operators of a quality rule, each value checked, and (from v3.1.0) at most one of them.
    fn operators(&mut self, q: &Mapping, p: &str) -> Vec<&'static str> {
        let ops: Vec<&'static str> = OPERATORS.iter().copied().filter(|o| q.contains_key(*o)).collect();
        for o in &ops {
            self.operator_value(o, &q[*o], &path_of(p, o));
        }
        if ops.len() > 1 && self.v >= V::V310 {
            self.error(
                "conflicting-operators",
                p,
                format!("a quality rule takes exactly one operator, found {}", ops.join(", ")),
                Some("split it into two rules".into()),
            );
        }
        ops
    }

    /// Between-operators take two numbers, the others one; `mustBe`/`mustNotBe` also accept text.
    fn operator_value(&mut self, o: &str, v: &Value, op_path: &str) {
        if o.contains("Between") {
            let ok = v
                .as_sequence()
                .is_some_and(|s| s.len() == 2 && s.iter().all(Value::is_number));
            if !ok {
                self.error(
                    "wrong-type",
                    op_path,
                    format!("`{o}` expects a list of two numbers, found {}", kind_of(v)),
                    Some(format!("write `{o}: [0, 100]`, smallest first")),
                );
            }
        } else if !v.is_number() && o != "mustBe" && o != "mustNotBe" {
            let hint = v
                .as_str()
                .filter(|s| s.trim().parse::<f64>().is_ok())
                .map(|s| format!("write `{o}: {}` without quotes", s.trim()));
            self.error(
                "wrong-type",
                op_path,
                format!("`{o}` expects a number, found {}", kind_of(v)),
                hint,
            );
        } else if (o == "mustBe" || o == "mustNotBe") && v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok()) {
            self.warn(
                "wrong-type",
                op_path,
                format!("`{o}` expects a number, found a string"),
                Some(format!(
                    "write `{o}: {}` without quotes",
                    v.as_str().unwrap_or("").trim()
                )),
            );
        }
    }

    fn require_operator(&mut self, p: &str, ops: &[&str]) {
        if ops.is_empty() {
            self.warn(
                "no-operator",
                p,
                "the rule has no operator, so it cannot be tested".into(),
                Some("add e.g. `mustBe: 0`".into()),
            );
        }
    }

    /// A library rule needs a metric measured at the rule's level, the metric's arguments and an operator.
    fn library_rule(&mut self, q: &Mapping, p: &str, on_property: bool, ops: &[&str]) {
        let metric = q.get("metric").or_else(|| q.get("rule")).and_then(Value::as_str);
        match metric {
            None if q.get("type").is_some() => {
                self.error(
                    "missing-field",
                    p,
                    "a library rule needs `metric`".into(),
                    Some("e.g. `metric: nullValues`".into()),
                );
            }
            None => {}
            Some(m) => {
                let m = Metric::parse(m);
                self.metric_level(&m, p, on_property);
                self.metric_arguments(q, &m, p, on_property);
                self.require_operator(p, ops);
            }
        }
    }

    /// rowCount is measured on a table; nullValues, missingValues and invalidValues on a column.
    fn metric_level(&mut self, m: &Metric, p: &str, on_property: bool) {
        let level_ok = match m {
            Metric::RowCount => !on_property,
            Metric::NullValues | Metric::MissingValues | Metric::InvalidValues => on_property,
            _ => true,
        };
        if !level_ok {
            self.warn(
                "wrong-level",
                p,
                format!(
                    "`{}` is measured on a {}, but this rule is on a {}",
                    m.name(),
                    if on_property { "table" } else { "column" },
                    if on_property { "column" } else { "table" }
                ),
                Some("move the rule to the right level, or it cannot be tested".into()),
            );
        }
    }

    fn metric_arguments(&mut self, q: &Mapping, m: &Metric, p: &str, on_property: bool) {
        let args = q.get("arguments").and_then(Value::as_mapping);
        let arg = |k: &str| args.is_some_and(|a| a.contains_key(k)) || q.contains_key(k);
        if *m == Metric::InvalidValues && !arg("validValues") && !arg("pattern") {
            self.warn(
                "missing-field",
                p,
                "invalidValues needs `arguments.validValues` or `arguments.pattern`".into(),
                None,
            );
        }
        if *m == Metric::DuplicateValues && !on_property && !arg("properties") {
            self.warn(
                "missing-field",
                p,
                "duplicateValues on a table needs `arguments.properties`".into(),
                Some("e.g. `arguments: {properties: [tenant_id, order_id]}`".into()),
            );
        }
    }

    fn descriptor(&mut self, root: &Mapping, v11: bool) {
        self.fields(
            root,
            "",
            &DESCRIPTOR_FIELDS.for_version(v11),
            true,
            "an ODPS descriptor",
        );
        for key in ["apiVersion", "kind", "id"] {
            self.require(
                root,
                "",
                key,
                "an ODPS descriptor",
                &format!("add `{key}:` at the top of the file"),
            );
        }
        if !v11 {
            self.require(root, "", "status", "an ODPS v1.0 descriptor", "add `status: active`");
        }
        self.one_of(root, "", "kind", &["DataProduct"], Severity::Error);
        if let Some(Value::Mapping(d)) = root.get("description") {
            let f: Vec<F> = ODPS_DESCRIPTION_FIELDS.iter().map(|k| F(k, ALL)).collect();
            self.fields(d, "description", &f, true, "a description");
        }
        for list in ODPS_LISTS {
            for (p, item) in self.items(root, "", list.key) {
                self.fields(item, &p, &list.fields.for_version(v11), true, list.what);
                let v10_only: &[Required] = if v11 { &[] } else { list.required_v10 };
                for r in list.required.iter().chain(v10_only) {
                    self.require(item, &p, r.key, r.what, r.hint);
                }
            }
        }
    }
}

/// The fields an ODPS object may have: those of v1.0, and those v1.1 adds.
struct OdpsFields {
    v10: &'static [&'static str],
    v11: &'static [&'static str],
}

impl OdpsFields {
    fn for_version(&self, v11: bool) -> Vec<F> {
        let added: &[&str] = if v11 { self.v11 } else { &[] };
        self.v10.iter().chain(added).map(|k| F(k, ALL)).collect()
    }
}

/// A field an object must have: its name, what the object is called in the message, and a hint.
struct Required {
    key: &'static str,
    what: &'static str,
    hint: &'static str,
}

/// A list of objects in an ODPS descriptor, with the fields its items may and must have.
struct OdpsList {
    key: &'static str,
    what: &'static str,
    fields: OdpsFields,
    required: &'static [Required],
    /// Required in v1.0 only.
    required_v10: &'static [Required],
}

const DESCRIPTOR_FIELDS: OdpsFields = OdpsFields {
    v10: &[
        "apiVersion",
        "kind",
        "id",
        "name",
        "version",
        "status",
        "domain",
        "tenant",
        "authoritativeDefinitions",
        "description",
        "customProperties",
        "tags",
        "inputPorts",
        "outputPorts",
        "managementPorts",
        "support",
        "team",
        "productCreatedTs",
    ],
    v11: &["deprecated", "synonyms", "type", "context"],
};

const ODPS_DESCRIPTION_FIELDS: &[&str] = &[
    "purpose",
    "limitations",
    "usage",
    "authoritativeDefinitions",
    "customProperties",
];

const ODPS_LISTS: &[OdpsList] = &[
    OdpsList {
        key: "inputPorts",
        what: "an input port",
        fields: OdpsFields {
            v10: &["name", "version", "contractId"],
            v11: &[
                "id",
                "deprecated",
                "tags",
                "customProperties",
                "authoritativeDefinitions",
            ],
        },
        required: &[Required {
            key: "name",
            what: "an input port",
            hint: "e.g. `name: orders`",
        }],
        required_v10: &[
            Required {
                key: "version",
                what: "an ODPS v1.0 input port",
                hint: "the version of the consumed contract",
            },
            Required {
                key: "contractId",
                what: "an ODPS v1.0 input port",
                hint: "the `id` of the consumed ODCS contract",
            },
        ],
    },
    OdpsList {
        key: "outputPorts",
        what: "an output port",
        fields: OdpsFields {
            v10: &[
                "name",
                "description",
                "type",
                "version",
                "contractId",
                "sbom",
                "inputContracts",
            ],
            v11: &[
                "id",
                "deprecated",
                "synonyms",
                "tags",
                "customProperties",
                "authoritativeDefinitions",
                "context",
            ],
        },
        required: &[Required {
            key: "name",
            what: "an output port",
            hint: "e.g. `name: orders`",
        }],
        required_v10: &[Required {
            key: "version",
            what: "an ODPS v1.0 output port",
            hint: "e.g. `version: 1.0.0`",
        }],
    },
    OdpsList {
        key: "managementPorts",
        what: "a management port",
        fields: OdpsFields {
            v10: &[
                "name",
                "content",
                "type",
                "url",
                "channel",
                "description",
                "tags",
                "customProperties",
                "authoritativeDefinitions",
            ],
            v11: &["id", "deprecated"],
        },
        required: &[
            Required {
                key: "name",
                what: "a management port",
                hint: "e.g. `name: docs`",
            },
            Required {
                key: "content",
                what: "a management port",
                hint: "e.g. `content: discoverability`",
            },
        ],
        required_v10: &[],
    },
    OdpsList {
        key: "support",
        what: "a support channel",
        fields: OdpsFields {
            v10: &[
                "channel",
                "url",
                "description",
                "tool",
                "scope",
                "invitationUrl",
                "tags",
                "customProperties",
                "authoritativeDefinitions",
            ],
            v11: &["id"],
        },
        required: &[
            Required {
                key: "channel",
                what: "a support channel",
                hint: "e.g. `channel: \"#data-help\"`",
            },
            Required {
                key: "url",
                what: "an ODPS support channel",
                hint: "add the channel's `url`",
            },
        ],
        required_v10: &[],
    },
];

/// Lints one manifest file. Files that are neither ODCS nor ODPS get a single diagnostic saying so. The verdict is the
/// official schema's (of the version the file declares): what it rejects is an error, what it accepts has no error —
/// meshbox's own rules beyond it stay warnings with hints.
pub fn lint_file(path: &Path, display_root: &Path) -> Vec<Diagnostic> {
    let doc = match crate::base::yaml::read_document(path) {
        Ok(d) => d,
        Err(d) => return vec![d.relative_to(display_root)],
    };
    lint_document(&doc, path)
        .into_iter()
        .map(|d| d.relative_to(display_root))
        .collect()
}

/// Lints a manifest already read (as reading the mesh folder does), each finding marked with the standard and
/// version it was judged against; sorted by position.
pub fn lint_document(doc: &Document, path: &Path) -> Vec<Diagnostic> {
    let Some(root) = doc.value.as_mapping() else {
        return vec![Diagnostic::error("not-a-manifest", "the file holds no YAML object").in_file(path)];
    };
    let api = root.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let standard = standard_of(root, path);
    let own = own_rules(doc, root, standard, api);
    let judged = match standard {
        Some(standard) => agree_with_schema(doc, standard, api, own),
        None => own,
    };
    let label = standard_label(standard, api);
    let mut out: Vec<Diagnostic> = judged.into_iter().map(|d| d.judged_by(label.clone())).collect();
    out.sort_by_key(|d| (d.line, d.column));
    out
}

/// `ODCS v3.1.0`, `ODPS v1.0.0`: the standard and the version a file declares (the version left out when it
/// declares none).
fn standard_label(standard: Option<Standard>, api: &str) -> String {
    let name = match standard {
        Some(Standard::Odcs) => "ODCS",
        Some(Standard::Odps) => "ODPS",
        None => "ODCS/ODPS",
    };
    if api.is_empty() {
        name.to_string()
    } else {
        format!("{name} {api}")
    }
}

/// Adds lint findings to what reading the file already reported, so that each problem is told once: a finding at the
/// place of one already reported is dropped, but makes that one an error marked with the standard when the finding
/// is an error (the reader's message explains better; the standard decides the verdict).
pub fn merge_into(read: &mut Vec<Diagnostic>, lint: Vec<Diagnostic>) {
    for finding in lint {
        let same_place = read.iter_mut().find(|d| {
            d.file == finding.file
                && (d.line.is_some() && d.line == finding.line
                    || related(
                        d.field.as_deref().unwrap_or_default(),
                        finding.field.as_deref().unwrap_or_default(),
                    ))
        });
        match same_place {
            Some(d) if finding.is_error() => {
                d.severity = Severity::Error;
                d.standard = finding.standard;
            }
            Some(_) => {}
            None => read.push(finding),
        }
    }
}

/// The standard a manifest follows: by its `kind`, else by its file name.
fn standard_of(root: &Mapping, path: &Path) -> Option<Standard> {
    let by_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(manifest_kind_by_name);
    match (root.get("kind").and_then(Value::as_str), by_name) {
        (Some("DataContract"), _) | (None, Some(ManifestKind::Contract)) => Some(Standard::Odcs),
        (Some("DataProduct"), _) | (None, Some(ManifestKind::Descriptor)) => Some(Standard::Odps),
        _ => None,
    }
}

/// meshbox's own reading of the file, rule by rule (with hints and did-you-mean suggestions).
fn own_rules(doc: &Document, root: &Mapping, standard: Option<Standard>, api: &str) -> Vec<Diagnostic> {
    let mut lint = Lint {
        doc,
        v: V::V320,
        out: Vec::new(),
    };
    match standard {
        Some(Standard::Odcs) => {
            match V::parse(api) {
                Some(v) => lint.v = v,
                None => lint.push(
                    if api.starts_with("v3.") {
                        Severity::Warning
                    } else {
                        Severity::Error
                    },
                    "unknown-version",
                    "apiVersion",
                    format!("`{api}` is not an ODCS version meshbox knows; checking against v3.2.0"),
                    Some("use v3.0.0, v3.0.1, v3.0.2, v3.1.0 or v3.2.0".into()),
                ),
            }
            lint.contract(root);
        }
        Some(Standard::Odps) => {
            let v11 = match api {
                "v1.1.0" => true,
                "v1.0.0" => false,
                other => {
                    lint.warn(
                        "unknown-version",
                        "apiVersion",
                        format!("`{other}` is not an ODPS version meshbox knows; checking against v1.1.0"),
                        Some("use v1.0.0 or v1.1.0".into()),
                    );
                    true
                }
            };
            lint.descriptor(root, v11);
        }
        None => lint.error(
            "not-a-manifest",
            "kind",
            "not an ODCS contract or ODPS descriptor".into(),
            Some("contracts say `kind: DataContract`, descriptors `kind: DataProduct`".into()),
        ),
    }
    lint.out
}

/// Makes the verdict the official schema's: own errors the schema also rejects stay errors (they explain better);
/// own errors it accepts become warnings; what only the schema rejects is added. Without a schema for the declared
/// version (or a document JSON cannot hold), meshbox's own reading stands.
fn agree_with_schema(doc: &Document, standard: Standard, api: &str, own: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let Ok(json) = serde_json::to_value(&doc.value) else {
        return own;
    };
    let Some(violations) = standard_schema::validate(standard, api, &json) else {
        return own;
    };
    let schema = standard_schema::schema_name(standard, api);
    let anchors: Vec<String> = violations.iter().map(Violation::anchor).collect();
    let mut out: Vec<Diagnostic> = own
        .into_iter()
        .map(|d| {
            let field = d.field.clone().unwrap_or_default();
            if d.is_error() && !anchors.iter().any(|a| related(a, &field)) {
                own_rule_only(d, &schema)
            } else {
                d
            }
        })
        .collect();
    let missing: Vec<Diagnostic> = violations
        .into_iter()
        .zip(anchors)
        .filter(|(violation, anchor)| !out.iter().any(|own| own.is_error() && explains(own, violation, anchor)))
        .map(|(violation, _)| schema_diagnostic(doc, violation, &schema))
        .collect();
    out.extend(missing);
    out
}

/// Whether an own error already tells the user about a violation. A missing field is explained only by an error on
/// the object that misses it naming that field (an unknown server `type` does not explain a missing `host`).
fn explains(own: &Diagnostic, violation: &Violation, anchor: &str) -> bool {
    let field = own.field.as_deref().unwrap_or_default();
    match (&violation.field, violation.code) {
        (Some(name), "missing-field") => field == anchor && own.message.contains(&format!("`{name}`")),
        _ => related(anchor, field),
    }
}

/// An own error the official schema accepts: a warning, saying so.
fn own_rule_only(mut d: Diagnostic, schema: &str) -> Diagnostic {
    d.severity = Severity::Warning;
    let note = format!("meshbox's own rule: the {schema} schema accepts this");
    d.hint = Some(match d.hint.take() {
        Some(h) => format!("{h} ({note})"),
        None => note,
    });
    d
}

/// A schema violation meshbox's own rules did not explain, as an error at its field.
fn schema_diagnostic(doc: &Document, v: Violation, schema: &str) -> Diagnostic {
    let path = match v.code {
        "unknown-field" => v.anchor(),
        _ => v.path.clone(),
    };
    doc.diagnostic(Problem {
        severity: Severity::Error,
        code: v.code,
        path,
        message: format!("{} (the {schema} schema)", v.message),
        hint: v.hint,
    })
}

/// Two field paths speak of the same place: equal, or one inside the other (never through the document root).
fn related(a: &str, b: &str) -> bool {
    a == b || (!a.is_empty() && !b.is_empty() && (is_inside(a, b) || is_inside(b, a)))
}

/// The manifests to lint under `target`: the file itself, or every manifest found in the folder.
pub fn manifests(target: &Path) -> Vec<PathBuf> {
    if target.is_file() {
        return vec![target.to_path_buf()];
    }
    let layout = crate::folder::scan::scan(
        target,
        &crate::folder::scan::Ignorer::new(target, &[]).unwrap_or_else(|_| crate::folder::scan::Ignorer::none()),
    );
    let mut files: Vec<PathBuf> = layout
        .products
        .iter()
        .flat_map(|p| p.descriptors.iter().chain(p.contracts.iter()).cloned())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(text: &str) -> Vec<Diagnostic> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.odcs.yaml");
        std::fs::write(&p, text).unwrap();
        lint_file(&p, dir.path())
    }

    #[test]
    fn the_schema_decides_and_own_rules_explain() {
        let head = "apiVersion: v3.2.0\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\n";
        // Only the schema knows this rule: its words, at the field, as an error.
        let d = lint(&format!("{head}servers:\n  - server: s\n    type: versant\n"));
        let errors: Vec<(&str, Option<usize>, String)> = d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.field.as_deref().unwrap_or(""), d.line, d.message.clone()))
            .collect();
        assert_eq!(
            errors,
            [(
                "servers[0]",
                Some(7),
                "`database` is required here (the ODCS v3.2.0 schema)".to_string()
            )]
        );
        // Echoes of a failed branch are dropped: the wrong operator is the one error, not also `metric`.
        let d = lint(&format!(
            "{head}schema:\n  - name: t\n    quality:\n      - metric: rowCount\n        mustBeLessThan: \"5\"\n"
        ));
        let fields: Vec<&str> = d
            .iter()
            .filter(|d| d.is_error())
            .filter_map(|d| d.field.as_deref())
            .collect();
        assert_eq!(fields, ["schema[0].quality[0].mustBeLessThan"]);
        // An own rule the schema does not share stays a warning that says so.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.odcs.yaml");
        std::fs::write(&path, format!("{head}schema:\n  - name: t\n")).unwrap();
        let doc = crate::base::yaml::read_document(&path).unwrap();
        let own = vec![Diagnostic::error("made-up", "an own rule").field("schema[0].name")];
        let d = agree_with_schema(&doc, Standard::Odcs, "v3.2.0", own);
        assert_eq!((d.len(), d[0].severity), (1, Severity::Warning), "{d:?}");
        let hint = d[0].hint.as_deref().unwrap_or("");
        assert_eq!(hint, "meshbox's own rule: the ODCS v3.2.0 schema accepts this");
    }

    #[test]
    fn reports_every_problem_with_path_line_and_hint() {
        let d = lint(
            "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\nschema:\n  - name: t\n    properties:\n\
             \x20     - name: a\n        logicalType: strin\n        required: \"true\"\n        tag: [x]\n        quality:\n\
             \x20         - metric: nullValues\n            mustBe: 0\n            mustBeLessThan: \"5\"\n",
        );
        let got: Vec<(Option<usize>, Option<&str>, &str)> =
            d.iter().map(|d| (d.line, d.field.as_deref(), d.code)).collect();
        assert_eq!(
            got,
            [
                (Some(10), Some("schema[0].properties[0].logicalType"), "unknown-value"),
                (Some(11), Some("schema[0].properties[0].required"), "wrong-type"),
                (Some(12), Some("schema[0].properties[0].tag"), "unknown-field"),
                (
                    Some(14),
                    Some("schema[0].properties[0].quality[0]"),
                    "conflicting-operators"
                ),
                (
                    Some(16),
                    Some("schema[0].properties[0].quality[0].mustBeLessThan"),
                    "wrong-type"
                ),
            ]
        );
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `string`?"));
        assert_eq!(d[1].hint.as_deref(), Some("write `required: true` without quotes"));
        assert_eq!(d[2].hint.as_deref(), Some("did you mean `tags`?"));
        assert_eq!(d[4].message, "`mustBeLessThan` expects a number, found a string");
    }

    #[test]
    fn a_clean_contract_has_no_findings() {
        let d = lint(
            "apiVersion: v3.2.0\nkind: DataContract\nid: x\nversion: 1.0.0\nschema:\n  - name: t\n    properties:\n      - name: a\n\
             \x20       logicalType: string\n        enum:\n          - value: x\nservers:\n  - server: local\n    type: local\n    path: t.csv\n    format: csv\n",
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn the_nearest_name_is_suggested_only_when_close() {
        assert_eq!(nearest("Descripton", ["name", "description"], 2), Some("description"));
        assert_eq!(nearest("owner", ["name", "description"], 2), None);
        assert_eq!(
            nearest("bat", ["cat", "bar"], 1),
            Some("bar"),
            "ties go to the alphabetically first"
        );
    }

    #[test]
    fn a_misspelled_field_or_value_gets_a_suggestion_and_a_far_off_one_none() {
        let d = lint(
            "apiVersion: v3.1.0\nkind: DataContract\nid: x\nversion: 1.0.0\nstatus: active\nDescripton: x\nowner: me\n\
             schema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: integr\n\
             \x20     - name: b\n        logicalType: geography\n",
        );
        let hints: Vec<(&str, Option<&str>)> = d.iter().map(|d| (d.code, d.hint.as_deref())).collect();
        assert_eq!(
            hints,
            [
                ("unknown-field", Some("did you mean `description`?")),
                (
                    "unknown-field",
                    Some("an ODCS contract does not define `owner`; keep your own data under `customProperties`")
                ),
                ("unknown-value", Some("did you mean `integer`?")),
                (
                    "unknown-value",
                    Some("use one of: string, date, number, integer, object, array, boolean, timestamp, time")
                ),
            ]
        );
    }

    #[test]
    fn descriptor_rules_follow_the_odps_version() {
        let body = "kind: DataProduct\nid: p\ninputPorts:\n  - name: orders\noutputPorts:\n  - name: daily\n    version: 1.0.0\n\
                    \x20   synonyms: [x]\nmanagementPorts:\n  - name: docs\nsupport:\n  - channel: \"#help\"\n";
        let messages = |api: &str| -> Vec<String> {
            lint(&format!("apiVersion: {api}\n{body}"))
                .into_iter()
                .map(|d| d.message)
                .collect()
        };
        assert_eq!(
            messages("v1.0.0"),
            [
                "an ODPS v1.0 descriptor needs `status`",
                "an ODPS v1.0 input port needs `version`",
                "an ODPS v1.0 input port needs `contractId`",
                "unknown field `synonyms` in an output port",
                "a management port needs `content`",
                "an ODPS support channel needs `url`",
            ]
        );
        assert_eq!(
            messages("v1.1.0"),
            [
                "`synonyms[0]` expects an object, found text (the ODPS v1.1.0 schema)",
                "a management port needs `content`",
                "an ODPS support channel needs `url`"
            ]
        );
    }

    #[test]
    fn version_rules_apply() {
        let d = lint("apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1\nschema:\n  - name: t\n    id: t1\n");
        let codes: Vec<&str> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["missing-field", "wrong-type", "version"], "{d:?}");
        assert_eq!(d[0].line, Some(1));
        assert_eq!(d[1].hint.as_deref(), Some("quote it: `version: \"1\"`"));
    }
}
