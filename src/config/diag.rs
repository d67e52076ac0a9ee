//! Findings about a configuration: where, which directive, what is wrong.
//!
//! Every finding prints as one line, `file:line: directive: message`, so an
//! operator can jump straight to it. Parsers push findings into a
//! [`Diagnostics`] and keep going: one pass reports every mistake.

use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the configuration still runs.
    Warning,
    /// The configuration must not run.
    Error,
}

/// One finding, tied to a file and (usually) a line and directive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the operator named it (e.g. `/etc/ha.d/ha.cf`).
    pub file: String,
    /// 1-based line; `None` for whole-file findings (missing directive).
    pub line: Option<usize>,
    /// The directive (or resource, or key index) the finding is about.
    pub directive: Option<String>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(directive) = &self.directive {
            write!(f, "{directive}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Findings collected while reading one or more files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn error(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.push(at.diagnostic(Severity::Error, message.into()));
    }

    pub fn warning(&mut self, at: &At<'_>, message: impl Into<String>) {
        self.push(at.diagnostic(Severity::Warning, message.into()));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// Where a finding is: a file, optionally a line, optionally a directive.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub file: &'a str,
    pub line: Option<usize>,
    pub directive: Option<&'a str>,
}

impl<'a> At<'a> {
    pub fn file(file: &'a str) -> Self {
        At {
            file,
            line: None,
            directive: None,
        }
    }

    pub fn line(file: &'a str, line: usize, directive: &'a str) -> Self {
        At {
            file,
            line: Some(line),
            directive: Some(directive),
        }
    }

    pub fn directive(file: &'a str, directive: &'a str) -> Self {
        At {
            file,
            line: None,
            directive: Some(directive),
        }
    }

    fn diagnostic(&self, severity: Severity, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            file: self.file.to_string(),
            line: self.line,
            directive: self.directive.map(str::to_string),
            message,
        }
    }
}
