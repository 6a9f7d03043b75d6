//! The MCP tools: their names, input schemas and descriptions (with the terms of use of the products the role
//! reads), the dispatch of a call, and the audit entry every call leaves, attributed to `mcp:<role>`.

use crate::serve::http::{AppError, AppState, AuditUse, Caller};
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::sync::Arc;

/// What a tool found: a short text for people, the structured answer, and the products it used (usage counts).
pub struct Answer {
    pub summary: String,
    pub data: Value,
    pub products: Vec<String>,
}

/// Why a tool could not answer: a stable kind (`not_found`, `refused`, `sql`, …) and a message for the model.
#[derive(Debug)]
pub struct Refusal {
    pub kind: &'static str,
    pub message: String,
    /// Extra fields of the error object (a SQL error's line and column).
    pub details: Value,
}

impl Refusal {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            kind,
            message: message.into(),
            details: Value::Null,
        }
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Refusal {
        let mut details = json!({});
        if let Some(l) = e.line {
            details["line"] = l.into();
        }
        if let Some(c) = e.column {
            details["column"] = c.into();
        }
        Refusal {
            kind: e.kind,
            message: e.message,
            details,
        }
    }
}

pub type ToolResult = Result<Answer, Refusal>;

/// The caller as the audit log and usage counts name it: `mcp:<role>`.
pub fn attributed(caller: &Caller) -> Caller {
    let mut c = caller.clone();
    c.role.name = format!("mcp:{}", caller.role.name);
    c
}

/// The MCP answer of a tool: the short text first, then the JSON (for clients that read only text), and the JSON
/// as structured content.
pub fn result(outcome: ToolResult) -> CallToolResult {
    match outcome {
        Ok(a) => {
            let mut r = CallToolResult::structured(a.data);
            r.content.insert(0, ContentBlock::text(a.summary));
            r
        }
        Err(refusal) => {
            let mut body = json!({"error": refusal.message, "kind": refusal.kind});
            if let Value::Object(extra) = refusal.details {
                for (k, v) in extra {
                    body[k] = v;
                }
            }
            let mut r = CallToolResult::structured_error(body);
            r.content.insert(0, ContentBlock::text(refusal.message));
            r
        }
    }
}

/// Runs the tool `name` as `caller`. Every call is audited (endpoint `mcp:<tool>`, `query` as `mcp` like the
/// console's `query`) and counted as a use of the products it touched that the role may read.
pub async fn call(
    st: &Arc<AppState>,
    caller: &Caller,
    name: &str,
    args: &JsonObject,
) -> Result<CallToolResult, ErrorData> {
    if name == "query" {
        // Audited inside, exactly as `POST /api/query` does.
        return Ok(result(super::query::run(st, caller, args).await));
    }
    let started = std::time::Instant::now();
    let outcome = match name {
        "search_products" => super::read::search(st, caller, args),
        "get_product" => super::read::product(st, caller, args),
        "get_contract" => super::read::contract(st, args).await,
        "explain_column" => super::read::column(st, caller, args),
        "impact" => super::read::impact(st, args),
        "list_problems" => super::read::problems(st, caller, args),
        "compliance" => super::read::compliance(st, args),
        other => {
            return Err(ErrorData::invalid_params(
                format!("no tool named `{other}`; the tools are {}", NAMES.join(", ")),
                None,
            ));
        }
    };
    let statement = format!("{name} {}", Value::Object(args.clone()));
    let endpoint = format!("mcp:{name}");
    let (products, outcome_kind) = match &outcome {
        Ok(a) => (readable(st, caller, &a.products), "ok"),
        Err(r) => (Vec::new(), r.kind),
    };
    st.audit_use(
        &attributed(caller),
        AuditUse {
            endpoint: &endpoint,
            statement: &statement,
            products,
            rows: 0,
            outcome: outcome_kind,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        },
    );
    Ok(result(outcome))
}

/// The products of `keys` the caller's role may read: a call counts as a use of those only (usage means reading
/// the data; a look at the metadata of a product the role cannot read is audited, not counted).
fn readable(st: &AppState, caller: &Caller, keys: &[String]) -> Vec<String> {
    let s = st.mesh.snapshot();
    keys.iter()
        .filter(|k| {
            k.split_once('/')
                .and_then(|(d, n)| s.catalog.product(d, n))
                .is_some_and(|p| s.decide(&caller.role, p).granted)
        })
        .cloned()
        .collect()
}

/// Every tool's name, in the order they are listed.
pub const NAMES: [&str; 8] = [
    "search_products",
    "get_product",
    "get_contract",
    "query",
    "explain_column",
    "impact",
    "list_problems",
    "compliance",
];

/// A JSON Schema object with `properties` (name, JSON type, description) and the `required` names.
fn schema(properties: &[(&str, &str, &str)], required: &[&str]) -> JsonObject {
    let mut props = serde_json::Map::new();
    for (name, kind, description) in properties {
        props.insert(name.to_string(), json!({"type": kind, "description": description}));
    }
    let mut out = serde_json::Map::new();
    out.insert("type".into(), json!("object"));
    out.insert("properties".into(), Value::Object(props));
    out.insert("required".into(), json!(required));
    out.insert("additionalProperties".into(), json!(false));
    out
}

const DOMAIN: (&str, &str, &str) = ("domain", "string", "The product's domain, e.g. `sales`.");
const PRODUCT: (&str, &str, &str) = ("product", "string", "The product's name in its domain, e.g. `orders`.");

/// A read-only tool (nothing it does changes the mesh).
fn tool(name: &'static str, title: &str, description: String, input: JsonObject) -> Tool {
    Tool::new(name, description, input).with_title(title).with_annotations(
        ToolAnnotations::with_title(title)
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false),
    )
}

/// The tools as `caller` sees them: the data-reading ones name the products its role reads and their terms of use.
pub fn list(st: &AppState, caller: &Caller) -> Vec<Tool> {
    let s = st.mesh.snapshot();
    let terms = super::terms::overview(&s, &caller.role);
    let role = caller.role.name.as_str();
    vec![
        search_tool(role),
        product_tool(role),
        contract_tool(),
        query_tool(role, &terms),
        column_tool(role),
        impact_tool(),
        problems_tool(role),
        compliance_tool(),
    ]
}

fn search_tool(role: &str) -> Tool {
    let facets = crate::discovery::search::FACETS.join(", ");
    let mut props: Vec<(&str, &str, &str)> = vec![
        (
            "query",
            "string",
            "Words to look for (names, descriptions, columns, tags, synonyms); empty lists all.",
        ),
        ("limit", "integer", "Most results to return (default 10, at most 50)."),
    ];
    props.extend(
        crate::discovery::search::FACETS
            .iter()
            .map(|f| (*f, "string", "Facet filter value.")),
    );
    tool(
        "search_products",
        "Search data products",
        format!(
            "Find data products by words and facets ({facets}). Each hit says whether your role `{role}` may read \
             it. Metadata of every product is shown, as in the catalog; data only through `query`."
        ),
        schema(&props, &[]),
    )
}

fn product_tool(role: &str) -> Tool {
    tool(
        "get_product",
        "Read a data product",
        format!(
            "Everything about one product as role `{role}` may see it: purpose, usage and limitations (its terms of \
             use), owner and team, output and input ports, tables with column descriptions, classifications and \
             masks, semantics, check results, service levels and freshness, lineage neighbours and downstream \
             impact, sample rows (masked; none when the role may not read it)."
        ),
        schema(&[DOMAIN, PRODUCT], &["domain", "product"]),
    )
}

fn contract_tool() -> Tool {
    tool(
        "get_contract",
        "Read an ODCS contract",
        "The product's ODCS data contract file exactly as written (YAML). Name the contract by its id or name when \
         the product has several."
            .into(),
        schema(
            &[
                DOMAIN,
                PRODUCT,
                (
                    "contract",
                    "string",
                    "The contract's id or name (optional with one contract).",
                ),
            ],
            &["domain", "product"],
        ),
    )
}

fn query_tool(role: &str, terms: &str) -> Tool {
    tool(
        "query",
        "Query the mesh with SQL",
        format!(
            "Run one read-only DuckDB SELECT as role `{role}`; tables are named `domain.table`. At most {} rows come \
             back (`truncated` says when there were more), under the console's time limit; classified columns come \
             back masked for this role and products it may not read do not exist for it. Files, settings and \
             catalog functions are refused. The answer repeats the terms of use of the products the query read.\n\
             {terms}",
            super::ROW_CAP
        ),
        schema(
            &[
                (
                    "sql",
                    "string",
                    "One SELECT statement, e.g. SELECT * FROM sales.orders LIMIT 10.",
                ),
                (
                    "max_rows",
                    "integer",
                    "Fewer rows than the cap, to save context (optional).",
                ),
            ],
            &["sql"],
        ),
    )
}

fn column_tool(role: &str) -> Tool {
    tool(
        "explain_column",
        "Explain a column",
        format!(
            "What a column means: its definition, business name, type, classification and how role `{role}` sees it \
             (mask), synonyms and authoritative definitions, a profile summary (only for a role that reads the \
             product; masked columns keep only counts), the product producing it and the products consuming it."
        ),
        schema(
            &[
                DOMAIN,
                PRODUCT,
                ("column", "string", "The column's name, or `table.column`."),
                ("table", "string", "The table, when the product has several (optional)."),
            ],
            &["domain", "product", "column"],
        ),
    )
}

fn impact_tool() -> Tool {
    tool(
        "impact",
        "Downstream impact",
        "The products downstream of a product (or of one of its columns) and their owners: who a change would \
         break."
            .into(),
        schema(
            &[
                DOMAIN,
                PRODUCT,
                (
                    "column",
                    "string",
                    "Only consumers of this column (`table.column`), optional.",
                ),
            ],
            &["domain", "product"],
        ),
    )
}

fn problems_tool(role: &str) -> Tool {
    tool(
        "list_problems",
        "List problems",
        format!(
            "Failing checks, load errors and manifest problems across the mesh, as role `{role}` may see them \
             (values it may not read are not disclosed)."
        ),
        schema(
            &[
                ("domain", "string", "Only this domain (optional)."),
                ("limit", "integer", "Most problems to return (default 50, at most 200)."),
            ],
            &[],
        ),
    )
}

fn compliance_tool() -> Tool {
    tool(
        "compliance",
        "Policy compliance",
        "Which products meet the mesh's governance policies: per policy and product, per domain, and every violation \
         with the file and field to change. Non-compliant products may be quarantined."
            .into(),
        schema(
            &[
                ("domain", "string", "Only this domain (optional)."),
                ("product", "string", "Only this product of the domain (optional)."),
            ],
            &[],
        ),
    )
}

/// A string argument, trimmed; absent, empty or not a string → None.
pub fn text<'a>(args: &'a JsonObject, name: &str) -> Option<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A required string argument.
pub fn required<'a>(args: &'a JsonObject, name: &str) -> Result<&'a str, Refusal> {
    text(args, name).ok_or_else(|| Refusal::new("bad_request", format!("the argument `{name}` is required")))
}

/// A whole-number argument (a number, or a string of digits), clamped to `1..=max`; absent → `default`.
pub fn count(args: &JsonObject, name: &str, default: usize, max: usize) -> Result<usize, Refusal> {
    let value = match args.get(name) {
        None | Some(Value::Null) => return Ok(default.min(max)),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    value
        .map(|n| (n as usize).clamp(1, max))
        .ok_or_else(|| Refusal::new("bad_request", format!("the argument `{name}` must be a whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn arguments_are_read_strictly() {
        let a = args(json!({"q": "  orders ", "blank": " ", "n": 500, "s": "7", "bad": "x", "neg": -1}));
        assert_eq!(text(&a, "q"), Some("orders"));
        assert_eq!(text(&a, "blank"), None);
        assert_eq!(text(&a, "missing"), None);
        assert_eq!(count(&a, "n", 10, 200).unwrap(), 200, "clamped to the cap");
        assert_eq!(count(&a, "s", 10, 200).unwrap(), 7);
        assert_eq!(count(&a, "missing", 10, 200).unwrap(), 10);
        assert_eq!(count(&a, "bad", 10, 200).unwrap_err().kind, "bad_request");
        assert_eq!(count(&a, "neg", 10, 200).unwrap_err().kind, "bad_request");
        assert_eq!(
            required(&a, "blank").unwrap_err().message,
            "the argument `blank` is required"
        );
    }

    #[test]
    fn answers_carry_a_short_text_then_the_json() {
        let ok = result(Ok(Answer {
            summary: "1 row".into(),
            data: json!({"rows": [[1]]}),
            products: Vec::new(),
        }));
        assert_eq!(ok.is_error, Some(false));
        assert_eq!(ok.structured_content, Some(json!({"rows": [[1]]})));
        let texts: Vec<String> = ok
            .content
            .iter()
            .filter_map(|c| c.as_text())
            .map(|t| t.text.clone())
            .collect();
        assert_eq!(texts, ["1 row", r#"{"rows":[[1]]}"#]);
        let mut refusal = Refusal::new("sql", "no such table");
        refusal.details = json!({"line": 1});
        let err = result(Err(refusal));
        assert_eq!(err.is_error, Some(true));
        assert_eq!(
            err.structured_content,
            Some(json!({"error": "no such table", "kind": "sql", "line": 1}))
        );
    }

    #[test]
    fn schemas_are_closed_objects() {
        let s = schema(&[DOMAIN, PRODUCT], &["domain"]);
        assert_eq!(s["type"], "object");
        assert_eq!(s["required"], json!(["domain"]));
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["properties"]["product"]["type"], "string");
    }
}
