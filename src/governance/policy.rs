//! Governance policies as code: global ones in `<mesh>/policies/*.yaml`, domain ones in `<domain>/policies/*.yaml`
//! (they add to the global set, never replace it). A policy is a built-in rule with parameters or an SQL query over
//! the mesh's metadata tables that returns the violating rows. Policy files may also declare how each
//! classification is masked.

use crate::base::diagnostics::{Diagnostic, Severity};
use crate::base::yaml::{Document, Problem, Reader, path_of};
use crate::folder::manifests::read_document;
use crate::model::catalog::Product;
use serde::Serialize;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Product,
    Table,
    Column,
}

/// Which products (and columns) a policy applies to; empty lists mean "all".
#[derive(Debug, Clone, Serialize)]
pub struct AppliesTo {
    pub level: Level,
    pub domains: Vec<String>,
    pub tags: Vec<String>,
    pub types: Vec<String>,
    pub classifications: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Rule {
    Builtin {
        name: String,
        #[serde(skip)]
        params: Mapping,
    },
    Sql {
        query: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub severity: Severity,
    pub applies_to: AppliesTo,
    pub rule: Rule,
    /// The file declaring it (relative to the mesh root) and its line.
    pub file: PathBuf,
    pub line: Option<usize>,
    /// Set for a domain policy: it only applies there.
    pub domain: Option<String>,
}

pub use crate::governance::masking::MaskMethod;

/// Everything read from the policy folders.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub policies: Vec<Policy>,
    /// classification (lower case) → method.
    pub masking: BTreeMap<String, MaskMethod>,
    pub diagnostics: Vec<Diagnostic>,
    /// Changes when any policy file changes.
    pub fingerprint: u64,
    /// Policy files (or `policies` folders) that could not be read whole: unreadable, not regular files, invalid
    /// YAML, or holding an error. While any is broken, the last good policies stay in force.
    pub broken: Vec<PathBuf>,
}

/// The built-in rules and what they check.
pub const BUILTINS: &[(&str, &str)] = &[
    (
        "required_fields",
        "the product declares the listed fields (owner, description, version, status, type, tags, support)",
    ),
    (
        "naming",
        "table and column names match the `tables` / `columns` regular expressions",
    ),
    ("classified_columns", "every column has a classification"),
    (
        "pii_purpose_retention",
        "products with personal data declare a purpose and a retention SLA",
    ),
    (
        "freshness_sla",
        "the product declares a latency or freshness SLA on a column",
    ),
    (
        "consumed_contract_active",
        "every contract the product consumes exists in the mesh and is active",
    ),
    (
        "no_deprecated_inputs",
        "the product consumes no deprecated or retired product, contract or output port, and no transform of it reads \
         a deprecated table or column",
    ),
    (
        "no_undeclared_pii",
        "no column looks personal (by its values) without a classification",
    ),
    (
        "breaking_changes_versioned",
        "a breaking change to a contract that has consumers comes with a new major version",
    ),
    (
        "derived_not_weaker",
        "a derived product protects what it reads at least as its inputs do: no column declared less classified than \
         the input columns it is computed from, no role reading it that may not read its inputs",
    ),
];

fn read_policy(
    r: &mut Reader,
    m: &Mapping,
    path: &str,
    doc: &Document,
    root: &Path,
    domain: Option<&str>,
) -> Option<Policy> {
    let Some(id) = r.string(m, "id", path) else {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "a policy needs an `id`".into(),
            Some("e.g. `id: owner-required`".into()),
        );
        return None;
    };
    let severity = read_severity(r, m, path);
    let applies_to = read_applies_to(r, m, path);
    let rule = read_rule(r, m, path)?;
    Some(Policy {
        title: r.string(m, "title", path).unwrap_or_else(|| id.clone()),
        description: r.string(m, "description", path),
        severity,
        applies_to,
        rule,
        file: doc.file.strip_prefix(root).unwrap_or(&doc.file).to_path_buf(),
        line: doc.position(path).map(|p| p.0),
        domain: domain.map(str::to_string),
        id,
    })
}

/// A policy's `severity`: error unless it says otherwise.
fn read_severity(r: &mut Reader, m: &Mapping, path: &str) -> Severity {
    match r
        .string(m, "severity", path)
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("error") => Severity::Error,
        Some("warning" | "warn") => Severity::Warning,
        Some("info") => Severity::Info,
        Some(other) => {
            r.problem(
                Severity::Error,
                "unknown-value",
                &path_of(path, "severity"),
                format!("unknown severity `{other}`"),
                Some("use error, warning or info".into()),
            );
            Severity::Error
        }
    }
}

/// A policy's `applies_to`: its level (products unless it says otherwise) and selectors, lower case but domains.
fn read_applies_to(r: &mut Reader, m: &Mapping, path: &str) -> AppliesTo {
    let ap = path_of(path, "applies_to");
    let applies = r.mapping(m, "applies_to", path).cloned().unwrap_or_default();
    let level = match r.string(&applies, "level", &ap).as_deref() {
        None | Some("product" | "products") => Level::Product,
        Some("table" | "tables") => Level::Table,
        Some("column" | "columns") => Level::Column,
        Some(other) => {
            r.problem(
                Severity::Error,
                "unknown-value",
                &path_of(&ap, "level"),
                format!("unknown level `{other}`"),
                Some("use products, tables or columns".into()),
            );
            Level::Product
        }
    };
    let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect::<Vec<_>>();
    AppliesTo {
        level,
        domains: r.strings(&applies, "domains", &ap),
        tags: lower(r.strings(&applies, "tags", &ap)),
        types: lower(r.strings(&applies, "types", &ap)),
        classifications: lower(r.strings(&applies, "classifications", &ap)),
    }
}

/// A policy's `rule`: `sql: <query>` or `builtin: <name>` with its parameters. None (with a problem) when it is
/// missing or unusable: the policy is left out.
fn read_rule(r: &mut Reader, m: &Mapping, path: &str) -> Option<Rule> {
    let rule_path = path_of(path, "rule");
    let Some(Value::Mapping(rm)) = m.get("rule") else {
        r.problem(
            Severity::Error,
            "missing-field",
            path,
            "a policy needs a `rule`".into(),
            Some("e.g. `rule: {builtin: classified_columns}`".into()),
        );
        return None;
    };
    if let Some(q) = r.string(rm, "sql", &rule_path) {
        return Some(Rule::Sql { query: q });
    }
    if let Some(name) = r.string(rm, "builtin", &rule_path) {
        return read_builtin(r, rm, &rule_path, name);
    }
    r.problem(
        Severity::Error,
        "missing-field",
        &rule_path,
        "a rule is `builtin: <name>` or `sql: <query>`".into(),
        None,
    );
    None
}

/// A `builtin: <name>` rule: a known name, and for `naming` patterns that compile.
fn read_builtin(r: &mut Reader, rm: &Mapping, rule_path: &str, name: String) -> Option<Rule> {
    if !BUILTINS.iter().any(|(b, _)| *b == name) {
        r.problem(
            Severity::Error,
            "unknown-value",
            &path_of(rule_path, "builtin"),
            format!("unknown built-in rule `{name}`"),
            Some(format!(
                "built-in rules: {}",
                BUILTINS.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
            )),
        );
        return None;
    }
    let mut params = rm.clone();
    params.remove("builtin");
    if name == "naming" {
        for key in ["tables", "columns"] {
            if let Some(Err(e)) = params.get(key).and_then(Value::as_str).map(regex::Regex::new) {
                r.problem(
                    Severity::Error,
                    "bad-pattern",
                    &path_of(rule_path, key),
                    format!("`{key}` is not a valid regular expression: {e}"),
                    None,
                );
                return None;
            }
        }
    }
    Some(Rule::Builtin { name, params })
}

fn read_masking(r: &mut Reader, m: &Mapping, path: &str, into: &mut BTreeMap<String, MaskMethod>) {
    let Some(mm) = r.mapping(m, "masking", path) else {
        return;
    };
    let mp = path_of(path, "masking");
    for (k, v) in mm {
        let (Some(class), Some(method)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        match MaskMethod::parse(method) {
            Some(method) => {
                into.insert(class.to_ascii_lowercase(), method);
            }
            None => r.problem(
                Severity::Error,
                "unknown-value",
                &path_of(&mp, class),
                format!("unknown masking method `{method}`"),
                Some("use redact, hash, partial or null".into()),
            ),
        }
    }
}

/// The policy files of a `policies/` folder, sorted: every `*.yaml`/`*.yml` entry, links and FIFOs included, so
/// that the reader refuses them by name instead of acting as if they were not there. A `policies` entry that is not
/// a real folder (a link, say) is itself a broken governance file.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(_) => return Ok(Vec::new()),
    };
    if !meta.is_dir() {
        let kind = crate::base::safe_read::irregular_kind(&meta).unwrap_or("a file");
        return Err(Diagnostic::error(
            "not-regular",
            format!("the policies folder is {kind}; meshbox reads policies only from a real folder in the mesh"),
        )
        .in_file(dir)
        .hint("replace the link with a folder holding the policy files"));
    }
    let rd = std::fs::read_dir(dir)
        .map_err(|e| Diagnostic::error("unreadable", format!("cannot read the policies folder: {e}")).in_file(dir))?;
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let lower = n.to_ascii_lowercase();
            !crate::folder::scan::is_ignored_name(n)
                && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
                && !std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads `<root>/policies/*.yaml` and `<domain>/policies/*.yaml` for each domain.
pub fn read_policies(root: &Path, domains: &[String]) -> PolicySet {
    let mut set = PolicySet::default();
    let mut sources: Vec<(PathBuf, Option<String>)> = Vec::new();
    let folders = std::iter::once((root.join("policies"), None))
        .chain(domains.iter().map(|d| (root.join(d).join("policies"), Some(d.clone()))));
    for (folder, domain) in folders {
        match yaml_files(&folder) {
            Ok(files) => sources.extend(files.into_iter().map(|f| (f, domain.clone()))),
            Err(d) => {
                set.broken
                    .push(folder.strip_prefix(root).unwrap_or(&folder).to_path_buf());
                set.diagnostics.push(d.relative_to(root));
            }
        }
    }
    set.fingerprint = crate::folder::scan::fingerprint(sources.iter().map(|(f, _)| f.as_path()));
    for (file, domain) in sources {
        let errors_before = set.diagnostics.iter().filter(|d| d.is_error()).count();
        read_policy_file(&mut set, &file, domain.as_deref(), root);
        if set.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before {
            set.broken.push(file.strip_prefix(root).unwrap_or(&file).to_path_buf());
        }
    }
    set
}

/// Reads one policy file into `set`: its policies, its masking (global files only) and its problems.
fn read_policy_file(set: &mut PolicySet, file: &Path, domain: Option<&str>, root: &Path) {
    let doc = match read_document(file).and_then(crate::folder::manifests::refuse_empty) {
        Ok(d) => d,
        Err(d) => {
            set.diagnostics.push(d.relative_to(root));
            return;
        }
    };
    let mut problems = Vec::new();
    let mut r = Reader::new(&mut problems);
    let items: Vec<(String, Mapping)> = match &doc.value {
        Value::Mapping(m) if m.contains_key("policies") => {
            let m = m.clone();
            if domain.is_none() {
                read_masking(&mut r, &m, "", &mut set.masking);
            }
            r.list(&m, "policies", "")
                .into_iter()
                .filter_map(|(p, v)| v.as_mapping().map(|mm| (p, mm.clone())))
                .collect()
        }
        Value::Mapping(m) => {
            if domain.is_none() {
                read_masking(&mut r, m, "", &mut set.masking);
            } else if m.contains_key("masking") {
                r.problem(
                    Severity::Warning,
                    "domain-masking",
                    "masking",
                    "masking is set for the whole mesh, in `policies/` at the root; ignored here".into(),
                    None,
                );
            }
            if m.contains_key("id") || m.contains_key("rule") {
                vec![(String::new(), m.clone())]
            } else {
                Vec::new()
            }
        }
        Value::Null => Vec::new(),
        other => {
            r.problem(
                Severity::Error,
                "wrong-type",
                "",
                format!(
                    "a policy file holds a policy or `policies: [...]`, found {}",
                    crate::base::yaml::kind_of(other)
                ),
                None,
            );
            Vec::new()
        }
    };
    for (path, m) in items {
        if let Some(p) = read_policy(&mut r, &m, &path, &doc, root, domain) {
            if let Some(global) = set
                .policies
                .iter()
                .find(|g| g.id == p.id && g.domain.is_none() && p.domain.is_some())
            {
                let d = doc.diagnostic(Problem {
                    severity: Severity::Error,
                    code: "policy-override",
                    path: path_of(&path, "id"),
                    message: format!(
                        "`{}` is a global policy ({}); a domain may add policies, not replace them",
                        p.id,
                        global.file.display()
                    ),
                    hint: Some("give the domain policy its own id".into()),
                });
                set.diagnostics.push(d.relative_to(root));
                continue;
            }
            set.policies.push(p);
        }
    }
    set.diagnostics
        .extend(problems.into_iter().map(|p| doc.diagnostic(p).relative_to(root)));
}

/// A rule broken somewhere, with where to fix it.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub policy: String,
    pub severity: Severity,
    pub domain: String,
    pub product: String,
    pub table: Option<String>,
    pub column: Option<String>,
    pub message: String,
    /// The file and field to change.
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub field: Option<String>,
}

/// Does the policy apply to the product (its domain scope and `applies_to` selectors)?
pub fn applies(policy: &Policy, p: &Product) -> bool {
    let a = &policy.applies_to;
    if let Some(d) = &policy.domain
        && &p.domain != d
    {
        return false;
    }
    let tags: Vec<String> = p.tags().iter().map(|t| t.to_ascii_lowercase()).collect();
    (a.domains.is_empty() || a.domains.contains(&p.domain))
        && (a.tags.is_empty() || a.tags.iter().any(|t| tags.contains(t)))
        && (a.types.is_empty()
            || p.product_type()
                .is_some_and(|t| a.types.contains(&t.to_ascii_lowercase())))
}

/// Personal data, as far as the contract says: a restricted/confidential/PII classification or a `pii` tag.
pub fn is_personal(c: &crate::model::manifest::odcs::Column) -> bool {
    c.classification.as_deref().is_some_and(|cl| {
        matches!(
            cl.to_ascii_lowercase().as_str(),
            "restricted" | "confidential" | "pii" | "personal" | "sensitive" | "secret"
        )
    }) || c.tags.iter().any(|t| t.eq_ignore_ascii_case("pii"))
}

struct Ctx<'a> {
    policy: &'a Policy,
    product: &'a Product,
    out: &'a mut Vec<Violation>,
    previous: &'a std::collections::HashMap<PathBuf, crate::model::catalog::Previous>,
    access: &'a crate::governance::access::AccessModel,
}

impl Ctx<'_> {
    fn violate(
        &mut self,
        table: Option<&str>,
        column: Option<&str>,
        message: String,
        file: Option<&Path>,
        line: Option<usize>,
        field: Option<String>,
    ) {
        self.out.push(Violation {
            policy: self.policy.id.clone(),
            severity: self.policy.severity,
            domain: self.product.domain.clone(),
            product: self.product.name.clone(),
            table: table.map(str::to_string),
            column: column.map(str::to_string),
            message,
            file: file.map(Path::to_path_buf),
            line,
            field,
        });
    }
}

fn rel(path: &Path, root: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn builtin(name: &str, params: &Mapping, cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    match name {
        "required_fields" => required_fields(cx, params, root),
        "naming" => naming(cx, params, root),
        "classified_columns" => classified_columns(cx, root),
        "pii_purpose_retention" => pii_purpose_retention(cx, root),
        "freshness_sla" => freshness_sla(cx, root),
        "consumed_contract_active" => consumed_contract_active(cx, all, root),
        "no_deprecated_inputs" => no_deprecated_inputs(cx, all, root),
        "breaking_changes_versioned" => breaking_changes_versioned(cx, all, root),
        "no_undeclared_pii" => no_undeclared_pii(cx, root),
        "derived_not_weaker" => {
            derived_classification_not_weaker(cx, root);
            derived_readers_not_wider(cx, all, root);
        }
        _ => {}
    }
}

/// The file that describes the product as a whole: its descriptor, else its first contract.
fn main_file(p: &Product, root: &Path) -> Option<PathBuf> {
    p.descriptor
        .as_ref()
        .map(|d| rel(&d.doc.file, root))
        .or_else(|| p.contracts.first().map(|c| rel(&c.doc.file, root)))
}

/// Where SLAs are declared: the first contract's `slaProperties`.
fn sla_location(p: &Product, root: &Path) -> (Option<PathBuf>, Option<usize>) {
    let first_contract = p.contracts.first();
    let file = first_contract.map(|c| rel(&c.doc.file, root));
    let line = first_contract
        .and_then(|c| c.doc.position("slaProperties"))
        .map(|x| x.0);
    (file, line)
}

/// `required_fields`: the product declares each of the `fields` (owner, description, version, status by default).
fn required_fields(cx: &mut Ctx, params: &Mapping, root: &Path) {
    let p = cx.product;
    let fields: Vec<String> = match params.get("fields") {
        Some(Value::Sequence(s)) => s.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => vec!["owner".into(), "description".into(), "version".into(), "status".into()],
    };
    let main_file = main_file(p, root);
    for f in fields {
        let (present, field) = match f.as_str() {
            "owner" | "team" => (p.owner().is_some(), "team.name"),
            "description" | "purpose" => (p.description().purpose.is_some(), "description.purpose"),
            "version" => (
                p.descriptor
                    .as_ref()
                    .and_then(|d| d.version.as_ref())
                    .or_else(|| p.contracts.first().and_then(|c| c.version.as_ref()))
                    .is_some(),
                "version",
            ),
            "status" => (p.lifecycle().is_some(), "status"),
            "type" => (p.product_type().is_some(), "type"),
            "tags" => (!p.tags().is_empty(), "tags"),
            "support" => (!p.support().is_empty(), "support"),
            other => (false, other),
        };
        if !present {
            let line = p.descriptor.as_ref().and_then(|d| d.doc.position("").map(|x| x.0));
            cx.violate(
                None,
                None,
                format!("`{field}` is not declared"),
                main_file.as_deref(),
                line,
                Some(field.to_string()),
            );
        }
    }
}

/// `naming`: table and column names match the `tables` / `columns` regular expressions.
fn naming(cx: &mut Ctx, params: &Mapping, root: &Path) {
    let re = |key: &str| {
        params
            .get(key)
            .and_then(Value::as_str)
            .and_then(|s| regex::Regex::new(s).ok())
    };
    let (tables, columns) = (re("tables"), re("columns"));
    let p = cx.product;
    for c in &p.contracts {
        let file = rel(&c.doc.file, root);
        for t in &c.tables {
            if let Some(re) = &tables
                && !re.is_match(&t.name)
            {
                let f = path_of(&t.path, "name");
                cx.violate(
                    Some(&t.name),
                    None,
                    format!("table name `{}` does not match `{}`", t.name, re.as_str()),
                    Some(&file),
                    c.doc.position(&f).map(|x| x.0),
                    Some(f),
                );
            }
            let Some(re) = &columns else { continue };
            for col in t.columns.iter().filter(|col| !re.is_match(&col.name)) {
                let f = path_of(&col.path, "name");
                cx.violate(
                    Some(&t.name),
                    Some(&col.name),
                    format!("column name `{}` does not match `{}`", col.name, re.as_str()),
                    Some(&file),
                    c.doc.position(&f).map(|x| x.0),
                    Some(f),
                );
            }
        }
    }
}

/// `classified_columns`: every declared column has a classification.
fn classified_columns(cx: &mut Ctx, root: &Path) {
    let p = cx.product;
    for c in &p.contracts {
        let file = rel(&c.doc.file, root);
        for t in &c.tables {
            for col in t.columns.iter().filter(|col| col.classification.is_none()) {
                cx.violate(
                    Some(&t.name),
                    Some(&col.name),
                    format!("`{}.{}` has no classification", t.name, col.name),
                    Some(&file),
                    c.doc.position(&col.path).map(|x| x.0),
                    Some(path_of(&col.path, "classification")),
                );
            }
        }
    }
}

/// `pii_purpose_retention`: a product with personal columns (of the policy's classifications, if it names any)
/// declares a purpose and a retention SLA.
fn pii_purpose_retention(cx: &mut Ctx, root: &Path) {
    let (p, policy) = (cx.product, cx.policy);
    let wanted = &policy.applies_to.classifications;
    let class_ok = |c: &crate::model::manifest::odcs::Column| {
        wanted.is_empty()
            || c.classification
                .as_deref()
                .is_some_and(|cl| wanted.contains(&cl.to_ascii_lowercase()))
    };
    let personal: Vec<String> = p
        .contracts
        .iter()
        .flat_map(|c| {
            c.tables.iter().flat_map(|t| {
                t.columns
                    .iter()
                    .filter(|c| is_personal(c) && class_ok(c))
                    .map(move |c| format!("{}.{}", t.name, c.name))
            })
        })
        .collect();
    if personal.is_empty() {
        return;
    }
    if p.description().purpose.is_none() {
        cx.violate(
            None,
            None,
            format!("holds personal data ({}) but declares no purpose", personal.join(", ")),
            main_file(p, root).as_deref(),
            None,
            Some("description.purpose".into()),
        );
    }
    let retention = p.contracts.iter().any(|c| {
        c.sla
            .iter()
            .any(|s| crate::checks::sla::kind_of(&s.property) == Some(crate::checks::sla::Kind::Retention))
    });
    if !retention {
        let (file, line) = sla_location(p, root);
        cx.violate(
            None,
            None,
            format!(
                "holds personal data ({}) but declares no retention SLA",
                personal.join(", ")
            ),
            file.as_deref(),
            line,
            Some("slaProperties".into()),
        );
    }
}

/// `freshness_sla`: a latency or freshness SLA on a column.
fn freshness_sla(cx: &mut Ctx, root: &Path) {
    let p = cx.product;
    let has = p.contracts.iter().any(|c| {
        c.sla.iter().any(|s| {
            crate::checks::sla::kind_of(&s.property) == Some(crate::checks::sla::Kind::Freshness) && s.element.is_some()
        })
    });
    if !has {
        let (file, line) = sla_location(p, root);
        cx.violate(
            None,
            None,
            "declares no latency/freshness SLA with an `element`".into(),
            file.as_deref(),
            line,
            Some("slaProperties".into()),
        );
    }
}

/// A contract an input port of the product consumes: its id, where the port is declared, and the product and
/// contract of the mesh that provide it (None: no product does).
struct Consumed<'a> {
    id: &'a str,
    line: Option<usize>,
    field: String,
    provider: Option<(&'a Arc<Product>, &'a crate::model::manifest::odcs::Contract)>,
}

/// The contracts the product's input ports consume (ports without a contract id are skipped).
fn consumed<'a>(p: &'a Product, all: &'a [Arc<Product>]) -> impl Iterator<Item = Consumed<'a>> {
    p.descriptor.iter().flat_map(move |d| {
        d.input_ports.iter().filter_map(move |port| {
            let id = port.contract_id.as_deref()?;
            let provider = all
                .iter()
                .find_map(|q| q.contracts.iter().find(|c| c.id.as_deref() == Some(id)).map(|c| (q, c)));
            Some(Consumed {
                id,
                line: d.doc.position(&port.path).map(|x| x.0),
                field: path_of(&port.path, "contractId"),
                provider,
            })
        })
    })
}

/// `consumed_contract_active`: every contract the product consumes exists in the mesh and is active.
fn consumed_contract_active(cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    let p = cx.product;
    let Some(d) = &p.descriptor else { return };
    let file = rel(&d.doc.file, root);
    for Consumed {
        id,
        line,
        field,
        provider,
    } in consumed(p, all)
    {
        let message = match provider {
            None => format!("consumes contract `{id}`, which no product of the mesh provides"),
            Some((q, c)) => {
                let status = c.status.as_deref().unwrap_or("(none)");
                if status.eq_ignore_ascii_case("active") {
                    continue;
                }
                format!(
                    "consumes `{id}` of {}, whose contract is `{status}`, not active",
                    q.key()
                )
            }
        };
        cx.violate(None, None, message, Some(&file), line, Some(field));
    }
}

/// `no_deprecated_inputs`: the product consumes nothing deprecated — no input port names a contract that is, or
/// whose product or output port is, deprecated or retired; no transform of a derived product reads a deprecated table
/// or column of another product.
fn no_deprecated_inputs(cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    ports_consume_deprecated(cx, all, root);
    transforms_read_deprecated(cx, all);
}

/// `no_deprecated_inputs`, input ports: the consumed contract's status, its product and the output port offering it.
fn ports_consume_deprecated(cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    let p = cx.product;
    let Some(d) = &p.descriptor else { return };
    let file = rel(&d.doc.file, root);
    for Consumed {
        id,
        line,
        field,
        provider,
    } in consumed(p, all)
    {
        let Some((q, c)) = provider else { continue };
        let Some(why) = deprecation_of(q, c) else {
            continue;
        };
        cx.violate(
            None,
            None,
            format!("consumes {} (`{id}`), which is deprecated ({why})", q.key()),
            Some(&file),
            line,
            Some(field),
        );
    }
}

/// Why a contract of product `q` must not be newly consumed, if it must not.
fn deprecation_of(q: &Product, c: &crate::model::manifest::odcs::Contract) -> Option<String> {
    use crate::model::catalog::is_deprecated_status;
    if let Some(s) = c.status.as_deref().filter(|s| is_deprecated_status(s)) {
        return Some(format!("contract status `{s}`"));
    }
    if q.descriptor.as_ref().is_some_and(|d| d.deprecated) {
        return Some("the product is marked `deprecated: true`".into());
    }
    if let Some(s) = q.lifecycle().filter(|s| is_deprecated_status(s)) {
        return Some(format!("product status `{s}`"));
    }
    let port = q
        .descriptor
        .iter()
        .flat_map(|d| d.output_ports.iter())
        .find(|o| o.deprecated && o.contract_id.is_some() && o.contract_id == c.id)?;
    Some(format!(
        "its output port `{}` is marked `deprecated: true`",
        port.name.as_deref().unwrap_or("(unnamed)")
    ))
}

/// `no_deprecated_inputs`, derived products: a transform whose SQL reads a table another product marks `deprecated`,
/// or may read one of its `deprecated` columns (DuckDB's parser says which columns can reach the result).
fn transforms_read_deprecated(cx: &mut Ctx, all: &[Arc<Product>]) {
    let p = cx.product;
    let declares_deprecated = |q: &Product| {
        q.contracts
            .iter()
            .flat_map(|c| c.tables.iter())
            .any(|t| t.deprecated || t.columns.iter().any(|c| c.deprecated))
    };
    if p.derived.is_empty() || !all.iter().any(|q| q.key() != p.key() && declares_deprecated(q)) {
        return;
    }
    let Ok(conn) = duckdb::Connection::open_in_memory() else {
        return;
    };
    for d in &p.derived {
        let Ok(reach) = crate::load::reach::Reach::of(&conn, &d.sql) else {
            continue;
        };
        for (i, r) in reach.tables.iter().enumerate() {
            let Some((q, object)) = declared_table(all, r).filter(|(q, _)| q.key() != p.key()) else {
                continue;
            };
            let sql_name = format!("{}.{}", q.domain, object.name);
            let message = if object.deprecated {
                format!(
                    "builds `{}` from `{sql_name}` ({}), which is deprecated",
                    d.table,
                    q.key()
                )
            } else {
                let names: Vec<String> = object.columns.iter().map(|c| c.name.clone()).collect();
                let read: Vec<String> = reach
                    .columns_read(i, &names)
                    .into_iter()
                    .filter(|&c| object.columns[c].deprecated)
                    .map(|c| format!("`{sql_name}.{}`", names[c]))
                    .collect();
                if read.is_empty() {
                    continue;
                }
                format!(
                    "builds `{}` reading {} ({}), deprecated",
                    d.table,
                    read.join(", "),
                    q.key()
                )
            };
            let line = r.offset.map(|o| line_at(&d.sql, o));
            cx.violate(Some(&d.table), None, message, Some(&d.file), line, None);
        }
    }
}

/// The product serving the table an SQL reference names, and the schema object declaring it.
fn declared_table<'a>(
    all: &'a [Arc<Product>],
    r: &crate::load::reach::TableRef,
) -> Option<(&'a Arc<Product>, &'a crate::model::manifest::odcs::Table)> {
    all.iter().find_map(|q| {
        q.tables
            .iter()
            .find(|t| r.names(&t.schema, &t.name))
            .map(|t| (q, &q.contracts[t.contract].tables[t.object]))
    })
}

/// The 1-based line of a byte offset in `text` (an offset past the end counts as the last line).
fn line_at(text: &str, offset: usize) -> usize {
    text.bytes().take(offset).filter(|b| *b == b'\n').count() + 1
}

/// `breaking_changes_versioned`: a contract changed in a breaking way since the previous version (with consumers)
/// has a new major version.
fn breaking_changes_versioned(cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    let (p, previous) = (cx.product, cx.previous);
    for c in &p.contracts {
        let rel_file = rel(&c.doc.file, root);
        let Some(prev) = previous.get(&rel_file) else {
            continue;
        };
        let breaking: Vec<String> = crate::checks::diff::diff(&prev.contract, c)
            .into_iter()
            .filter(|ch| ch.impact == crate::checks::diff::Impact::Breaking)
            .map(|ch| ch.message)
            .collect();
        if breaking.is_empty() {
            continue;
        }
        let (old, new) = (
            crate::checks::diff::major(prev.contract.version.as_deref()),
            crate::checks::diff::major(c.version.as_deref()),
        );
        if matches!((old, new), (Some(o), Some(n)) if n > o) {
            continue;
        }
        let consumers = consumers_of(c, all);
        if consumers.is_empty() {
            continue;
        }
        cx.violate(
            None,
            None,
            format!(
                "breaking change since {} without a new major version ({} → {}): {}; consumers: {}",
                prev.label,
                prev.contract.version.as_deref().unwrap_or("none"),
                c.version.as_deref().unwrap_or("none"),
                breaking.join("; "),
                consumers.join(", ")
            ),
            Some(&rel_file),
            c.doc.position("version").map(|x| x.0),
            Some("version".into()),
        );
    }
}

/// The products that consume a contract, each with its owner where it names one.
fn consumers_of(c: &crate::model::manifest::odcs::Contract, all: &[Arc<Product>]) -> Vec<String> {
    let Some(id) = c.id.as_deref() else {
        return Vec::new();
    };
    all.iter()
        .filter(|q| q.input_contract_ids().contains(&id))
        .map(|q| match q.owner() {
            Some(o) => format!("{} ({o})", q.key()),
            None => q.key(),
        })
        .collect()
}

/// `no_undeclared_pii`: no column the PII scan flags goes without a classification.
fn no_undeclared_pii(cx: &mut Ctx, root: &Path) {
    let p = cx.product;
    for t in &p.tables {
        let contract = &p.contracts[t.contract];
        let object = &contract.tables[t.object];
        for f in &t.pii {
            let declared = object.columns.iter().find(|c| c.name == f.column);
            if declared.is_some_and(|c| c.classification.is_some()) {
                continue;
            }
            let field = declared.map(|c| path_of(&c.path, "classification"));
            let line = declared.and_then(|c| contract.doc.position(&c.path)).map(|x| x.0);
            cx.violate(
                Some(&t.name),
                Some(&f.column),
                format!(
                    "`{}.{}` looks like personal data ({}: {:.0} % of {} sampled values, confidence {:.2}) but is not classified",
                    t.name,
                    f.column,
                    f.detector,
                    f.share * 100.0,
                    f.sampled,
                    f.confidence
                ),
                Some(&rel(&contract.doc.file, root)),
                line,
                field,
            );
        }
    }
}

/// `derived_not_weaker`, columns: a derived column declared less classified than the input columns it is computed from.
fn derived_classification_not_weaker(cx: &mut Ctx, root: &Path) {
    let rank = |c: Option<&str>| crate::governance::access::classification_rank(c);
    let (p, policy) = (cx.product, cx.policy);
    let wanted = &policy.applies_to.classifications;
    for t in &p.tables {
        let contract = &p.contracts[t.contract];
        let object = &contract.tables[t.object];
        for lc in &t.columns {
            let strictest = lc
                .inherited
                .iter()
                .filter(|h| wanted.is_empty() || wanted.contains(&h.classification))
                .max_by_key(|h| rank(Some(h.classification.as_str())));
            let Some(strictest) = strictest else { continue };
            let declared = object.columns.iter().find(|c| c.name == lc.name);
            let class = declared.and_then(|c| c.classification.as_deref());
            if rank(class) >= rank(Some(strictest.classification.as_str())) {
                continue;
            }
            cx.violate(
                Some(&t.name),
                Some(&lc.name),
                format!(
                    "`{}.{}` is computed from `{}` ({}) but declares {}",
                    t.name,
                    lc.name,
                    strictest.from,
                    strictest.classification,
                    class
                        .map(|c| format!("`{c}`"))
                        .unwrap_or_else(|| "no classification".into())
                ),
                Some(&rel(&contract.doc.file, root)),
                declared.and_then(|c| contract.doc.position(&c.path)).map(|x| x.0),
                declared.map(|c| path_of(&c.path, "classification")),
            );
        }
    }
}

/// `derived_not_weaker`, access: a role may read the derived product but not an input its SQL reads.
fn derived_readers_not_wider(cx: &mut Ctx, all: &[Arc<Product>], root: &Path) {
    let p = cx.product;
    let access = cx.access;
    let mut seen: Vec<String> = Vec::new();
    for (domain, table) in p.tables.iter().flat_map(|t| t.reads.iter()) {
        let Some(input) = all
            .iter()
            .find(|q| q.tables.iter().any(|x| &x.schema == domain && &x.name == table))
        else {
            continue;
        };
        if input.key() == p.key() || seen.contains(&input.key()) {
            continue;
        }
        seen.push(input.key());
        let wider: Vec<&str> = access
            .roles
            .iter()
            .filter(|r| access.decide(r, p, false).granted && !access.decide(r, input, false).granted)
            .map(|r| r.name.as_str())
            .collect();
        if wider.is_empty() {
            continue;
        }
        let contract = p.contracts.first();
        cx.violate(
            None,
            None,
            format!(
                "reads {} ({}), but roles that may not read it may read this product: {}; raise this product's \
                 level (`access.levels` in mesh.yaml) or name its readers in the contract's `roles`",
                input.key(),
                access.level_of(input).as_str(),
                wider.join(", ")
            ),
            contract.map(|c| rel(&c.doc.file, root)).as_deref(),
            contract.and_then(|c| c.doc.position("roles")).map(|x| x.0),
            Some("roles".into()),
        );
    }
}

/// Evaluates every built-in policy on every product it applies to.
pub fn evaluate_builtins(
    set: &PolicySet,
    products: &[Arc<Product>],
    root: &Path,
    previous: &std::collections::HashMap<PathBuf, crate::model::catalog::Previous>,
    access: &crate::governance::access::AccessModel,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for policy in &set.policies {
        let Rule::Builtin { name, params } = &policy.rule else {
            continue;
        };
        for p in products.iter().filter(|p| applies(policy, p)) {
            let mut cx = Ctx {
                policy,
                product: p,
                out: &mut out,
                previous,
                access,
            };
            builtin(name, params, &mut cx, products, root);
        }
    }
    out
}

/// Runs the SQL policies on the metadata database: each returned row is a violation. Columns named `domain`,
/// `product`, `table_name`, `column_name` and `message` are used when present.
pub fn evaluate_sql(
    set: &PolicySet,
    conn: &duckdb::Connection,
    products: &[Arc<Product>],
    max_rows: usize,
) -> (Vec<Violation>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for policy in &set.policies {
        let Rule::Sql { query } = &policy.rule else { continue };
        let fail = |msg: String| {
            let mut d = Diagnostic::error("policy-sql", format!("policy `{}`: {msg}", policy.id))
                .in_file(&policy.file)
                .field("rule.sql");
            if let Some(l) = policy.line {
                d = d.at(l, 1);
            }
            d
        };
        if let Err(e) = crate::base::sql_guard::inspect(conn, query) {
            diags.push(fail(format!("the query must be a single read-only SELECT: {e}")));
            continue;
        }
        let bounded = format!(
            "SELECT * FROM ({}\n) AS policy_rows LIMIT {}",
            query.trim().trim_end_matches(';'),
            max_rows
        );
        let sample = match crate::load::ingest::read_sample(conn, &bounded) {
            Ok(s) => s,
            Err(e) => {
                diags.push(fail(e));
                continue;
            }
        };
        let col = |name: &str| sample.columns.iter().position(|c| c.eq_ignore_ascii_case(name));
        let (di, pi, ti, ci, mi) = (
            col("domain"),
            col("product"),
            col("table_name").or(col("table")),
            col("column_name").or(col("column")),
            col("message"),
        );
        let text = |row: &Vec<serde_json::Value>, i: Option<usize>| {
            i.and_then(|i| row.get(i)).and_then(|v| v.as_str().map(str::to_string))
        };
        for row in &sample.rows {
            let (domain, product) = (text(row, di).unwrap_or_default(), text(row, pi).unwrap_or_default());
            let Some(p) = products.iter().find(|p| p.domain == domain && p.name == product) else {
                continue;
            };
            if !applies(policy, p) {
                continue;
            }
            out.push(Violation {
                policy: policy.id.clone(),
                severity: policy.severity,
                domain,
                product,
                table: text(row, ti),
                column: text(row, ci),
                message: text(row, mi).unwrap_or_else(|| policy.title.clone()),
                file: Some(policy.file.clone()),
                line: policy.line,
                field: None,
            });
        }
    }
    (out, diags)
}
