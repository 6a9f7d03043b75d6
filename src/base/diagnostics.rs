//! Diagnostics: a user's mistake in the mesh folder, reported with file, line, field and a hint — never a panic.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is. `Error` makes the thing it is attached to unusable (a product marked failed);
/// `Warning` is worth fixing but nothing stops working; `Info` explains a decision meshbox made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One problem found while reading the mesh folder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short stable code, e.g. `yaml-syntax`, `wrong-type`, `data-read`.
    pub code: &'static str,
    /// The file, relative to the mesh root when it lies inside it.
    pub file: Option<PathBuf>,
    /// 1-based line and column in `file`.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The JSON path of the field inside the file, e.g. `schema[0].properties[2].logicalType`.
    pub field: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// Set when `message` may quote values from the data (a DuckDB conversion error, a line of a file): the message
    /// shown instead to roles that may not read that data unmasked (see governance's `disclosure`).
    #[serde(skip)]
    pub public_message: Option<String>,
    /// The standard the file was judged against when this is a lint finding (`ODCS v3.1.0`, `ODPS v1.0.0`): an
    /// error here means the file breaks the standard, and its product is `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            file: None,
            line: None,
            column: None,
            field: None,
            message: message.into(),
            hint: None,
            public_message: None,
            standard: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }

    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        if !field.is_empty() {
            self.field = Some(field);
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Marks the message as quoting data: `public` is what roles that may not read the data see instead.
    pub fn quoting_data(mut self, public: impl Into<String>) -> Self {
        self.public_message = Some(public.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Marks a lint finding: the file was judged against `standard` (e.g. `ODCS v3.1.0`).
    pub fn judged_by(mut self, standard: impl Into<String>) -> Self {
        self.standard = Some(standard.into());
        self
    }

    /// A lint error: the file breaks the standard it declares.
    pub fn breaks_standard(&self) -> bool {
        self.is_error() && self.standard.is_some()
    }

    /// `file:line:column`, as far as known; what editors and terminals turn into a link.
    pub fn location(&self) -> String {
        let mut s = match &self.file {
            Some(f) => f.display().to_string(),
            None => String::new(),
        };
        if let Some(line) = self.line {
            s.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                s.push_str(&format!(":{col}"));
            }
        }
        s
    }

    /// Rewrites an absolute `file` to be relative to `root`, so messages read the same on every machine.
    pub fn relative_to(mut self, root: &Path) -> Self {
        if let Some(f) = &self.file
            && let Ok(rel) = f.strip_prefix(root)
        {
            self.file = Some(rel.to_path_buf());
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    /// ripgrep/rustc style: `path:line:col: error: field: message` and an indented hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = self.location();
        if !loc.is_empty() {
            write!(f, "{loc}: ")?;
        }
        write!(f, "{}: ", self.severity)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Counts of diagnostics by severity.
pub fn count(diags: &[Diagnostic], severity: Severity) -> usize {
    diags.iter().filter(|d| d.severity == severity).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_like_a_compiler_message() {
        let d = Diagnostic::error("wrong-type", "expected a boolean, found a string")
            .in_file("sales/orders/orders.odcs.yaml")
            .at(12, 19)
            .field("schema[0].properties[1].required")
            .hint("write `required: true` without quotes");
        assert_eq!(
            d.to_string(),
            "sales/orders/orders.odcs.yaml:12:19: error: schema[0].properties[1].required: \
             expected a boolean, found a string\n  hint: write `required: true` without quotes"
        );
    }

    #[test]
    fn relative_to_strips_the_root() {
        let d = Diagnostic::warning("x", "m")
            .in_file("/mesh/a/b.yaml")
            .relative_to(Path::new("/mesh"));
        assert_eq!(d.file.as_deref(), Some(Path::new("a/b.yaml")));
    }
}
