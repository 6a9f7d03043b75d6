//! What pages show of meaning (ODCS v3.2, ODPS v1.1): business names, semantic types and a measure's transform
//! logic, synonyms, contexts (instructions, verified statements, constraints), authoritative definitions — links only
//! for http(s) URLs — and deprecation, as plain views of the manifests. Every text is escaped by the templates.

use crate::discovery::glossary::{Definition, web_link};
use crate::model::catalog::{Product, is_deprecated_status};
use crate::model::manifest::odcs::{AuthoritativeDefinition, Context, Synonym};
use serde::Serialize;

/// Authoritative definitions as pages show them.
pub fn definitions(list: &[AuthoritativeDefinition]) -> Vec<Definition> {
    list.iter().map(Definition::of).collect()
}

/// A `context` block, and what it is the context of (`product`, `contract Orders`, `output port daily`, ...).
#[derive(Debug, Clone, Serialize)]
pub struct ContextView {
    pub of: String,
    pub instructions: Option<String>,
    pub verified_statements: Vec<StatementView>,
    pub constraints: Vec<ConstraintView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementView {
    pub id: Option<String>,
    pub question: String,
    pub answer: Option<String>,
    pub definitions: Vec<Definition>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConstraintView {
    pub id: Option<String>,
    pub constraint: String,
    pub tags: Vec<String>,
    pub definitions: Vec<Definition>,
}

impl ContextView {
    pub fn of(of: impl Into<String>, c: &Context) -> ContextView {
        ContextView {
            of: of.into(),
            instructions: c.instructions.clone(),
            verified_statements: c
                .verified_statements
                .iter()
                .map(|v| StatementView {
                    id: v.id.clone(),
                    question: v.question.clone(),
                    answer: v.answer.clone(),
                    definitions: definitions(&v.authoritative_definitions),
                })
                .collect(),
            constraints: c
                .constraints
                .iter()
                .map(|k| ConstraintView {
                    id: k.id.clone(),
                    constraint: k.constraint.clone(),
                    tags: k.tags.clone(),
                    definitions: definitions(&k.authoritative_definitions),
                })
                .collect(),
        }
    }
}

/// What a product page shows of the product's meaning as a whole: its deprecation, its synonyms and definitions
/// (descriptor and contracts) and every context of the product, its output ports and its contracts. Table and column
/// semantics are in their own views.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Meaning {
    pub deprecated: bool,
    /// Why it counts as deprecated (`deprecated: true`, or its status).
    pub deprecation: Option<String>,
    pub synonyms: Vec<Synonym>,
    pub definitions: Vec<Definition>,
    pub contexts: Vec<ContextView>,
}

impl Meaning {
    pub fn of(p: &Product) -> Meaning {
        let mut m = Meaning {
            deprecated: p.is_deprecated(),
            deprecation: deprecation(p),
            ..Meaning::default()
        };
        if let Some(d) = &p.descriptor {
            m.synonyms.extend(d.synonyms.iter().cloned());
            m.definitions.extend(definitions(&d.authoritative_definitions));
            m.contexts
                .extend(d.context.iter().map(|c| ContextView::of("product", c)));
            for o in &d.output_ports {
                let name = o.name.as_deref().unwrap_or("output");
                m.contexts.extend(
                    o.context
                        .iter()
                        .map(|c| ContextView::of(format!("output port {name}"), c)),
                );
            }
        }
        for c in &p.contracts {
            for d in definitions(&c.authoritative_definitions) {
                if !m.definitions.contains(&d) {
                    m.definitions.push(d);
                }
            }
            m.contexts.extend(
                c.context
                    .iter()
                    .map(|x| ContextView::of(format!("contract {}", c.title()), x)),
            );
        }
        m
    }
}

/// Why a product counts as deprecated, if it does.
fn deprecation(p: &Product) -> Option<String> {
    if p.descriptor.as_ref().is_some_and(|d| d.deprecated) {
        return Some("its descriptor says `deprecated: true`".into());
    }
    p.lifecycle()
        .filter(|s| is_deprecated_status(s))
        .map(|s| format!("its status is `{s}`"))
}

/// An output port's software bill of materials, linked when its URL is http(s).
#[derive(Debug, Clone, Serialize)]
pub struct SbomView {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub href: Option<String>,
}

impl SbomView {
    pub fn of(s: &crate::model::manifest::odps::Sbom) -> SbomView {
        SbomView {
            kind: s.kind.clone(),
            url: s.url.clone(),
            href: s.url.as_deref().and_then(web_link),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_linked() {
        let defs = definitions(&[
            AuthoritativeDefinition {
                kind: "glossary".into(),
                url: "https://g.example/a?b=1&c=<2>".into(),
                description: None,
            },
            AuthoritativeDefinition {
                kind: "ontology".into(),
                url: "javascript:alert(1)".into(),
                description: None,
            },
            AuthoritativeDefinition {
                kind: "taxonomy".into(),
                url: "urn:x:y".into(),
                description: None,
            },
        ]);
        let hrefs: Vec<Option<&str>> = defs.iter().map(|d| d.href.as_deref()).collect();
        assert_eq!(hrefs, [Some("https://g.example/a?b=1&c=<2>"), None, None]);
    }
}
