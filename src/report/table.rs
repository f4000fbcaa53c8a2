//! A small table type rendered as aligned plain text, Markdown, CSV or LaTeX (a `table`
//! environment with caption and label, booktabs rules and siunitx columns: [`super::latex`]).
//! Numbers are formatted with [`sig`] (fixed significant digits), so pinned snapshots
//! do not move with the last bits of floating point.

pub use crate::digits::sig;

/// A table of strings with a header row, and what the report says about it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows (each as long as `headers`).
    pub rows: Vec<Vec<String>>,
    /// One or two sentences saying what the table shows (LaTeX caption, report index).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub caption: String,
    /// LaTeX headers (math such as `$\mu$`), one per column; empty: the escaped headers.
    #[serde(skip)]
    pub latex_headers: Vec<String>,
}

impl Table {
    /// A table with these headers and no rows.
    ///
    /// ```
    /// let mut t = flowcert::report::Table::new(&["a", "b"]);
    /// t.push(vec!["1".into(), "2".into()]);
    /// assert_eq!(t.rows.len(), 1);
    /// ```
    pub fn new(headers: &[&str]) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            ..Table::default()
        }
    }

    /// The same with a caption.
    pub fn with_caption(mut self, caption: &str) -> Self {
        self.caption = caption.into();
        self
    }

    /// The same with LaTeX headers (raw LaTeX, one per column).
    pub fn with_latex_headers(mut self, headers: &[&str]) -> Self {
        self.latex_headers = headers.iter().map(|h| h.to_string()).collect();
        self
    }

    /// Append a row.
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < w.len() {
                    w[i] = w[i].max(c.chars().count());
                }
            }
        }
        w
    }

    /// Aligned plain text (for terminals).
    ///
    /// ```
    /// let mut t = flowcert::report::Table::new(&["x", "value"]);
    /// t.push(vec!["1".into(), "2.50".into()]);
    /// assert!(t.to_text().contains("value"));
    /// ```
    pub fn to_text(&self) -> String {
        let w = self.widths();
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{:>width$}", c, width = w[i]))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let mut out = line(&self.headers);
        out.push('\n');
        out.push_str(
            &w.iter()
                .map(|&n| "-".repeat(n))
                .collect::<Vec<_>>()
                .join("  "),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    /// GitHub-flavoured Markdown.
    ///
    /// ```
    /// let t = flowcert::report::Table::new(&["a"]);
    /// assert!(t.to_markdown().starts_with("| a |"));
    /// ```
    pub fn to_markdown(&self) -> String {
        let w = self.widths();
        let line = |cells: &[String]| {
            format!(
                "| {} |",
                cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{:>width$}", c, width = w[i]))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        };
        let mut out = line(&self.headers);
        out.push('\n');
        out.push_str(&format!(
            "|{}|",
            w.iter()
                .map(|&n| format!("{}:", "-".repeat(n + 1)))
                .collect::<Vec<_>>()
                .join("|")
        ));
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    /// CSV (RFC 4180 quoting).
    ///
    /// ```
    /// let mut t = flowcert::report::Table::new(&["a", "b"]);
    /// t.push(vec!["1".into(), "x,y".into()]);
    /// assert_eq!(t.to_csv(), "a,b\n1,\"x,y\"\n");
    /// ```
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&self.headers);
        for r in &self.rows {
            let _ = w.write_record(r);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// A LaTeX `table` environment labelled `label` ([`super::latex::table`]).
    ///
    /// ```
    /// let t = flowcert::report::Table::new(&["N", "rel_mse"]).with_caption("MSE.");
    /// let s = t.to_latex("tab:mse");
    /// assert!(s.contains("\\toprule") && s.contains("rel\\_mse") && s.contains("\\label{tab:mse}"));
    /// ```
    pub fn to_latex(&self, label: &str) -> String {
        super::latex::table(self, label)
    }
}
