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
    /// v3.2 `context`: guidance for people and AI agents on the whole contract.
    pub context: Option<Context>,
    /// `authoritativeDefinitions[]` of the contract (glossary, ontology, taxonomy links, ...).
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
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
    /// v3.2 `deprecated`: the object should not be used in new work.
    pub deprecated: bool,
    pub synonyms: Vec<Synonym>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
    /// v3.2 `context` of the schema object.
    pub context: Option<Context>,
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
    /// v3.2 `deprecated`: the column should not be used in new work.
    pub deprecated: bool,
    pub synonyms: Vec<Synonym>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
    /// v3.2 `semanticType`: column (the default), measure or dimension.
    pub semantic_type: Option<String>,
    /// `transformLogic`: how the value is computed (a measure's aggregation, e.g. `SUM(amount)`).
    pub transform_logic: Option<String>,
    pub transform_description: Option<String>,
    pub transform_source_objects: Vec<String>,
    /// The properties of an `object` property (`properties` nested in it), read the same way.
    pub fields: Vec<Column>,
}

/// The data-quality dimensions ODCS names for a quality rule's `dimension`.
pub const QUALITY_DIMENSIONS: &[&str] = &[
    "accuracy",
    "completeness",
    "conformity",
    "consistency",
    "coverage",
    "timeliness",
    "uniqueness",
];

/// The `semanticType` values of ODCS v3.2.
pub const SEMANTIC_TYPES: &[&str] = &["column", "measure", "dimension"];

/// An `authoritativeDefinitions[]` entry: where the element is defined for good (a glossary, ontology or taxonomy
/// entry, a canonical URL, a tutorial). The URL is kept as written: pages link only http(s) ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AuthoritativeDefinition {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub description: Option<String>,
}

/// A `synonyms[]` entry (ODCS v3.2, ODPS v1.1): another name people use for the element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Synonym {
    pub synonym: String,
    pub description: Option<String>,
    /// BCP 47 language tag, when the synonym belongs to one language.
    pub locale: Option<String>,
    pub source: Option<String>,
    pub status: Option<String>,
}

/// `context` (ODCS v3.2 on the contract and schema objects, ODPS v1.1 on the product and output ports): guidance for
/// people and AI agents. A plain text is the instructions alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Context {
    pub instructions: Option<String>,
    /// Canonical questions, with their verified answer when there is one.
    pub verified_statements: Vec<VerifiedStatement>,
    /// What must not be done with the element.
    pub constraints: Vec<ContextConstraint>,
}

impl Context {
    pub fn is_empty(&self) -> bool {
        self.instructions.is_none() && self.verified_statements.is_empty() && self.constraints.is_empty()
    }
}

/// A `context.verifiedStatements[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct VerifiedStatement {
    pub id: Option<String>,
    pub question: String,
    pub answer: Option<String>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
}

/// A `context.constraints[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ContextConstraint {
    pub id: Option<String>,
    pub constraint: String,
    pub tags: Vec<String>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
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
    /// The rule's own `tags` (what `meshbox test --tag` selects by).
    pub tags: Vec<String>,
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
    /// The property's `id` (a check measuring it carries it as its quality id).
    pub id: Option<String>,
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
            context: read_context(&mut r, &root, ""),
            authoritative_definitions: read_authoritative_definitions(&mut r, &root, ""),
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
            id: r.string(m, "id", &p),
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
        deprecated: r.bool(m, "deprecated", path).unwrap_or(false),
        synonyms: read_synonyms(r, m, path),
        authoritative_definitions: read_authoritative_definitions(r, m, path),
        context: read_context(r, m, path),
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
        examples: read_examples(m),
        options: read_logical_type_options(r, m, path),
        enum_values: read_enum_values(r, m, path),
        quality: read_rules(r, m, path),
        deprecated: r.bool(m, "deprecated", path).unwrap_or(false),
        synonyms: read_synonyms(r, m, path),
        authoritative_definitions: read_authoritative_definitions(r, m, path),
        semantic_type: read_semantic_type(r, m, path),
        transform_logic: r.string(m, "transformLogic", path),
        transform_description: r.string(m, "transformDescription", path),
        transform_source_objects: r.strings(m, "transformSourceObjects", path),
        fields: r
            .list(m, "properties", path)
            .into_iter()
            .filter_map(|(p, v)| read_column(r, v, &p))
            .collect(),
        name,
        path: path.to_string(),
    })
}

/// `logicalTypeOptions`, or (v3.0) the same options on the property itself.
fn read_logical_type_options(r: &mut Reader, m: &Mapping, path: &str) -> LogicalTypeOptions {
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
    options
}

/// v3.2 `enum[]`: the `value` of each entry, or the scalar itself.
fn read_enum_values(r: &mut Reader, m: &Mapping, path: &str) -> Vec<String> {
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
    enum_values
}

/// `examples`: a list of values, or a single one.
fn read_examples(m: &Mapping) -> Vec<String> {
    match m.get("examples") {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// v3.2 `semanticType`; a value the standard does not define is kept, with a warning.
fn read_semantic_type(r: &mut Reader, m: &Mapping, path: &str) -> Option<String> {
    let value = r.string(m, "semanticType", path)?;
    if !SEMANTIC_TYPES.contains(&value.as_str()) {
        r.problem(
            Severity::Warning,
            "unknown-value",
            &path_of(path, "semanticType"),
            format!("unknown semanticType `{value}`"),
            Some(format!("use one of {}", SEMANTIC_TYPES.join(", "))),
        );
    }
    Some(value)
}

/// `synonyms[]` (ODCS v3.2, ODPS v1.1): entries without a `synonym` are skipped with a warning; a plain text is read
/// as the synonym, with a warning.
pub fn read_synonyms(r: &mut Reader, m: &Mapping, path: &str) -> Vec<Synonym> {
    let mut synonyms = Vec::new();
    for (p, v) in r.list(m, "synonyms", path) {
        if let Value::String(s) = v {
            r.problem(
                Severity::Warning,
                "wrong-type",
                &p,
                "a synonym is a mapping with `synonym`, found a plain text".into(),
                Some(format!("write `- synonym: {s}`")),
            );
            synonyms.push(Synonym {
                synonym: s.clone(),
                description: None,
                locale: None,
                source: None,
                status: None,
            });
            continue;
        }
        let Some(e) = r.as_mapping(v, &p) else { continue };
        let Some(synonym) = r.string(e, "synonym", &p) else {
            r.problem(
                Severity::Warning,
                "missing-field",
                &p,
                "a synonym needs `synonym`".into(),
                Some("e.g. `- synonym: client`".into()),
            );
            continue;
        };
        synonyms.push(Synonym {
            synonym,
            description: r.string(e, "description", &p),
            locale: r.string(e, "locale", &p),
            source: r.string(e, "source", &p),
            status: r.string(e, "status", &p),
        });
    }
    synonyms
}

/// `authoritativeDefinitions[]`: entries without `url` or `type` are skipped with a warning.
pub fn read_authoritative_definitions(r: &mut Reader, m: &Mapping, path: &str) -> Vec<AuthoritativeDefinition> {
    let mut definitions = Vec::new();
    for (p, v) in r.list(m, "authoritativeDefinitions", path) {
        let Some(e) = r.as_mapping(v, &p) else { continue };
        let (url, kind) = (r.string(e, "url", &p), r.string(e, "type", &p));
        let (Some(url), Some(kind)) = (url, kind) else {
            r.problem(
                Severity::Warning,
                "missing-field",
                &p,
                "an authoritative definition needs `type` and `url`".into(),
                Some("e.g. `- type: glossary` and `url: https://glossary.example/customer`".into()),
            );
            continue;
        };
        definitions.push(AuthoritativeDefinition {
            kind,
            url,
            description: r.string(e, "description", &p),
        });
    }
    definitions
}

/// `context`: a mapping with instructions, verified statements and constraints, or a plain text (the instructions).
/// None when absent or empty.
pub fn read_context(r: &mut Reader, m: &Mapping, path: &str) -> Option<Context> {
    if let Some(Value::String(s)) = m.get("context") {
        return Some(Context {
            instructions: Some(s.clone()),
            ..Context::default()
        });
    }
    let c = r.mapping(m, "context", path)?;
    let p = path_of(path, "context");
    let context = Context {
        instructions: r.string(c, "instructions", &p),
        verified_statements: read_verified_statements(r, c, &p),
        constraints: read_context_constraints(r, c, &p),
    };
    (!context.is_empty()).then_some(context)
}

fn read_verified_statements(r: &mut Reader, c: &Mapping, path: &str) -> Vec<VerifiedStatement> {
    let mut statements = Vec::new();
    for (p, v) in r.list(c, "verifiedStatements", path) {
        let Some(e) = r.as_mapping(v, &p) else { continue };
        let Some(question) = r.string(e, "question", &p) else {
            r.problem(
                Severity::Warning,
                "missing-field",
                &p,
                "a verified statement needs a `question`".into(),
                None,
            );
            continue;
        };
        statements.push(VerifiedStatement {
            id: r.string(e, "id", &p),
            question,
            answer: r.string(e, "answer", &p),
            authoritative_definitions: read_authoritative_definitions(r, e, &p),
        });
    }
    statements
}

fn read_context_constraints(r: &mut Reader, c: &Mapping, path: &str) -> Vec<ContextConstraint> {
    let mut constraints = Vec::new();
    for (p, v) in r.list(c, "constraints", path) {
        let Some(e) = r.as_mapping(v, &p) else { continue };
        let Some(constraint) = r.string(e, "constraint", &p) else {
            r.problem(
                Severity::Warning,
                "missing-field",
                &p,
                "a context constraint needs `constraint`".into(),
                None,
            );
            continue;
        };
        constraints.push(ContextConstraint {
            id: r.string(e, "id", &p),
            constraint,
            tags: r.strings(e, "tags", &p),
            authoritative_definitions: read_authoritative_definitions(r, e, &p),
        });
    }
    constraints
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
        tags: r.strings(m, "tags", path),
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
    fn reads_the_v32_semantics() {
        let (c, problems) = read(
            r#"
apiVersion: v3.2.0
kind: DataContract
id: urn:x
version: 1.0.0
status: active
context: Use it for revenue analysis.
authoritativeDefinitions:
  - {type: canonicalUrl, url: "https://example.com/contract"}
schema:
  - name: turnover
    businessName: Turnover
    deprecated: true
    synonyms:
      - {synonym: sales, locale: en-GB, source: finance-team, status: active, description: what finance says}
    context:
      instructions: Always filter by date.
      verifiedStatements:
        - question: What was revenue last year?
          answer: SUM(total) by year.
          authoritativeDefinitions: [{type: glossary, url: "https://g.example/revenue"}]
        - question: Which country sells most?
      constraints:
        - {id: no-pii, constraint: Do not join with customer PII., tags: [gdpr]}
    properties:
      - name: total
        semanticType: measure
        transformLogic: SUM(amount)
        transformDescription: the sum of the order amounts
        transformSourceObjects: [orders]
        businessName: Total turnover
        authoritativeDefinitions:
          - {type: ontology, url: "https://o.example/Turnover", description: FIBO}
      - name: legacy_code
        deprecated: true
        semanticType: kpi
        synonyms:
          - {description: no synonym here}
          - old code
"#,
        );
        let c = c.unwrap();
        assert_eq!(
            c.context.as_ref().unwrap().instructions.as_deref(),
            Some("Use it for revenue analysis.")
        );
        assert_eq!(c.authoritative_definitions[0].kind, "canonicalUrl");
        let t = &c.tables[0];
        assert!(t.deprecated);
        assert_eq!(t.business_name.as_deref(), Some("Turnover"));
        assert_eq!(t.synonyms[0].synonym, "sales");
        assert_eq!(t.synonyms[0].locale.as_deref(), Some("en-GB"));
        let context = t.context.as_ref().unwrap();
        assert_eq!(context.instructions.as_deref(), Some("Always filter by date."));
        assert_eq!(context.verified_statements.len(), 2);
        assert_eq!(
            context.verified_statements[0].answer.as_deref(),
            Some("SUM(total) by year.")
        );
        assert_eq!(
            context.verified_statements[0].authoritative_definitions[0].kind,
            "glossary"
        );
        assert_eq!(context.constraints[0].constraint, "Do not join with customer PII.");
        assert_eq!(context.constraints[0].tags, ["gdpr"]);
        let total = &t.columns[0];
        assert_eq!(total.semantic_type.as_deref(), Some("measure"));
        assert_eq!(total.transform_logic.as_deref(), Some("SUM(amount)"));
        assert_eq!(total.transform_source_objects, ["orders"]);
        assert_eq!(total.authoritative_definitions[0].description.as_deref(), Some("FIBO"));
        assert!(!total.deprecated);
        let legacy = &t.columns[1];
        assert!(legacy.deprecated);
        assert_eq!(
            legacy.synonyms.iter().map(|s| s.synonym.as_str()).collect::<Vec<_>>(),
            ["old code"],
            "an entry without `synonym` is skipped, a plain text is read"
        );
        let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.path.as_str(), p.code)).collect();
        assert_eq!(
            found,
            [
                ("schema[0].properties[1].synonyms[0]", "missing-field"),
                ("schema[0].properties[1].synonyms[1]", "wrong-type"),
                ("schema[0].properties[1].semanticType", "unknown-value"),
            ]
        );
        assert!(problems.iter().all(|p| p.severity == Severity::Warning), "{problems:?}");
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
