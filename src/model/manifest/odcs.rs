//! ODCS v3.0.x–v3.2.0 data contracts (`*.odcs.yaml`) as typed values, read tolerantly from a YAML document.
//! The raw document is kept next to the typed view so no field meshbox does not understand is ever lost.

use super::{Description, Support, Team, read_custom_properties};
use crate::base::diagnostics::Severity;
use crate::base::yaml::{Document, Problem, Reader, path_of, scalar_text};
use serde::Serialize;
use serde_yaml::{Mapping, Value};

/// The ODCS versions meshbox reads. Newer minor versions load with a warning.
pub const KNOWN_API_VERSIONS: &[&str] = &["v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0"];

#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    #[serde(skip)]
    pub doc: Document,
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    pub domain: Option<String>,
    pub data_product: Option<String>,
    pub tenant: Option<String>,
    pub tags: Vec<String>,
    pub description: Description,
    pub tables: Vec<Table>,
    pub servers: Vec<Server>,
    pub team: Option<Team>,
    pub roles: Vec<Role>,
    pub sla: Vec<SlaProperty>,
    pub support: Vec<Support>,
    pub custom_properties: Vec<(String, Value)>,
}

/// A `schema[]` object: one table.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub path: String,
    pub name: String,
    pub physical_name: Option<String>,
    pub physical_type: Option<String>,
    pub business_name: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub columns: Vec<Column>,
    pub quality: Vec<QualityRule>,
}

/// A `properties[]` entry of a table: one column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub path: String,
    pub name: String,
    pub logical_type: Option<String>,
    pub physical_type: Option<String>,
    pub business_name: Option<String>,
    pub description: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub primary_key: bool,
    pub primary_key_position: Option<i64>,
    pub partitioned: bool,
    pub critical: bool,
    pub classification: Option<String>,
    pub tags: Vec<String>,
    pub examples: Vec<String>,
    pub options: LogicalTypeOptions,
    /// v3.2 `enum[]` values (the `value` of each entry, or the scalar itself).
    pub enum_values: Vec<String>,
    pub quality: Vec<QualityRule>,
}

/// `logicalTypeOptions` (or the v3.0 flat equivalents on the property itself).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogicalTypeOptions {
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub pattern: Option<String>,
    pub format: Option<String>,
    pub minimum: Option<Value>,
    pub maximum: Option<Value>,
    pub exclusive_minimum: Option<Value>,
    pub exclusive_maximum: Option<Value>,
    pub multiple_of: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Library,
    Sql,
    Custom,
    Text,
}

/// The ODCS library metrics (v3.1+ `metric`, or the v3.0 `rule` names mapped onto them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Metric {
    NullValues,
    MissingValues,
    InvalidValues,
    DuplicateValues,
    RowCount,
    /// A metric meshbox does not know; reported as not executed.
    Other(String),
}

impl Metric {
    pub fn parse(s: &str) -> Metric {
        match s {
            "nullValues" | "nullCheck" | "nullCount" | "null_count" => Metric::NullValues,
            "missingValues" | "missingCount" | "missing_count" => Metric::MissingValues,
            "invalidValues" | "validValues" | "invalidCount" | "invalid_count" => Metric::InvalidValues,
            "duplicateValues" | "duplicateCount" | "duplicate_count" | "uniqueCheck" => Metric::DuplicateValues,
            "rowCount" | "row_count" => Metric::RowCount,
            other => Metric::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Metric::NullValues => "nullValues",
            Metric::MissingValues => "missingValues",
            Metric::InvalidValues => "invalidValues",
            Metric::DuplicateValues => "duplicateValues",
            Metric::RowCount => "rowCount",
            Metric::Other(s) => s,
        }
    }
}

/// The comparison a measured value must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "operator", content = "value")]
pub enum Threshold {
    MustBe(f64),
    MustNotBe(f64),
    MustBeGreaterThan(f64),
    MustBeGreaterOrEqualTo(f64),
    MustBeLessThan(f64),
    MustBeLessOrEqualTo(f64),
    MustBeBetween(f64, f64),
    MustNotBeBetween(f64, f64),
}

impl Threshold {
    pub fn holds(&self, v: f64) -> bool {
        match *self {
            Threshold::MustBe(t) => v == t,
            Threshold::MustNotBe(t) => v != t,
            Threshold::MustBeGreaterThan(t) => v > t,
            Threshold::MustBeGreaterOrEqualTo(t) => v >= t,
            Threshold::MustBeLessThan(t) => v < t,
            Threshold::MustBeLessOrEqualTo(t) => v <= t,
            Threshold::MustBeBetween(a, b) => a <= v && v <= b,
            Threshold::MustNotBeBetween(a, b) => v < a || v > b,
        }
    }

    /// The operator as written in ODCS.
    pub fn operator(&self) -> &'static str {
        match self {
            Threshold::MustBe(_) => "mustBe",
            Threshold::MustNotBe(_) => "mustNotBe",
            Threshold::MustBeGreaterThan(_) => "mustBeGreaterThan",
            Threshold::MustBeGreaterOrEqualTo(_) => "mustBeGreaterOrEqualTo",
            Threshold::MustBeLessThan(_) => "mustBeLessThan",
            Threshold::MustBeLessOrEqualTo(_) => "mustBeLessOrEqualTo",
            Threshold::MustBeBetween(..) => "mustBeBetween",
            Threshold::MustNotBeBetween(..) => "mustNotBeBetween",
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |x: f64| crate::base::format::number(x);
        match *self {
            Threshold::MustBe(t) => write!(f, "= {}", n(t)),
            Threshold::MustNotBe(t) => write!(f, "≠ {}", n(t)),
            Threshold::MustBeGreaterThan(t) => write!(f, "> {}", n(t)),
            Threshold::MustBeGreaterOrEqualTo(t) => write!(f, "≥ {}", n(t)),
            Threshold::MustBeLessThan(t) => write!(f, "< {}", n(t)),
            Threshold::MustBeLessOrEqualTo(t) => write!(f, "≤ {}", n(t)),
            Threshold::MustBeBetween(a, b) => write!(f, "between {} and {}", n(a), n(b)),
            Threshold::MustNotBeBetween(a, b) => write!(f, "not between {} and {}", n(a), n(b)),
        }
    }
}

/// One `quality[]` rule on a table or a column.
#[derive(Debug, Clone, Serialize)]
pub struct QualityRule {
    pub path: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: RuleKind,
    pub metric: Option<Metric>,
    pub query: Option<String>,
    pub threshold: Option<Threshold>,
    /// `unit: percent` compares the share of rows (0–100) instead of the count.
    pub percent: bool,
    pub severity: Option<String>,
    pub dimension: Option<String>,
    /// `arguments.validValues` (or v3.0 `validValues`).
    pub valid_values: Vec<Value>,
    /// `arguments.missingValues`.
    pub missing_values: Vec<Value>,
    /// `arguments.pattern`.
    pub pattern: Option<String>,
    /// `arguments.properties` (table-level duplicateValues).
    pub properties: Vec<String>,
    pub engine: Option<String>,
}

impl QualityRule {
    /// Failures of a rule whose severity is informational or a warning do not block.
    pub fn is_blocking(&self) -> bool {
        !is_warning_severity(self.severity.as_deref())
    }
}

/// Severities that turn a failure into a warning (the set datacontract-cli uses).
pub fn is_warning_severity(severity: Option<&str>) -> bool {
    matches!(
        severity.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("info" | "warning" | "warn" | "low" | "minor" | "trivial")
    )
}

/// A `servers[]` entry.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    pub path_in_doc: String,
    pub server: Option<String>,
    pub kind: Option<String>,
    pub format: Option<String>,
    pub path: Option<String>,
    pub delimiter: Option<String>,
    pub environment: Option<String>,
    pub description: Option<String>,
    /// For `type: duckdb`: the database file, and its schema.
    pub database: Option<String>,
    pub schema: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Role {
    pub role: String,
    pub access: Option<String>,
    pub description: Option<String>,
}

/// An `slaProperties[]` entry.
#[derive(Debug, Clone, Serialize)]
pub struct SlaProperty {
    pub path: String,
    pub property: String,
    pub value: Option<Value>,
    pub value_ext: Option<Value>,
    pub unit: Option<String>,
    pub element: Option<String>,
    pub driver: Option<String>,
}

impl Contract {
    /// Reads a contract out of a parsed document; problems are appended, never fatal unless the root is not a mapping.
    pub fn read(doc: Document, problems: &mut Vec<Problem>) -> Option<Contract> {
        let mut r = Reader::new(problems);
        let Some(root) = doc.value.as_mapping() else {
            r.problem(
                Severity::Error,
                "not-a-contract",
                "",
                format!(
                    "the file holds {}, not an ODCS contract",
                    crate::base::yaml::kind_of(&doc.value)
                ),
                Some("an ODCS contract starts with `apiVersion: v3.1.0` and `kind: DataContract`".into()),
            );
            return None;
        };
        let root = root.clone();
        let api_version = r.string(&root, "apiVersion", "");
        check_api_version(&mut r, api_version.as_deref());
        let kind = r.string(&root, "kind", "");
        check_kind(&mut r, kind.as_deref());
        let id = r.string(&root, "id", "").or_else(|| r.string(&root, "uuid", ""));
        let tables = read_tables(&mut r, &root);
        let servers = read_servers(&mut r, &root);
        let roles = read_roles(&mut r, &root);
        let sla = read_sla_properties(&mut r, &root);
        Some(Contract {
            api_version,
            kind,
            id,
            name: r.string(&root, "name", ""),
            version: r.string(&root, "version", ""),
            status: r.string(&root, "status", ""),
            domain: r.string(&root, "domain", ""),
            data_product: r.string(&root, "dataProduct", ""),
            tenant: r.string(&root, "tenant", ""),
            tags: r.strings(&root, "tags", ""),
            description: Description::read(&mut r, &root, ""),
            tables,
            servers,
            team: Team::read(&mut r, &root, ""),
            roles,
            sla,
            support: Support::read_all(&mut r, &root, ""),
            custom_properties: read_custom_properties(&mut r, &root, ""),
            doc,
        })
    }

    /// The contract's display name: `name`, else `id`, else the file stem.
    pub fn title(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| super::manifest_stem(&self.doc.file))
    }
}

/// `apiVersion` is required and one of the known versions; a newer v3 is read as v3.2.0 with a warning.
fn check_api_version(r: &mut Reader, api_version: Option<&str>) {
    match api_version {
        None => r.problem(
            Severity::Error,
            "missing-field",
            "apiVersion",
            "required field `apiVersion` is missing".into(),
            Some("add `apiVersion: v3.1.0` (or the ODCS version the contract follows)".into()),
        ),
        Some(v) if KNOWN_API_VERSIONS.contains(&v) => {}
        Some(v) if v.starts_with("v3.") => r.problem(
            Severity::Warning,
            "unknown-version",
            "apiVersion",
            format!(
                "ODCS {v} is newer than the versions meshbox knows ({}); reading it as v3.2.0",
                KNOWN_API_VERSIONS.join(", ")
            ),
            None,
        ),
        Some(v) => r.problem(
            Severity::Error,
            "unknown-version",
            "apiVersion",
            format!("`{v}` is not an ODCS v3 version"),
            Some(format!("meshbox reads {}", KNOWN_API_VERSIONS.join(", "))),
        ),
    }
}

fn check_kind(r: &mut Reader, kind: Option<&str>) {
    if let Some(k) = kind
        && k != "DataContract"
    {
        r.problem(
            Severity::Error,
            "wrong-kind",
            "kind",
            format!("`kind` is `{k}`, an ODCS contract has `kind: DataContract`"),
            None,
        );
    }
}

fn read_tables(r: &mut Reader, root: &Mapping) -> Vec<Table> {
    let mut tables = Vec::new();
    for (p, v) in r.list(root, "schema", "") {
        if let Some(t) = read_table(r, v, &p) {
            tables.push(t);
        }
    }
    tables
}

fn read_servers(r: &mut Reader, root: &Mapping) -> Vec<Server> {
    let mut servers = Vec::new();
    for (p, v) in r.list(root, "servers", "") {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        servers.push(Server {
            server: r.string(m, "server", &p),
            kind: r.string(m, "type", &p),
            format: r.string(m, "format", &p),
            path: r.string(m, "path", &p).or_else(|| r.string(m, "location", &p)),
            delimiter: r.string(m, "delimiter", &p),
            environment: r.string(m, "environment", &p),
            description: r.string(m, "description", &p),
            database: r.string(m, "database", &p),
            schema: r.string(m, "schema", &p),
            path_in_doc: p,
        });
    }
    servers
}

/// `roles[]`; an entry without `role` is skipped.
fn read_roles(r: &mut Reader, root: &Mapping) -> Vec<Role> {
    let mut roles = Vec::new();
    for (p, v) in r.list(root, "roles", "") {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        if let Some(role) = r.string(m, "role", &p) {
            roles.push(Role {
                role,
                access: r.string(m, "access", &p),
                description: r.string(m, "description", &p),
            });
        }
    }
    roles
}

fn read_sla_properties(r: &mut Reader, root: &Mapping) -> Vec<SlaProperty> {
    let mut sla = Vec::new();
    for (p, v) in r.list(root, "slaProperties", "") {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        let Some(property) = r.string(m, "property", &p) else {
            r.problem(
                Severity::Warning,
                "missing-field",
                &p,
                "an SLA property needs `property`".into(),
                None,
            );
            continue;
        };
        sla.push(SlaProperty {
            property,
            value: m.get("value").cloned(),
            value_ext: m.get("valueExt").cloned(),
            unit: r.string(m, "unit", &p),
            element: r.string(m, "element", &p),
            driver: r.string(m, "driver", &p),
            path: p,
        });
    }
    sla
}

fn read_table(r: &mut Reader, v: &Value, path: &str) -> Option<Table> {
    let m = r.as_mapping(v, path)?;
    let Some(name) = r.string(m, "name", path) else {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "a schema object needs a `name`".into(),
            Some("the name becomes the SQL table name, e.g. `name: orders`".into()),
        );
        return None;
    };
    let mut columns = Vec::new();
    for (p, v) in r.list(m, "properties", path) {
        if let Some(c) = read_column(r, v, &p) {
            columns.push(c);
        }
    }
    Some(Table {
        physical_name: r.string(m, "physicalName", path),
        physical_type: r.string(m, "physicalType", path),
        business_name: r.string(m, "businessName", path),
        description: r.string(m, "description", path),
        tags: r.strings(m, "tags", path),
        quality: read_rules(r, m, path),
        columns,
        name,
        path: path.to_string(),
    })
}

fn read_column(r: &mut Reader, v: &Value, path: &str) -> Option<Column> {
    let m = r.as_mapping(v, path)?;
    let Some(name) = r.string(m, "name", path) else {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "a property needs a `name`".into(),
            Some("the name is the column name in the data file".into()),
        );
        return None;
    };
    // v3.0 put some options on the property itself; v3.1+ nests them in logicalTypeOptions.
    let opt_path = path_of(path, "logicalTypeOptions");
    let opts_map = r.mapping(m, "logicalTypeOptions", path);
    let mut options = LogicalTypeOptions::default();
    for (map, p) in [(Some(m), path.to_string()), (opts_map, opt_path)] {
        let Some(map) = map else { continue };
        options.min_length = options.min_length.or(r.integer(map, "minLength", &p));
        options.max_length = options.max_length.or(r.integer(map, "maxLength", &p));
        options.pattern = options.pattern.take().or(r.string(map, "pattern", &p));
        options.format = options.format.take().or(r.string(map, "format", &p));
        options.minimum = options.minimum.take().or(map.get("minimum").cloned());
        options.maximum = options.maximum.take().or(map.get("maximum").cloned());
        options.exclusive_minimum = options
            .exclusive_minimum
            .take()
            .or(map.get("exclusiveMinimum").cloned());
        options.exclusive_maximum = options
            .exclusive_maximum
            .take()
            .or(map.get("exclusiveMaximum").cloned());
        options.multiple_of = options.multiple_of.or(r.number(map, "multipleOf", &p));
    }
    let mut enum_values = Vec::new();
    for (p, v) in r.list(m, "enum", path) {
        match v {
            Value::Mapping(e) => {
                if let Some(val) = e.get("value").and_then(scalar_text) {
                    enum_values.push(val);
                } else {
                    r.problem(
                        Severity::Warning,
                        "missing-field",
                        &p,
                        "an enum entry needs a `value`".into(),
                        None,
                    );
                }
            }
            other => match scalar_text(other) {
                Some(s) => enum_values.push(s),
                None => r.problem(
                    Severity::Warning,
                    "wrong-type",
                    &p,
                    "an enum entry is a value or `{value, label}`".into(),
                    None,
                ),
            },
        }
    }
    let examples = match m.get("examples") {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => Vec::new(),
    };
    Some(Column {
        logical_type: r.string(m, "logicalType", path),
        physical_type: r.string(m, "physicalType", path),
        business_name: r.string(m, "businessName", path),
        description: r.string(m, "description", path),
        required: r.bool(m, "required", path).unwrap_or(false),
        unique: r.bool(m, "unique", path).unwrap_or(false),
        primary_key: r.bool(m, "primaryKey", path).unwrap_or(false),
        primary_key_position: r.integer(m, "primaryKeyPosition", path).filter(|p| *p >= 0),
        partitioned: r.bool(m, "partitioned", path).unwrap_or(false),
        critical: r.bool(m, "criticalDataElement", path).unwrap_or(false),
        classification: r.string(m, "classification", path),
        tags: r.strings(m, "tags", path),
        examples,
        options,
        enum_values,
        quality: read_rules(r, m, path),
        name,
        path: path.to_string(),
    })
}

const OPERATORS: &[&str] = &[
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeGreaterThanOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeLessThanOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
];

fn read_rules(r: &mut Reader, m: &Mapping, path: &str) -> Vec<QualityRule> {
    let mut out = Vec::new();
    for (p, v) in r.list(m, "quality", path) {
        if let Some(rule) = read_rule(r, v, &p) {
            out.push(rule);
        }
    }
    out
}

fn read_rule(r: &mut Reader, v: &Value, path: &str) -> Option<QualityRule> {
    let m = r.as_mapping(v, path)?;
    let metric_text = r.string(m, "metric", path).or_else(|| r.string(m, "rule", path));
    let kind = read_rule_kind(r, m, path, metric_text.is_some())?;
    let arguments = RuleArguments::read(r, m, path);
    let metric = metric_text.as_deref().map(Metric::parse);
    if kind == RuleKind::Library && metric.is_none() {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "a library quality rule needs a `metric`".into(),
            Some(
                "e.g. `metric: nullValues` (nullValues, missingValues, invalidValues, duplicateValues, rowCount)"
                    .into(),
            ),
        );
    }
    let query = r.string(m, "query", path);
    if kind == RuleKind::Sql && query.is_none() {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "an sql quality rule needs a `query`".into(),
            None,
        );
    }
    let threshold = read_threshold(r, m, path);
    let percent = read_percent(r, m, path);
    Some(QualityRule {
        id: r.string(m, "id", path),
        name: r.string(m, "name", path),
        description: r.string(m, "description", path),
        kind,
        metric,
        query,
        threshold,
        percent,
        severity: r.string(m, "severity", path),
        dimension: r.string(m, "dimension", path),
        valid_values: arguments.valid_values,
        missing_values: arguments.missing_values,
        pattern: arguments.pattern,
        properties: arguments.properties,
        engine: r.string(m, "engine", path),
        path: path.to_string(),
    })
}

/// The rule's `type`, or the one its other fields imply; `None` (reported) for an unknown type.
fn read_rule_kind(r: &mut Reader, m: &Mapping, path: &str, has_metric: bool) -> Option<RuleKind> {
    Some(match r.string(m, "type", path).as_deref() {
        Some("library") => RuleKind::Library,
        Some("sql") => RuleKind::Sql,
        Some("custom") => RuleKind::Custom,
        Some("text") => RuleKind::Text,
        Some(other) => {
            r.problem(
                Severity::Error,
                "unknown-value",
                &path_of(path, "type"),
                format!("unknown quality rule type `{other}`"),
                Some("use one of library, sql, custom, text".into()),
            );
            return None;
        }
        // v3.2 makes library the default; a rule with a query and no type is SQL.
        None if m.contains_key("query") && !has_metric => RuleKind::Sql,
        None if !has_metric && m.contains_key("engine") => RuleKind::Custom,
        None if !has_metric && !has_operator(m) => RuleKind::Text,
        None => RuleKind::Library,
    })
}

/// A rule's `arguments` (or, as in v3.0, the same keys on the rule itself).
struct RuleArguments {
    valid_values: Vec<Value>,
    missing_values: Vec<Value>,
    properties: Vec<String>,
    pattern: Option<String>,
}

impl RuleArguments {
    fn read(r: &mut Reader, m: &Mapping, path: &str) -> RuleArguments {
        let args_path = path_of(path, "arguments");
        let args = r.mapping(m, "arguments", path);
        let list_arg = |r: &mut Reader, key: &str| -> Vec<Value> {
            let from = args.and_then(|a| a.get(key)).or_else(|| m.get(key));
            match from {
                Some(Value::Sequence(items)) => items.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => {
                    r.problem(
                        Severity::Error,
                        "wrong-type",
                        &path_of(&args_path, key),
                        format!("expects a list of values, found {}", crate::base::yaml::kind_of(other)),
                        None,
                    );
                    Vec::new()
                }
            }
        };
        RuleArguments {
            valid_values: list_arg(r, "validValues"),
            missing_values: list_arg(r, "missingValues"),
            properties: list_arg(r, "properties").iter().filter_map(scalar_text).collect(),
            pattern: args.and_then(|a| r.string(a, "pattern", &args_path)),
        }
    }
}

/// `unit: percent` (or `%`) compares shares; `rows`, nothing or anything else (reported) counts rows.
fn read_percent(r: &mut Reader, m: &Mapping, path: &str) -> bool {
    match r.string(m, "unit", path).as_deref() {
        None | Some("rows") => false,
        Some("percent" | "%") => true,
        Some(other) => {
            r.problem(
                Severity::Warning,
                "unknown-value",
                &path_of(path, "unit"),
                format!("unknown unit `{other}`, counting rows"),
                Some("use `rows` or `percent`".into()),
            );
            false
        }
    }
}

fn has_operator(m: &Mapping) -> bool {
    OPERATORS.iter().any(|o| m.contains_key(*o))
}

fn read_threshold(r: &mut Reader, m: &Mapping, path: &str) -> Option<Threshold> {
    let present: Vec<&str> = OPERATORS.iter().copied().filter(|o| m.contains_key(*o)).collect();
    if present.len() > 1 {
        r.problem(
            Severity::Error,
            "conflicting-operators",
            path,
            format!(
                "a quality rule takes exactly one operator, found {}",
                present.join(", ")
            ),
            None,
        );
    }
    let op = *present.first()?;
    let p = path_of(path, op);
    let v = m.get(op)?;
    let single = |r: &mut Reader| read_operand(r, op, &p, v);
    let pair = |r: &mut Reader| read_operand_pair(r, op, &p, v);
    Some(match op {
        "mustBe" => Threshold::MustBe(single(r)?),
        "mustNotBe" => Threshold::MustNotBe(single(r)?),
        "mustBeGreaterThan" => Threshold::MustBeGreaterThan(single(r)?),
        "mustBeGreaterOrEqualTo" | "mustBeGreaterThanOrEqualTo" => Threshold::MustBeGreaterOrEqualTo(single(r)?),
        "mustBeLessThan" => Threshold::MustBeLessThan(single(r)?),
        "mustBeLessOrEqualTo" | "mustBeLessThanOrEqualTo" => Threshold::MustBeLessOrEqualTo(single(r)?),
        "mustBeBetween" => {
            let (a, b) = pair(r)?;
            Threshold::MustBeBetween(a, b)
        }
        _ => {
            let (a, b) = pair(r)?;
            Threshold::MustNotBeBetween(a, b)
        }
    })
}

/// A number, or a text holding one.
fn operand_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The number of operator `op` at `p`; a quoted number is read with a warning.
fn read_operand(r: &mut Reader, op: &str, p: &str, v: &Value) -> Option<f64> {
    let n = operand_number(v);
    if n.is_none() {
        r.problem(
            Severity::Error,
            "wrong-type",
            p,
            format!("`{op}` expects a number, found {}", crate::base::yaml::kind_of(v)),
            None,
        );
    } else if matches!(v, Value::String(_)) {
        r.problem(
            Severity::Warning,
            "wrong-type",
            p,
            format!("`{op}` expects a number, found a string"),
            Some("write the number without quotes".into()),
        );
    }
    n
}

/// The two numbers of a between-operator, smallest first.
fn read_operand_pair(r: &mut Reader, op: &str, p: &str, v: &Value) -> Option<(f64, f64)> {
    match v {
        Value::Sequence(items) if items.len() == 2 => match (operand_number(&items[0]), operand_number(&items[1])) {
            (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
            _ => {
                r.problem(
                    Severity::Error,
                    "wrong-type",
                    p,
                    format!("`{op}` expects two numbers"),
                    None,
                );
                None
            }
        },
        _ => {
            r.problem(
                Severity::Error,
                "wrong-type",
                p,
                format!(
                    "`{op}` expects a list of two numbers, found {}",
                    crate::base::yaml::kind_of(v)
                ),
                Some(format!("write `{op}: [0, 100]`")),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read(text: &str) -> (Option<Contract>, Vec<Problem>) {
        let doc = Document::parse(Path::new("c.odcs.yaml"), text).unwrap();
        let mut problems = Vec::new();
        let c = Contract::read(doc, &mut problems);
        (c, problems)
    }

    #[test]
    fn reads_tables_columns_rules_and_servers() {
        let (c, problems) = read(
            r#"
apiVersion: v3.1.0
kind: DataContract
id: urn:x
version: 1.0.0
status: active
schema:
  - name: orders
    quality:
      - metric: rowCount
        mustBeGreaterThan: 0
    properties:
      - name: id
        logicalType: integer
        required: true
        quality:
          - metric: duplicateValues
            mustBe: 0
      - name: status
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [a, b]}
            mustBeLessOrEqualTo: 5
            unit: percent
            severity: warning
      - name: amount
        quality:
          - type: sql
            query: SELECT count(*) FROM {model} WHERE amount < 0
            mustBeBetween: [10, 0]
servers:
  - server: local
    type: local
    format: csv
    path: data/orders.csv
"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let c = c.unwrap();
        let t = &c.tables[0];
        assert_eq!(t.name, "orders");
        assert_eq!(t.quality[0].metric, Some(Metric::RowCount));
        assert_eq!(t.quality[0].threshold, Some(Threshold::MustBeGreaterThan(0.0)));
        assert!(t.columns[0].required);
        let status = &t.columns[1].quality[0];
        assert_eq!(status.metric, Some(Metric::InvalidValues));
        assert!(status.percent);
        assert!(!status.is_blocking());
        assert_eq!(status.valid_values.len(), 2);
        let sql = &t.columns[2].quality[0];
        assert_eq!(sql.kind, RuleKind::Sql);
        assert_eq!(sql.threshold, Some(Threshold::MustBeBetween(0.0, 10.0)));
        assert_eq!(c.servers[0].path.as_deref(), Some("data/orders.csv"));
    }

    #[test]
    fn v30_rule_names_map_to_metrics() {
        let (c, problems) = read(
            "apiVersion: v3.0.2\nkind: DataContract\nid: x\nversion: 1\nstatus: draft\nschema:\n  - name: t\n    properties:\n      - name: u\n        quality:\n          - rule: validValues\n            validValues: [kg]\n            mustBe: 0\n          - rule: nullCheck\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let rules = &c.unwrap().tables[0].columns[0].quality;
        assert_eq!(rules[0].metric, Some(Metric::InvalidValues));
        assert_eq!(rules[0].valid_values.len(), 1);
        assert_eq!(rules[1].metric, Some(Metric::NullValues));
    }

    #[test]
    fn wrong_fields_are_problems_not_failures() {
        let (c, problems) = read(
            "apiVersion: v9\nkind: DataContract\nschema:\n  - name: t\n    properties:\n      - name: a\n        required: maybe\n      - logicalType: string\n",
        );
        let c = c.unwrap();
        assert_eq!(c.tables[0].columns.len(), 1);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "apiVersion",
                "schema[0].properties[0].required",
                "schema[0].properties[1]"
            ]
        );
    }
}
