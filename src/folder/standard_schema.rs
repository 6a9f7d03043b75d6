//! The standards' own judges: each manifest checked against the official ODCS/ODPS JSON schema of the version it
//! declares (the files in `standard_schemas/`, compiled once), every violation turned into a field path and a message.

use jsonschema::JsonType;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::sync::OnceLock;

/// Which standard a manifest follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standard {
    Odcs,
    Odps,
}

/// One official schema, by the `apiVersion` values it judges.
struct Official {
    standard: Standard,
    versions: &'static [&'static str],
    text: &'static str,
    /// The v3.0.0 adjustment of the v3.0.1 file (see standard_schemas/README.md).
    as_v300: bool,
}

const OFFICIAL: &[Official] = &[
    Official {
        standard: Standard::Odcs,
        versions: &["v3.0.0"],
        text: include_str!("standard_schemas/odcs-3.0.1.schema.json"),
        as_v300: true,
    },
    Official {
        standard: Standard::Odcs,
        versions: &["v3.0.1"],
        text: include_str!("standard_schemas/odcs-3.0.1.schema.json"),
        as_v300: false,
    },
    Official {
        standard: Standard::Odcs,
        versions: &["v3.0.2"],
        text: include_str!("standard_schemas/odcs-3.0.2.schema.json"),
        as_v300: false,
    },
    Official {
        standard: Standard::Odcs,
        versions: &["v3.1.0"],
        text: include_str!("standard_schemas/odcs-3.1.0.schema.json"),
        as_v300: false,
    },
    Official {
        standard: Standard::Odcs,
        versions: &["v3.2.0"],
        text: include_str!("standard_schemas/odcs-3.2.0.schema.json"),
        as_v300: false,
    },
    Official {
        standard: Standard::Odps,
        versions: &["v1.0.0"],
        text: include_str!("standard_schemas/odps-1.0.0.schema.json"),
        as_v300: false,
    },
    Official {
        standard: Standard::Odps,
        versions: &["v1.1.0"],
        text: include_str!("standard_schemas/odps-1.1.0.schema.json"),
        as_v300: false,
    },
];

/// What the schema said about one place in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// meshbox's field path of the object or value at fault, e.g. `schema[0].properties[2].enum`.
    pub path: String,
    /// For a missing or unexpected field: its name (the violation is about `path.field`).
    pub field: Option<String>,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Violation {
    /// The place the violation points at: the unexpected field itself, else the value or object at fault.
    pub fn anchor(&self) -> String {
        match (&self.field, self.code) {
            (Some(f), "unknown-field") => crate::base::yaml::path_of(&self.path, f),
            _ => self.path.clone(),
        }
    }
}

/// The name shown for a schema, e.g. `ODCS v3.2.0`.
pub fn schema_name(standard: Standard, version: &str) -> String {
    let name = match standard {
        Standard::Odcs => "ODCS",
        Standard::Odps => "ODPS",
    };
    format!("{name} {version}")
}

/// Validates a document (as JSON) against the official schema of `version`. None: no official schema for it.
pub fn validate(standard: Standard, version: &str, doc: &Json) -> Option<Vec<Violation>> {
    let index = OFFICIAL
        .iter()
        .position(|o| o.standard == standard && o.versions.contains(&version))?;
    let judge = compiled(index)?;
    let mut out: Vec<Violation> = judge
        .validator
        .iter_errors(doc)
        .flat_map(|e| violations_of(&e))
        .collect();
    out.dedup();
    Some(without_echoes(out, &judge.field_names))
}

/// Drops the "unexpected field" echoes of another violation: when a rule on an object's own field fails (a quality
/// rule's operator of the wrong type), the branch declaring the object's fields fails with it, and the schema then
/// calls every field that branch declares unexpected (`metric`). The verdict is the same; the message would mislead.
/// A name the schema declares nowhere (a typo) is never an echo, nor is anything at the root.
fn without_echoes(violations: Vec<Violation>, field_names: &HashSet<String>) -> Vec<Violation> {
    let echoed = |v: &Violation| {
        v.code == "unknown-field"
            && !v.path.is_empty()
            && v.field.as_ref().is_some_and(|f| field_names.contains(f))
            && violations
                .iter()
                .any(|other| other.code != "unknown-field" && is_own_field_or_self(&other.path, &v.path))
    };
    let keep: Vec<bool> = violations.iter().map(|v| !echoed(v)).collect();
    violations
        .into_iter()
        .zip(keep)
        .filter_map(|(v, keep)| keep.then_some(v))
        .collect()
}

/// `path` is the object at `object` or one of its own fields (not something nested deeper).
fn is_own_field_or_self(path: &str, object: &str) -> bool {
    path == object
        || path
            .strip_prefix(object)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|field| !field.contains(['.', '[']))
}

/// A compiled official schema and every field name it declares anywhere.
struct Judge {
    validator: jsonschema::Validator,
    field_names: HashSet<String>,
}

/// The judge of `OFFICIAL[index]`, compiled on first use (a few milliseconds each) and kept.
fn compiled(index: usize) -> Option<&'static Judge> {
    static COMPILED: [OnceLock<Option<Judge>>; 7] = [const { OnceLock::new() }; 7];
    COMPILED[index]
        .get_or_init(|| {
            let official = &OFFICIAL[index];
            let mut schema: Json = serde_json::from_str(official.text).ok()?;
            if official.as_v300 {
                as_v300(&mut schema);
            }
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft201909)
                .should_validate_formats(false)
                .build(&schema)
                .ok()?;
            let mut field_names = HashSet::new();
            declared_names(&schema, &mut field_names);
            Some(Judge { validator, field_names })
        })
        .as_ref()
}

/// Every key of every `properties` object in a schema.
fn declared_names(schema: &Json, out: &mut HashSet<String>) {
    match schema {
        Json::Object(map) => {
            if let Some(Json::Object(props)) = map.get("properties") {
                out.extend(props.keys().cloned());
            }
            map.values().for_each(|v| declared_names(v, out));
        }
        Json::Array(items) => items.iter().for_each(|v| declared_names(v, out)),
        _ => {}
    }
}

/// The v3.0.1 schema as v3.0.0 was: no top-level `authoritativeDefinitions` yet, a top-level `type` still there.
fn as_v300(schema: &mut Json) {
    if let Some(props) = schema.get_mut("properties").and_then(Json::as_object_mut) {
        props.shift_remove("authoritativeDefinitions");
        props.insert("type".into(), serde_json::json!({ "type": "string" }));
    }
}

/// meshbox's field path (`schema[0].properties[2]`) of a JSON pointer location.
fn field_path(location: &jsonschema::paths::Location) -> String {
    let mut path = String::new();
    for segment in location.segments() {
        match segment {
            LocationSegment::Index(i) => path.push_str(&format!("[{i}]")),
            LocationSegment::Property(key) => path = crate::base::yaml::path_of(&path, &key),
        }
    }
    path
}

/// The last step of a path, for messages (`schema[0].description` → `description`, `synonyms[0]` → `synonyms[0]`).
fn leaf_name(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// One schema error as meshbox's violations (an unexpected-fields error names several fields: one each).
fn violations_of(error: &jsonschema::ValidationError) -> Vec<Violation> {
    let path = field_path(error.instance_path());
    let here = |code, message: String, hint: Option<String>| Violation {
        path: path.clone(),
        field: None,
        code,
        message,
        hint,
    };
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation {
                path: path.clone(),
                field: Some(name.clone()),
                code: "unknown-field",
                message: format!("`{name}` is not a field the standard defines here"),
                hint: Some("check the spelling; keep your own data under `customProperties`".into()),
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default().to_string();
            vec![Violation {
                path: path.clone(),
                field: Some(name.clone()),
                code: "missing-field",
                message: format!("`{name}` is required here"),
                hint: Some(format!("add `{name}`")),
            }]
        }
        ValidationErrorKind::Type { kind } => vec![here(
            "wrong-type",
            format!(
                "`{}` expects {}, found {}",
                leaf_name(&path),
                type_names(kind),
                json_kind(error.instance())
            ),
            None,
        )],
        ValidationErrorKind::Enum { options } => vec![here(
            "unknown-value",
            format!(
                "`{}` is {}, which is not one of the allowed values",
                leaf_name(&path),
                error.instance()
            ),
            Some(format!("use one of: {}", list_of(options))),
        )],
        ValidationErrorKind::Constant { expected_value } => vec![here(
            "unknown-value",
            format!("`{}` must be {expected_value}", leaf_name(&path)),
            None,
        )],
        _ => vec![Violation {
            path: path.clone(),
            field: None,
            code: "schema-rule",
            message: error.to_string(),
            hint: None,
        }],
    }
}

fn type_names(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => type_name(*t).to_string(),
        TypeKind::Multiple(set) => set.iter().map(type_name).collect::<Vec<_>>().join(" or "),
    }
}

/// A JSON type as the rest of meshbox's messages name it.
fn type_name(t: JsonType) -> &'static str {
    match t {
        JsonType::Array => "a list",
        JsonType::Boolean => "true or false",
        JsonType::Integer => "a whole number",
        JsonType::Null => "nothing",
        JsonType::Number => "a number",
        JsonType::Object => "an object",
        JsonType::String => "text",
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "nothing",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn list_of(options: &Json) -> String {
    match options {
        Json::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_official_schema_compiles() {
        for (i, o) in OFFICIAL.iter().enumerate() {
            let judge = compiled(i).unwrap_or_else(|| panic!("{:?} {:?}", o.standard, o.versions));
            assert!(judge.field_names.contains("name"), "{:?} {:?}", o.standard, o.versions);
        }
    }

    #[test]
    fn unknown_versions_have_no_judge() {
        assert_eq!(validate(Standard::Odcs, "v9.9.9", &json!({})), None);
        assert_eq!(validate(Standard::Odps, "v3.2.0", &json!({})), None);
    }

    #[test]
    fn violations_point_at_the_field() {
        let doc = json!({"apiVersion": "v3.2.0", "kind": "DataContract", "id": "x", "version": "1", "status": "active",
            "schema": [{"name": "t", "description": 5, "bogus": 1, "properties": [{"name": "c", "enum": []}]}]});
        let v = validate(Standard::Odcs, "v3.2.0", &doc).unwrap();
        let anchors: Vec<(String, &str)> = v.iter().map(|v| (v.anchor(), v.code)).collect();
        assert!(
            anchors.contains(&("schema[0].description".into(), "wrong-type")),
            "{anchors:?}"
        );
        assert!(
            anchors.contains(&("schema[0].bogus".into(), "unknown-field")),
            "{anchors:?}"
        );
        assert!(
            anchors.contains(&("schema[0].properties[0].enum".into(), "schema-rule")),
            "{anchors:?}"
        );
    }

    #[test]
    fn v300_is_v301_without_its_additions() {
        let doc = json!({"apiVersion": "v3.0.0", "kind": "DataContract", "id": "x", "version": "1", "status": "active",
            "authoritativeDefinitions": [{"type": "x", "url": "https://example.com"}]});
        assert_eq!(validate(Standard::Odcs, "v3.0.1", &doc).unwrap(), vec![]);
        let v300 = validate(Standard::Odcs, "v3.0.0", &doc).unwrap();
        assert_eq!(v300.len(), 1, "{v300:?}");
        assert_eq!(v300[0].anchor(), "authoritativeDefinitions");
    }
}
