//! ODPS v1.0/v1.1 data product descriptors (`*.odps.yaml`) as typed values; the raw document is kept.

use super::odcs::{AuthoritativeDefinition, Context, Synonym};
use super::odcs::{read_authoritative_definitions, read_context, read_synonyms};
use super::{Description, Support, Team, read_custom_properties};
use crate::base::diagnostics::Severity;
use crate::base::yaml::{Document, Problem, Reader};
use serde::Serialize;
use serde_yaml::{Mapping, Value};

pub const KNOWN_API_VERSIONS: &[&str] = &["v1.0.0", "v1.1.0"];

#[derive(Debug, Clone, Serialize)]
pub struct Descriptor {
    #[serde(skip)]
    pub doc: Document,
    pub api_version: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub status: Option<String>,
    pub domain: Option<String>,
    pub tenant: Option<String>,
    /// ODPS 1.1 `type`: sourceAligned, aggregate, consumerAligned (also read from customProperties in 1.0).
    pub product_type: Option<String>,
    pub description: Description,
    pub tags: Vec<String>,
    /// ODPS 1.1 `deprecated`: the product should not be used in new work.
    pub deprecated: bool,
    /// ODPS 1.1 `synonyms[]`: other names people use for the product.
    pub synonyms: Vec<Synonym>,
    /// ODPS 1.1 `context`: guidance for people and AI agents.
    pub context: Option<Context>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
    pub team: Option<Team>,
    pub support: Vec<Support>,
    pub input_ports: Vec<InputPort>,
    pub output_ports: Vec<OutputPort>,
    pub custom_properties: Vec<(String, Value)>,
}

/// An `inputPorts[]` entry: a contract of another product that this one consumes (the lineage).
#[derive(Debug, Clone, Serialize)]
pub struct InputPort {
    pub path: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub contract_id: Option<String>,
    /// ODPS 1.1 `deprecated` on the port.
    pub deprecated: bool,
}

/// An `outputPorts[]` entry: what the product offers, described by a contract.
#[derive(Debug, Clone, Serialize)]
pub struct OutputPort {
    pub path: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub port_type: Option<String>,
    pub version: Option<String>,
    pub contract_id: Option<String>,
    /// ODPS 1.1 `deprecated` on the port.
    pub deprecated: bool,
    pub synonyms: Vec<Synonym>,
    pub context: Option<Context>,
    pub authoritative_definitions: Vec<AuthoritativeDefinition>,
    /// `sbom[]`: software bills of materials of the port's version.
    pub sbom: Vec<Sbom>,
}

/// An output port's `sbom[]` entry: the kind of bill and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sbom {
    /// `type`, `external` when not given (the standard's default).
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
}

impl Descriptor {
    pub fn read(doc: Document, problems: &mut Vec<Problem>) -> Option<Descriptor> {
        let mut r = Reader::new(problems);
        let Some(root) = doc.value.as_mapping() else {
            r.problem(
                Severity::Error,
                "not-a-product",
                "",
                format!(
                    "the file holds {}, not an ODPS data product",
                    crate::base::yaml::kind_of(&doc.value)
                ),
                Some("an ODPS descriptor starts with `apiVersion: v1.0.0` and `kind: DataProduct`".into()),
            );
            return None;
        };
        let root = root.clone();
        let api_version = r.string(&root, "apiVersion", "");
        check_api_version(&mut r, api_version.as_deref());
        check_kind(&mut r, &root);
        let input_ports = read_input_ports(&mut r, &root);
        let output_ports = read_output_ports(&mut r, &root);
        let custom_properties = read_custom_properties(&mut r, &root, "");
        let product_type = read_product_type(&mut r, &root, &custom_properties);
        Some(Descriptor {
            api_version,
            id: r.string(&root, "id", ""),
            name: r.string(&root, "name", ""),
            version: r.string(&root, "version", ""),
            status: r.string(&root, "status", ""),
            domain: r.string(&root, "domain", ""),
            tenant: r.string(&root, "tenant", ""),
            product_type,
            description: Description::read(&mut r, &root, ""),
            tags: r.strings(&root, "tags", ""),
            deprecated: r.bool(&root, "deprecated", "").unwrap_or(false),
            synonyms: read_synonyms(&mut r, &root, ""),
            context: read_context(&mut r, &root, ""),
            authoritative_definitions: read_authoritative_definitions(&mut r, &root, ""),
            team: Team::read(&mut r, &root, ""),
            support: Support::read_all(&mut r, &root, ""),
            input_ports,
            output_ports,
            custom_properties,
            doc,
        })
    }
}

/// A missing or unknown `apiVersion` is a warning: the descriptor is read anyway.
fn check_api_version(r: &mut Reader, api_version: Option<&str>) {
    match api_version {
        None => r.problem(
            Severity::Warning,
            "missing-field",
            "apiVersion",
            "`apiVersion` is missing".into(),
            Some("add `apiVersion: v1.0.0`".into()),
        ),
        Some(v) if KNOWN_API_VERSIONS.contains(&v) => {}
        Some(v) => r.problem(
            Severity::Warning,
            "unknown-version",
            "apiVersion",
            format!(
                "ODPS `{v}` is not a version meshbox knows ({}); reading it anyway",
                KNOWN_API_VERSIONS.join(", ")
            ),
            None,
        ),
    }
}

fn check_kind(r: &mut Reader, root: &Mapping) {
    if let Some(k) = r.string(root, "kind", "")
        && k != "DataProduct"
    {
        r.problem(
            Severity::Error,
            "wrong-kind",
            "kind",
            format!("`kind` is `{k}`, an ODPS descriptor has `kind: DataProduct`"),
            None,
        );
    }
}

fn read_input_ports(r: &mut Reader, root: &Mapping) -> Vec<InputPort> {
    let mut ports = Vec::new();
    for (p, v) in r.list(root, "inputPorts", "") {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        ports.push(InputPort {
            name: r.string(m, "name", &p),
            version: r.string(m, "version", &p),
            contract_id: r.string(m, "contractId", &p),
            deprecated: r.bool(m, "deprecated", &p).unwrap_or(false),
            path: p,
        });
    }
    ports
}

fn read_output_ports(r: &mut Reader, root: &Mapping) -> Vec<OutputPort> {
    let mut ports = Vec::new();
    for (p, v) in r.list(root, "outputPorts", "") {
        let Some(m) = r.as_mapping(v, &p) else {
            continue;
        };
        ports.push(OutputPort {
            name: r.string(m, "name", &p),
            description: r.string(m, "description", &p),
            port_type: r.string(m, "type", &p),
            version: r.string(m, "version", &p),
            contract_id: r.string(m, "contractId", &p),
            deprecated: r.bool(m, "deprecated", &p).unwrap_or(false),
            synonyms: read_synonyms(r, m, &p),
            context: read_context(r, m, &p),
            authoritative_definitions: read_authoritative_definitions(r, m, &p),
            sbom: read_sbom(r, m, &p),
            path: p,
        });
    }
    ports
}

/// An output port's `sbom[]`.
fn read_sbom(r: &mut Reader, port: &Mapping, path: &str) -> Vec<Sbom> {
    let mut sbom = Vec::new();
    for (p, v) in r.list(port, "sbom", path) {
        let Some(m) = r.as_mapping(v, &p) else { continue };
        sbom.push(Sbom {
            kind: r.string(m, "type", &p).unwrap_or_else(|| "external".into()),
            url: r.string(m, "url", &p),
        });
    }
    sbom
}

/// ODPS 1.1 `type`, else (1.0) a `type`-like custom property.
fn read_product_type(r: &mut Reader, root: &Mapping, custom_properties: &[(String, Value)]) -> Option<String> {
    r.string(root, "type", "").or_else(|| {
        custom_properties
            .iter()
            .find(|(k, _)| matches!(k.as_str(), "type" | "productType" | "dataProductType"))
            .and_then(|(_, v)| crate::base::yaml::scalar_text(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn reads_ports_and_type() {
        let doc = Document::parse(
            Path::new("p.odps.yaml"),
            "apiVersion: v1.1.0\nkind: DataProduct\nid: p\nstatus: active\ntype: aggregate\n\
             inputPorts:\n  - name: orders\n    version: 1.0.0\n    contractId: urn:orders\n\
             outputPorts:\n  - name: daily\n    contractId: urn:daily\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let d = Descriptor::read(doc, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(d.product_type.as_deref(), Some("aggregate"));
        assert_eq!(d.input_ports[0].contract_id.as_deref(), Some("urn:orders"));
        assert_eq!(d.output_ports[0].name.as_deref(), Some("daily"));
    }

    #[test]
    fn reads_the_v11_semantics() {
        let doc = Document::parse(
            Path::new("p.odps.yaml"),
            "apiVersion: v1.1.0\nkind: DataProduct\nid: p\nstatus: active\ndeprecated: true\n\
             synonyms:\n  - {synonym: client list, locale: en}\n\
             context:\n  instructions: Join on id.\n  constraints: [{constraint: No exports.}]\n\
             authoritativeDefinitions:\n  - {type: glossary, url: \"https://g.example/p\"}\n\
             inputPorts:\n  - {name: in, version: 1.0.0, contractId: urn:in, deprecated: true}\n\
             outputPorts:\n  - name: out\n    deprecated: true\n    synonyms: [{synonym: feed}]\n\
             \x20   sbom: [{url: \"https://s.example/sbom.json\"}, {type: internal}]\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let d = Descriptor::read(doc, &mut problems).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(d.deprecated);
        assert_eq!(d.synonyms[0].synonym, "client list");
        assert_eq!(d.context.as_ref().unwrap().constraints[0].constraint, "No exports.");
        assert_eq!(d.authoritative_definitions[0].url, "https://g.example/p");
        assert!(d.input_ports[0].deprecated);
        let out = &d.output_ports[0];
        assert!(out.deprecated);
        assert_eq!(out.synonyms[0].synonym, "feed");
        assert_eq!(
            out.sbom,
            [
                Sbom {
                    kind: "external".into(),
                    url: Some("https://s.example/sbom.json".into())
                },
                Sbom {
                    kind: "internal".into(),
                    url: None
                }
            ]
        );
    }
}
