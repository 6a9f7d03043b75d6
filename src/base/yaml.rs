//! YAML documents with positions: a serde_yaml value tree plus an index from field path to line/column,
//! and tolerant readers that record a problem for a wrong field instead of rejecting the whole file.

use crate::base::diagnostics::{Diagnostic, Severity};
use saphyr_parser::{Event, Parser};
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A parsed YAML file: its value tree, where each field sits, and the problems found while reading it.
///
/// The text is parsed once, by serde_yaml; the index of field positions needs a second pass over the event stream,
/// so it is built only when a diagnostic first asks where a field is (most files never have one).
#[derive(Debug, Clone)]
pub struct Document {
    pub file: PathBuf,
    pub value: Value,
    text: Arc<str>,
    spans: OnceLock<HashMap<String, (usize, usize)>>,
}

impl Document {
    /// Parses `text` (the content of `file`). A syntax error is returned as a diagnostic with its position.
    pub fn parse(file: &Path, text: &str) -> Result<Document, Diagnostic> {
        let mut value: Value = serde_yaml::from_str(text).map_err(|e| {
            let mut d =
                Diagnostic::error("yaml-syntax", format!("not valid YAML: {}", strip_location(&e))).in_file(file);
            if let Some(loc) = e.location() {
                d = d.at(loc.line(), loc.column());
            }
            d.hint("check the indentation and quoting around this line")
        })?;
        // `<<: *anchor` merge keys are part of YAML 1.1 and common in hand-written contracts.
        let _ = value.apply_merge();
        Ok(Document {
            file: file.to_path_buf(),
            value,
            text: Arc::from(text),
            spans: OnceLock::new(),
        })
    }

    /// 1-based (line, column) of the field at `path` (e.g. `schema[0].name`), or of its nearest parent.
    pub fn position(&self, path: &str) -> Option<(usize, usize)> {
        if path.is_empty() {
            return Some((1, 1));
        }
        let spans = self.spans.get_or_init(|| index_positions(&self.text));
        let mut p = path;
        loop {
            if let Some(pos) = spans.get(p) {
                return Some(*pos);
            }
            match p.rfind(['.', '[']) {
                Some(cut) => p = &p[..cut],
                None => return Some((1, 1)),
            }
        }
    }

    /// A diagnostic for `path` in this file, positioned at the field.
    pub fn diagnostic(&self, problem: Problem) -> Diagnostic {
        let mut d = Diagnostic::new(problem.severity, problem.code, problem.message)
            .in_file(&self.file)
            .field(problem.path.clone());
        if let Some((line, col)) = self.position(&problem.path) {
            d = d.at(line, col);
        }
        if let Some(h) = problem.hint {
            d = d.hint(h);
        }
        d
    }
}

/// Reads a YAML file into a document; unreadable or invalid files become a diagnostic. Only regular files are read
/// (never through a symbolic link, never a FIFO or device), at most [`MAX_MANIFEST_BYTES`](crate::base::safe_read::MAX_MANIFEST_BYTES) of them.
pub fn read_document(path: &Path) -> Result<Document, Diagnostic> {
    let bytes =
        crate::base::safe_read::read_regular(path, crate::base::safe_read::MAX_MANIFEST_BYTES).map_err(|e| {
            let code = match e {
                crate::base::safe_read::ReadError::NotRegular(_) => "not-regular",
                crate::base::safe_read::ReadError::TooLarge(_) => "too-large",
                crate::base::safe_read::ReadError::Io(_) => "unreadable",
            };
            Diagnostic::error(code, format!("cannot read this file: {e}")).in_file(path)
        })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = crate::base::safe_read::line_and_column(e.as_bytes(), at);
        Diagnostic::error(
            "encoding",
            format!("the file is not UTF-8 text (invalid byte at line {line}, column {column}; offset {at})"),
        )
        .in_file(path)
        .at(line, column)
        .hint("save the file as UTF-8")
    })?;
    Document::parse(path, &text)
}

/// serde_yaml appends " at line X column Y" to its messages; we report the position separately.
fn strip_location(e: &serde_yaml::Error) -> String {
    let s = e.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Walks the YAML event stream and records, for every mapping key and sequence item, the path and position.
fn index_positions(text: &str) -> HashMap<String, (usize, usize)> {
    enum Frame {
        Map { path: String, key: Option<String> },
        Seq { path: String, index: usize },
    }
    fn child(frames: &mut [Frame]) -> Option<String> {
        match frames.last_mut()? {
            Frame::Map { path, key } => {
                let k = key.take()?;
                Some(join_key(path, &k))
            }
            Frame::Seq { path, index } => {
                let p = format!("{path}[{index}]");
                *index += 1;
                Some(p)
            }
        }
    }
    let mut spans = HashMap::new();
    let mut frames: Vec<Frame> = Vec::new();
    // Depth of a complex (non-scalar) mapping key being skipped.
    let mut skipping = 0usize;
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        let pos = (span.start.line(), span.start.col() + 1);
        if skipping > 0 {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => skipping += 1,
                Event::MappingEnd | Event::SequenceEnd => skipping -= 1,
                _ => {}
            }
            continue;
        }
        let expecting_key = matches!(frames.last(), Some(Frame::Map { key: None, .. }));
        match event {
            Event::Scalar(s, ..) => {
                if expecting_key {
                    if let Some(Frame::Map { path, key }) = frames.last_mut() {
                        spans.insert(join_key(path, &s), pos);
                        *key = Some(s.into_owned());
                    }
                } else if let Some(p) = child(&mut frames) {
                    spans.entry(p).or_insert(pos);
                }
            }
            Event::Alias(_) => {
                if expecting_key {
                    if let Some(Frame::Map { key, .. }) = frames.last_mut() {
                        *key = Some("*".into());
                    }
                } else if let Some(p) = child(&mut frames) {
                    spans.entry(p).or_insert(pos);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if expecting_key {
                    skipping = 1;
                    if let Some(Frame::Map { key, .. }) = frames.last_mut() {
                        *key = Some("?".into());
                    }
                    continue;
                }
                let path = if frames.is_empty() {
                    String::new()
                } else {
                    match child(&mut frames) {
                        Some(p) => {
                            spans.entry(p.clone()).or_insert(pos);
                            p
                        }
                        None => String::new(),
                    }
                };
                frames.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                frames.pop();
            }
            Event::DocumentEnd => break,
            _ => {}
        }
    }
    spans
}

fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Something wrong with one field, before it is tied to a file and line.
#[derive(Debug, Clone)]
pub struct Problem {
    pub severity: Severity,
    pub code: &'static str,
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// Reads fields out of a mapping, recording a [`Problem`] for each field of the wrong shape and carrying on.
pub struct Reader<'a> {
    pub problems: &'a mut Vec<Problem>,
}

/// The name of a YAML value's kind, for messages.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl<'a> Reader<'a> {
    pub fn new(problems: &'a mut Vec<Problem>) -> Self {
        Reader { problems }
    }

    pub fn problem(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.problems.push(Problem {
            severity,
            code,
            path: path.to_string(),
            message,
            hint,
        });
    }

    fn wrong_type(&mut self, path: &str, expected: &str, found: &Value, hint: Option<String>) {
        self.problem(
            Severity::Error,
            "wrong-type",
            path,
            format!("expects {expected}, found {}", kind_of(found)),
            hint,
        );
    }

    /// A text field. Numbers and booleans are accepted as their text (YAML turns `version: 1.0` into a number).
    pub fn string(&mut self, map: &Mapping, key: &str, path: &str) -> Option<String> {
        match map.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                let p = join_key(path, key);
                self.wrong_type(&p, "text", other, None);
                None
            }
        }
    }

    pub fn bool(&mut self, map: &Mapping, key: &str, path: &str) -> Option<bool> {
        match map.get(key)? {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            Value::String(s) if matches!(s.as_str(), "true" | "false") => {
                let p = join_key(path, key);
                self.problem(
                    Severity::Warning,
                    "wrong-type",
                    &p,
                    format!("expects a boolean, found the string \"{s}\""),
                    Some(format!("write `{key}: {s}` without quotes")),
                );
                Some(s == "true")
            }
            other => {
                let p = join_key(path, key);
                self.wrong_type(&p, "a boolean (true or false)", other, None);
                None
            }
        }
    }

    pub fn number(&mut self, map: &Mapping, key: &str, path: &str) -> Option<f64> {
        let v = map.get(key)?;
        match v {
            Value::Null => None,
            Value::Number(n) => n.as_f64(),
            Value::String(s) => {
                let p = join_key(path, key);
                match s.trim().parse::<f64>() {
                    Ok(n) => {
                        self.problem(
                            Severity::Warning,
                            "wrong-type",
                            &p,
                            format!("expects a number, found the string \"{s}\""),
                            Some(format!("write `{key}: {s}` without quotes")),
                        );
                        Some(n)
                    }
                    Err(_) => {
                        self.wrong_type(&p, "a number", v, None);
                        None
                    }
                }
            }
            other => {
                let p = join_key(path, key);
                self.wrong_type(&p, "a number", other, None);
                None
            }
        }
    }

    pub fn integer(&mut self, map: &Mapping, key: &str, path: &str) -> Option<i64> {
        let n = self.number(map, key, path)?;
        if n.fract() != 0.0 {
            let p = join_key(path, key);
            self.problem(
                Severity::Error,
                "wrong-type",
                &p,
                format!("expects a whole number, found {n}"),
                None,
            );
            return None;
        }
        Some(n as i64)
    }

    /// A list; a single value where a list is expected is accepted as a one-item list with a warning.
    pub fn list<'v>(&mut self, map: &'v Mapping, key: &str, path: &str) -> Vec<(String, &'v Value)> {
        let p = join_key(path, key);
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{p}[{i}]"), v))
                .collect(),
            Some(other) => {
                self.wrong_type(
                    &p,
                    "a list",
                    other,
                    Some(format!("start each item of `{key}` on its own line with `- `")),
                );
                Vec::new()
            }
        }
    }

    /// A list of texts (e.g. `tags`).
    pub fn strings(&mut self, map: &Mapping, key: &str, path: &str) -> Vec<String> {
        let p = join_key(path, key);
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| match scalar_text(v) {
                    Some(s) => Some(s),
                    None => {
                        self.wrong_type(&format!("{p}[{i}]"), "text", v, None);
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.wrong_type(&p, "a list of texts", other, None);
                Vec::new()
            }
        }
    }

    /// A nested mapping.
    pub fn mapping<'v>(&mut self, map: &'v Mapping, key: &str, path: &str) -> Option<&'v Mapping> {
        match map.get(key)? {
            Value::Null => None,
            Value::Mapping(m) => Some(m),
            other => {
                let p = join_key(path, key);
                self.wrong_type(&p, "a mapping of fields", other, None);
                None
            }
        }
    }

    /// The value must be a mapping (a list item, say); records a problem and returns None otherwise.
    pub fn as_mapping<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            other => {
                self.wrong_type(path, "a mapping of fields", other, None);
                None
            }
        }
    }
}

/// The text of a scalar value (strings, numbers, booleans); None for null and collections.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Joins a parent path and a key the way every path in a [`Document`] is written.
pub fn path_of(parent: &str, key: &str) -> String {
    join_key(parent, key)
}

/// Whether the field at path `child` lies strictly inside the one at `parent` (`a.b[0]` is inside `a.b` and `a`).
pub fn is_inside(child: &str, parent: &str) -> bool {
    match child.strip_prefix(parent) {
        Some(rest) if parent.is_empty() => !rest.is_empty(),
        Some(rest) => rest.starts_with('.') || rest.starts_with('['),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
apiVersion: v3.1.0
schema:
  - name: orders
    properties:
      - name: id
        required: yes please
      - name: amount
        logicalType: number
";

    #[test]
    fn positions_of_nested_fields() {
        let doc = Document::parse(Path::new("x.yaml"), TEXT).unwrap();
        assert_eq!(doc.position("apiVersion"), Some((1, 1)));
        assert_eq!(doc.position("schema[0].name"), Some((3, 5)));
        assert_eq!(doc.position("schema[0].properties[0].required"), Some((6, 9)));
        assert_eq!(doc.position("schema[0].properties[1].logicalType"), Some((8, 9)));
        // an unknown child falls back to its parent
        assert_eq!(doc.position("schema[0].properties[1].nope"), Some((7, 9)));
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = Document::parse(Path::new("bad.yaml"), "a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert!(err.line.is_some(), "{err}");
    }

    #[test]
    fn reader_records_wrong_types_and_carries_on() {
        let doc = Document::parse(Path::new("x.yaml"), TEXT).unwrap();
        let mut problems = Vec::new();
        let mut r = Reader::new(&mut problems);
        let root = doc.value.as_mapping().unwrap();
        let schema = r.list(root, "schema", "");
        let table = r.as_mapping(schema[0].1, &schema[0].0).unwrap();
        let props = r.list(table, "properties", &schema[0].0);
        let first = r.as_mapping(props[0].1, &props[0].0).unwrap();
        assert_eq!(r.bool(first, "required", &props[0].0), None);
        assert_eq!(r.string(first, "name", &props[0].0).as_deref(), Some("id"));
        assert_eq!(problems.len(), 1);
        let d = doc.diagnostic(problems[0].clone());
        assert_eq!(d.line, Some(6));
        assert_eq!(d.field.as_deref(), Some("schema[0].properties[0].required"));
        assert!(d.message.contains("expects a boolean"), "{}", d.message);
    }
}
