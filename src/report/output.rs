//! Writing a report directory: every table as Markdown (caption first), CSV and LaTeX;
//! every figure under `plots/` in the chosen formats; and the indexes `figures.md` (each
//! figure with its caption), `figures.tex` and `tables.tex` (`\input`-ready). Every file is
//! written atomically.

use std::path::{Path, PathBuf};

use super::ReportError;
use super::latex;
use super::plot::{Figure, Format, Formats, export};
use super::table::Table;
use crate::io::{create_dir, write_atomic};

/// What a [`ReportWriter`] wrote, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    /// Table files (`.md`, `.csv`, `.tex`).
    pub tables: Vec<PathBuf>,
    /// Figure files under `plots/`.
    pub figures: Vec<PathBuf>,
    /// `figures.md`, `figures.tex`, `tables.tex` and other documents.
    pub documents: Vec<PathBuf>,
}

/// Writes the tables and figures of one report into a directory (module doc).
///
/// ```
/// use flowcert::report::{Table, output::ReportWriter, plot::{Axis, Figure, Formats, Panel, Series}};
/// let dir = std::env::temp_dir().join(format!("flowcert-doc-writer-{}", std::process::id()));
/// let mut w = ReportWriter::new(&dir, &"svg,png".parse().unwrap()).unwrap();
/// w.table("t", &Table::new(&["a"]).with_caption("A table.")).unwrap();
/// w.figure("f", &Figure::new("F", "A figure.", vec![Panel::new(Axis::linear("x"), Axis::linear("y"),
///     vec![Series::line("s", vec![(0.0, 1.0), (1.0, 2.0)])])])).unwrap();
/// let written = w.finish().unwrap();
/// assert!(dir.join("plots/f.png").exists() && !dir.join("plots/f.pdf").exists());
/// assert!(std::fs::read_to_string(dir.join("figures.md")).unwrap().contains("A figure."));
/// assert_eq!(written.tables.len(), 3);
/// ```
#[derive(Debug)]
pub struct ReportWriter {
    dir: PathBuf,
    formats: Formats,
    tables: Vec<String>,
    figures: Vec<(String, String, String)>,
    written: Written,
}

impl ReportWriter {
    /// A writer into `dir` (created, with `dir/plots`).
    pub fn new(dir: &Path, formats: &Formats) -> Result<Self, ReportError> {
        create_dir(&dir.join("plots"))?;
        Ok(ReportWriter {
            dir: dir.to_path_buf(),
            formats: formats.clone(),
            tables: Vec::new(),
            figures: Vec::new(),
            written: Written::default(),
        })
    }

    fn put(&self, path: &Path, bytes: &[u8]) -> Result<PathBuf, ReportError> {
        write_atomic(path, bytes)?;
        Ok(path.to_path_buf())
    }

    /// Write `t` as `stem.md` (caption, then the table), `stem.csv` and `stem.tex`
    /// (label `tab:stem`).
    pub fn table(&mut self, stem: &str, t: &Table) -> Result<(), ReportError> {
        let md = if t.caption.is_empty() {
            t.to_markdown()
        } else {
            format!("{}\n\n{}", t.caption, t.to_markdown())
        };
        for (ext, text) in [
            ("md", md),
            ("csv", t.to_csv()),
            ("tex", t.to_latex(&format!("tab:{stem}"))),
        ] {
            let p = self.put(&self.dir.join(format!("{stem}.{ext}")), text.as_bytes())?;
            self.written.tables.push(p);
        }
        self.tables.push(stem.to_string());
        Ok(())
    }

    /// Render `fig` and write it as `plots/stem.EXT` in every chosen format.
    pub fn figure(&mut self, stem: &str, fig: &Figure) -> Result<(), ReportError> {
        let r = fig.render();
        // The formats are encoded in parallel (PNG and PDF are the slow ones; a report is
        // otherwise one core's work), then written in order.
        let encoded: Vec<_> = {
            use rayon::prelude::*;
            self.formats
                .list()
                .par_iter()
                .map(|&f| export::encode(&r.svg, f, stem).map(|b| (f, b)))
                .collect::<Result<_, _>>()?
        };
        for (f, bytes) in encoded {
            let p = self.put(
                &self.dir.join("plots").join(format!("{stem}.{}", f.ext())),
                &bytes,
            )?;
            self.written.figures.push(p);
        }
        self.figures
            .push((stem.to_string(), fig.title.clone(), r.caption));
        Ok(())
    }

    /// Write another document (e.g. `summary.json`).
    pub fn document(&mut self, name: &str, text: &str) -> Result<(), ReportError> {
        let p = self.put(&self.dir.join(name), text.as_bytes())?;
        self.written.documents.push(p);
        Ok(())
    }

    /// Write the indexes (`figures.md`, and `figures.tex` when PDFs were written,
    /// `tables.tex`) and return every file written.
    pub fn finish(mut self) -> Result<Written, ReportError> {
        let shown = [Format::Png, Format::Svg, Format::Pdf]
            .into_iter()
            .find(|&f| self.formats.has(f))
            .unwrap_or(Format::Svg);
        let mut md = String::from(
            "# Figures\n\nEvery figure of this report with its caption; files under `plots/`.\n",
        );
        for (stem, title, caption) in &self.figures {
            let links: Vec<String> = self
                .formats
                .list()
                .iter()
                .map(|f| format!("[{0}](plots/{stem}.{0})", f.ext()))
                .collect();
            md.push_str(&format!(
                "\n## {stem}\n\n![{title}](plots/{stem}.{})\n\n{caption}\n\n{}\n",
                shown.ext(),
                links.join(" · ")
            ));
        }
        self.document("figures.md", &md)?;
        if self.formats.has(Format::Pdf) {
            let figs: Vec<(String, String)> = self
                .figures
                .iter()
                .map(|(s, _, c)| (s.clone(), c.clone()))
                .collect();
            self.document("figures.tex", &latex::figures_index(&figs))?;
        }
        let tables = latex::tables_index(&self.tables);
        self.document("tables.tex", &tables)?;
        Ok(self.written)
    }
}
