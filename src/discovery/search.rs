//! Catalog search: one tantivy document per product (name, title, synonyms, business names, domain, tags, owner,
//! descriptions, tables, columns, classifications), kept in memory and updated incrementally from each snapshot. Queries match words
//! exactly, by prefix (search-as-you-type) and within one or two typos; names weigh more than descriptions; usage
//! lifts a result a little. Facets and "why it matched" snippets are computed from the catalog-side copy of each
//! document, so a query reads nothing but the index.

use crate::base::html::escape;
use crate::governance::compliance::Compliance;
use crate::model::catalog::Catalog;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, STRING, Schema, TEXT};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The searchable text fields, their weight, and the label a match in them gets.
const TEXT_FIELDS: &[(&str, f32, &str)] = &[
    ("name", 6.0, "name"),
    ("title", 5.0, "title"),
    ("synonyms", 4.0, "synonym"),
    ("tags", 3.0, "tag"),
    ("business_names", 2.5, "business name"),
    ("tables", 2.5, "table"),
    ("domain", 2.0, "domain"),
    ("owner", 2.0, "owner"),
    ("columns", 1.5, "column"),
    ("column_terms", 1.5, "column business name"),
    ("classification", 1.0, "classification"),
    ("description", 1.0, "description"),
    ("column_text", 0.5, "column description"),
];

/// The facets: the document field holding exact values, and the name used in the API.
pub const FACETS: &[&str] = &[
    "domain",
    "tag",
    "owner",
    "classification",
    "type",
    "compliance",
    "health",
];

/// What one product contributes to the index, kept beside it for facets and snippets.
#[derive(Debug, Clone, Hash, PartialEq)]
pub struct DocMeta {
    pub key: String,
    pub domain: String,
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    pub health: String,
    pub compliance: String,
    /// The product is deprecated (ODPS `deprecated`, or a deprecated/retired status).
    pub deprecated: bool,
    /// Its deprecated schema objects (`table`) and columns (`table.column`).
    pub deprecated_elements: Vec<String>,
    /// Facet values by facet name.
    pub facets: Vec<(&'static str, Vec<String>)>,
    /// Text by field name (as in TEXT_FIELDS).
    pub texts: Vec<(&'static str, Vec<String>)>,
}

impl DocMeta {
    pub fn of(p: &crate::model::catalog::Product, compliance: &Compliance) -> DocMeta {
        let key = p.key();
        let words = ProductWords::of(p);
        let compliance = if compliance.is_quarantined(&key) {
            "quarantined"
        } else if compliance.is_compliant(&key) {
            "compliant"
        } else {
            "non-compliant"
        };
        let tags = p.tags();
        let owner = p.owner();
        DocMeta {
            domain: p.domain.clone(),
            name: p.name.clone(),
            title: p.title(),
            health: p.status.as_str().to_string(),
            compliance: compliance.to_string(),
            deprecated: p.is_deprecated(),
            deprecated_elements: p.deprecated_elements(),
            facets: vec![
                ("domain", vec![p.domain.clone()]),
                ("tag", tags.clone()),
                ("owner", owner.iter().cloned().collect()),
                ("classification", words.classes.clone()),
                ("type", p.product_type().map(str::to_string).into_iter().collect()),
                ("compliance", vec![compliance.to_string()]),
                ("health", vec![p.status.as_str().to_string()]),
            ],
            texts: vec![
                ("name", vec![p.name.clone()]),
                ("title", vec![p.title()]),
                ("synonyms", words.synonyms),
                ("tags", tags),
                ("business_names", words.business_names),
                ("tables", words.tables),
                ("domain", vec![p.domain.clone()]),
                ("owner", owner.iter().cloned().collect()),
                ("columns", words.columns),
                ("column_terms", words.column_terms),
                ("classification", words.classes),
                ("description", words.description),
                ("column_text", words.column_text),
            ],
            owner,
            key,
        }
    }

    fn digest(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }

    fn facet(&self, name: &str) -> &[String] {
        self.facets
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }
}

/// The texts of a product's manifests, by the field they are indexed in.
#[derive(Default)]
struct ProductWords {
    /// Synonyms of the product, its output ports and its tables.
    synonyms: Vec<String>,
    /// Business names of its tables.
    business_names: Vec<String>,
    tables: Vec<String>,
    columns: Vec<String>,
    /// Business names and synonyms of its columns.
    column_terms: Vec<String>,
    /// Lower case, each once.
    classes: Vec<String>,
    /// Purpose, usage, limitations, table descriptions and the contexts' instructions and questions.
    description: Vec<String>,
    column_text: Vec<String>,
}

impl ProductWords {
    fn of(p: &crate::model::catalog::Product) -> ProductWords {
        let mut w = ProductWords::default();
        let d = p.description();
        w.description
            .extend([d.purpose, d.usage, d.limitations].into_iter().flatten());
        if let Some(d) = &p.descriptor {
            w.synonyms.extend(d.synonyms.iter().map(|s| s.synonym.clone()));
            w.description.extend(d.context.iter().flat_map(context_text));
            for port in &d.output_ports {
                w.synonyms.extend(port.synonyms.iter().map(|s| s.synonym.clone()));
            }
        }
        for c in &p.contracts {
            w.description.extend(c.description.purpose.clone());
            w.description.extend(c.context.iter().flat_map(context_text));
            for t in &c.tables {
                w.add_table(t);
            }
        }
        w.description.dedup();
        w
    }

    fn add_table(&mut self, t: &crate::model::manifest::odcs::Table) {
        self.tables.push(t.name.clone());
        self.business_names.extend(t.business_name.clone());
        self.synonyms.extend(t.synonyms.iter().map(|s| s.synonym.clone()));
        self.description.extend(t.description.clone());
        self.description.extend(t.context.iter().flat_map(context_text));
        for col in &t.columns {
            self.columns.push(col.name.clone());
            self.column_terms.extend(col.business_name.clone());
            self.column_terms.extend(col.synonyms.iter().map(|s| s.synonym.clone()));
            self.column_text.extend(col.description.clone());
            if let Some(cl) = &col.classification
                && !self.classes.contains(&cl.to_lowercase())
            {
                self.classes.push(cl.to_lowercase());
            }
        }
    }
}

/// A context's instructions and canonical questions: what people ask of the element.
fn context_text(c: &crate::model::manifest::odcs::Context) -> Vec<String> {
    c.instructions
        .iter()
        .cloned()
        .chain(c.verified_statements.iter().map(|v| v.question.clone()))
        .collect()
}

struct Fields {
    key: Field,
    ord: Field,
    text: Vec<(Field, f32)>,
    facets: Vec<Field>,
}

/// Documents in the index, by the ordinal stored with each.
#[derive(Default)]
struct Docs {
    by_ord: HashMap<u64, Arc<DocMeta>>,
    /// Product key → (ordinal, digest).
    by_key: HashMap<String, (u64, u64)>,
    next_ord: u64,
}

pub struct SearchIndex {
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    fields: Fields,
    docs: arc_swap::ArcSwap<Docs>,
    /// Serialises updates (the writer is shared with nothing else).
    updating: Mutex<()>,
}

/// A facet filter: only products with this value.
#[derive(Debug, Clone)]
pub struct Filter {
    pub facet: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matched {
    /// Where the words matched: name, title, tag, table, column, description, ...
    pub field: &'static str,
    /// The text with the matching words in `<mark>`, HTML-escaped.
    pub html: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub key: String,
    pub domain: String,
    pub name: String,
    pub title: String,
    pub owner: Option<String>,
    pub health: String,
    pub compliance: String,
    /// The product is deprecated: new work should not depend on it.
    pub deprecated: bool,
    /// Its deprecated tables and columns (`table`, `table.column`).
    pub deprecated_elements: Vec<String>,
    pub url: String,
    pub score: f32,
    pub usage: u64,
    pub matched: Vec<Matched>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub query: String,
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Facet → (value, count) over every matching product, most frequent first.
    pub facets: BTreeMap<&'static str, Vec<(String, usize)>>,
    pub took_ms: f64,
}

/// The words of a text as the index sees them: lower case, split at anything not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Typos tolerated for a query word: none for short words and for codes with digits (`domain07` is not
/// `domain08`), one from four letters, two from eight.
fn typos(word: &str) -> u8 {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return 0;
    }
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Are two words within `max` edits of each other? Optimal string alignment distance: a transposition counts as
/// one edit. Words whose lengths differ by more than `max` are not compared at all.
fn within_typos(a: &str, b: &str, max: usize) -> bool {
    a.chars().count().abs_diff(b.chars().count()) <= max && strsim::osa_distance(a, b) <= max
}

/// Does a query word match a word of the text (exactly, as a prefix, or within its typo budget)?
pub fn word_matches(query: &str, word: &str) -> bool {
    word == query
        || word.starts_with(query)
        || (typos(query) > 0 && {
            let max = typos(query) as usize;
            within_typos(query, word, max)
                // A typo in the middle of a word being typed: compare with the word's start.
                || word
                    .char_indices()
                    .nth(query.chars().count())
                    .is_some_and(|(i, _)| within_typos(query, &word[..i], max))
        })
}

/// `text` with every word matching a query word in `<mark>`, cut to about 160 characters around the first match.
fn highlight(text: &str, query: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut first: Option<usize> = None;
    let mut last = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphanumeric() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c2)) = chars.peek() {
            if !c2.is_alphanumeric() {
                break;
            }
            end = i + c2.len_utf8();
            chars.next();
        }
        let word = text[start..end].to_lowercase();
        if query.iter().any(|q| word_matches(q, &word)) {
            first.get_or_insert(start);
            out.push_str(&escape(&text[last..start]));
            out.push_str("<mark>");
            out.push_str(&escape(&text[start..end]));
            out.push_str("</mark>");
            last = end;
        }
    }
    first?;
    out.push_str(&escape(&text[last..]));
    if text.len() <= 160 {
        return Some(out);
    }
    // Long text: keep a window around the first match (on the escaped, marked text).
    let marked_at = out.find("<mark>").unwrap_or(0);
    let from = out[..marked_at]
        .char_indices()
        .rev()
        .nth(60)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let window: String = out[from..].chars().take(220).collect();
    // Never cut inside a tag or an entity: drop a trailing partial one.
    let window = match (window.rfind('<'), window.rfind('>')) {
        (Some(lt), Some(gt)) if lt > gt => window[..lt].to_string(),
        (Some(lt), None) => window[..lt].to_string(),
        _ => window,
    };
    let window = match (window.rfind('&'), window.rfind(';')) {
        (Some(a), Some(s)) if a > s => window[..a].to_string(),
        (Some(a), None) => window[..a].to_string(),
        _ => window,
    };
    let open = window.matches("<mark>").count();
    let close = window.matches("</mark>").count();
    let mut w = format!("{}{window}", if from > 0 { "…" } else { "" });
    if open > close {
        w.push_str("</mark>");
    }
    w.push('…');
    Some(w)
}

impl SearchIndex {
    pub fn new() -> anyhow::Result<SearchIndex> {
        let mut b = Schema::builder();
        let key = b.add_text_field("key", STRING);
        let ord = b.add_u64_field("ord", FAST);
        let text = TEXT_FIELDS
            .iter()
            .map(|(name, boost, _)| (b.add_text_field(name, TEXT), *boost))
            .collect();
        let facets = FACETS
            .iter()
            .map(|f| b.add_text_field(&format!("f_{f}"), STRING))
            .collect();
        let index = Index::create_in_ram(b.build());
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            writer: Mutex::new(writer),
            reader,
            fields: Fields { key, ord, text, facets },
            docs: arc_swap::ArcSwap::from_pointee(Docs::default()),
            updating: Mutex::new(()),
        })
    }

    /// Brings the index up to date with `catalog`: products whose document changed are replaced, removed ones
    /// deleted. Returns how many documents were (re)written.
    pub fn update(&self, catalog: &Catalog, compliance: &Compliance) -> anyhow::Result<usize> {
        let _one = self.updating.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.docs.load_full();
        let mut next = Docs {
            by_ord: old.by_ord.clone(),
            by_key: old.by_key.clone(),
            next_ord: old.next_ord,
        };
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut written = 0;
        let mut present = std::collections::HashSet::new();
        for p in &catalog.products {
            let meta = DocMeta::of(p, compliance);
            let digest = meta.digest();
            present.insert(meta.key.clone());
            if let Some((_, d)) = next.by_key.get(&meta.key)
                && *d == digest
            {
                continue;
            }
            if let Some((ord, _)) = next.by_key.remove(&meta.key) {
                next.by_ord.remove(&ord);
            }
            writer.delete_term(Term::from_field_text(self.fields.key, &meta.key));
            let ord = next.next_ord;
            next.next_ord += 1;
            let mut doc = TantivyDocument::default();
            doc.add_text(self.fields.key, &meta.key);
            doc.add_u64(self.fields.ord, ord);
            for ((field, _), (_, texts)) in self.fields.text.iter().zip(&meta.texts) {
                for t in texts {
                    doc.add_text(*field, t);
                }
            }
            for (field, facet) in self.fields.facets.iter().zip(FACETS) {
                for v in meta.facet(facet) {
                    doc.add_text(*field, v);
                }
            }
            writer.add_document(doc)?;
            next.by_key.insert(meta.key.clone(), (ord, digest));
            next.by_ord.insert(ord, Arc::new(meta));
            written += 1;
        }
        let gone: Vec<String> = next.by_key.keys().filter(|k| !present.contains(*k)).cloned().collect();
        for k in &gone {
            writer.delete_term(Term::from_field_text(self.fields.key, k));
            if let Some((ord, _)) = next.by_key.remove(k) {
                next.by_ord.remove(&ord);
            }
        }
        if written > 0 || !gone.is_empty() {
            writer.commit()?;
            self.reader.reload()?;
        }
        self.docs.store(Arc::new(next));
        Ok(written + gone.len())
    }

    /// Products in the index.
    pub fn len(&self) -> usize {
        self.docs.load().by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn word_query(&self, word: &str, last: bool) -> Box<dyn Query> {
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let n = word.chars().count();
        for (field, boost) in &self.fields.text {
            let term = Term::from_field_text(*field, word);
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    boost * 3.0,
                )),
            ));
            // Prefixes for every word (names are compounds: `cust` finds `customer_profiles`), typos beyond that.
            if n >= 2 || last {
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(term.clone(), 0, true)),
                        boost * 1.5,
                    )),
                ));
            }
            let t = typos(word);
            if t > 0 {
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new(term.clone(), t, true)),
                        *boost,
                    )),
                ));
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new_prefix(term, t, true)),
                        boost * 0.5,
                    )),
                ));
            }
        }
        Box::new(BooleanQuery::new(should))
    }

    /// Searches; `usage` gives a product's recent query count (a small ranking lift).
    pub fn search(
        &self,
        q: &str,
        filters: &[Filter],
        limit: usize,
        usage: &dyn Fn(&str) -> u64,
    ) -> anyhow::Result<Results> {
        let started = std::time::Instant::now();
        let query_words: Vec<String> = words(q).into_iter().take(8).collect();
        let query = self.query(&query_words, filters);
        let scored = self.ranked(&query, !query_words.is_empty(), usage)?;
        let facets = facet_counts(&scored);
        let total = scored.len();
        let hits = scored
            .into_iter()
            .take(limit)
            .map(|found| hit(found, &query_words))
            .collect();
        Ok(Results {
            query: q.to_string(),
            total,
            hits,
            facets,
            took_ms: (started.elapsed().as_secs_f64() * 1e3 * 100.0).round() / 100.0,
        })
    }

    /// Every query word must match (the last one also as a prefix) and every filter must hold; no words match all.
    fn query(&self, query_words: &[String], filters: &[Filter]) -> BooleanQuery {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, w) in query_words.iter().enumerate() {
            must.push((Occur::Must, self.word_query(w, i + 1 == query_words.len())));
        }
        for f in filters {
            if let Some(i) = FACETS.iter().position(|x| *x == f.facet) {
                let term = Term::from_field_text(self.fields.facets[i], &f.value);
                must.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
            }
        }
        if query_words.is_empty() {
            must.push((Occur::Must, Box::new(AllQuery)));
        }
        BooleanQuery::new(must)
    }

    /// Every matching product, best first: the index's score lifted a little by usage (without words, usage alone
    /// ranks), ties broken by key.
    fn ranked(&self, query: &BooleanQuery, has_words: bool, usage: &dyn Fn(&str) -> u64) -> anyhow::Result<Vec<Found>> {
        let searcher = self.reader.searcher();
        let docs = self.docs.load();
        let all = (searcher.num_docs() as usize).max(1);
        let top = searcher.search(query, &TopDocs::with_limit(all).order_by_score())?;
        let mut scored: Vec<Found> = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let column = searcher.segment_reader(addr.segment_ord).fast_fields().u64("ord")?;
            let Some(meta) = column.first(addr.doc_id).and_then(|o| docs.by_ord.get(&o)) else {
                continue;
            };
            let used = usage(&meta.key);
            let lifted = if has_words {
                score * (1.0 + 0.05 * (1.0 + used as f32).ln())
            } else {
                used as f32
            };
            scored.push(Found {
                score: lifted,
                meta: meta.clone(),
                used,
            });
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.meta.key.cmp(&b.meta.key)));
        Ok(scored)
    }
}

/// A matching product with its ranking score and usage.
struct Found {
    score: f32,
    meta: Arc<DocMeta>,
    used: u64,
}

/// Facet → (value, count) over every matching product, most frequent first.
fn facet_counts(scored: &[Found]) -> BTreeMap<&'static str, Vec<(String, usize)>> {
    let mut facets = BTreeMap::new();
    for facet in FACETS {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for found in scored {
            for v in found.meta.facet(facet) {
                *counts.entry(v.as_str()).or_default() += 1;
            }
        }
        let mut list: Vec<(String, usize)> = counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        facets.insert(*facet, list);
    }
    facets
}

/// One result as shown: the product, its rounded score and why it matched.
fn hit(found: Found, query_words: &[String]) -> Hit {
    let Found { score, meta: m, used } = found;
    Hit {
        url: crate::base::urls::product_url(&m.domain, &m.name),
        key: m.key.clone(),
        domain: m.domain.clone(),
        name: m.name.clone(),
        title: m.title.clone(),
        owner: m.owner.clone(),
        health: m.health.clone(),
        compliance: m.compliance.clone(),
        deprecated: m.deprecated,
        deprecated_elements: m.deprecated_elements.clone(),
        score: (score * 1000.0).round() / 1000.0,
        usage: used,
        matched: why_matched(&m, query_words),
    }
}

/// The first matching text of each field, in the order of the field weights, at most three.
fn why_matched(m: &DocMeta, query_words: &[String]) -> Vec<Matched> {
    let mut matched = Vec::new();
    if query_words.is_empty() {
        return matched;
    }
    // `texts` is in the order of TEXT_FIELDS.
    for ((_, texts), (_, _, label)) in m.texts.iter().zip(TEXT_FIELDS) {
        if let Some(html) = texts.iter().find_map(|t| highlight(t, query_words)) {
            matched.push(Matched { field: label, html });
        }
        if matched.len() == 3 {
            break;
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_exactly_by_prefix_and_with_typos() {
        assert!(word_matches("orders", "orders"));
        assert!(word_matches("ord", "orders"));
        assert!(word_matches("ordres", "orders"), "a transposition is one typo");
        assert!(word_matches("custmer", "customer"));
        assert!(word_matches("custo", "customer"));
        assert!(!word_matches("cat", "cart"), "short words get no typos");
        assert!(!word_matches("shipping", "orders"));
        assert!(
            !word_matches("domain07", "domain08"),
            "codes with digits match exactly or by prefix"
        );
        assert!(word_matches("domain0", "domain08"));
        assert!(within_typos("kitten", "sitting", 3) && !within_typos("kitten", "sitting", 2));
        assert!(within_typos("ab", "ba", 1), "a transposition is one edit");
        assert!(!within_typos("ord", "orders", 2), "lengths too far apart");
    }

    #[test]
    fn highlights_mark_matching_words_and_escape_the_rest() {
        let q = vec!["order".to_string()];
        assert_eq!(
            highlight("All <orders> & order lines", &q).unwrap(),
            "All &lt;<mark>orders</mark>&gt; &amp; <mark>order</mark> lines"
        );
        assert!(highlight("nothing here", &q).is_none());
        assert_eq!(
            highlight("the shop's \"orders\"", &q).unwrap(),
            "the shop&#39;s &quot;<mark>orders</mark>&quot;",
            "quotes are escaped the one way of base::html"
        );
        let long = format!("{} order {}", "x ".repeat(200), "y ".repeat(200));
        let h = highlight(&long, &q).unwrap();
        assert!(
            h.contains("<mark>order</mark>") && h.starts_with('…') && h.ends_with('…'),
            "{h}"
        );
    }
}
