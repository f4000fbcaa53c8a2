//! LaTeX output: tables as `table` environments (caption, label, booktabs rules, siunitx
//! `S` columns aligned on the decimal point, math headers, an em dash for missing values),
//! text escaping with the Greek letters and symbols of captions mapped to math, and the
//! index files `tables.tex` / `figures.tex` that `\input` every table and figure.
//! A table longer than [`MAX_FLOAT_ROWS`] rows is split into several floats (a float taller
//! than the page would be cut off), the first with the caption and label.
//!
//! A document needs `\usepackage{booktabs,siunitx,graphicx}` (graphicx shrinks wide tables
//! to the line width and includes the figures);
//! `tests/it/report.rs` compiles a report's tables and figures in a minimal document with
//! `pdflatex` (and checks only their structure when no `pdflatex` is installed).

use super::table::Table;

/// Characters of captions and labels with their LaTeX (math in `$...$`).
const SYMBOLS: [(char, &str); 34] = [
    ('Λ', r"$\Lambda$"),
    ('λ', r"$\lambda$"),
    ('μ', r"$\mu$"),
    ('ε', r"$\varepsilon$"),
    ('Φ', r"$\Phi$"),
    ('Ψ', r"$\Psi$"),
    ('θ', r"$\theta$"),
    ('σ', r"$\sigma$"),
    ('Δ', r"$\Delta$"),
    ('∇', r"$\nabla$"),
    ('∫', r"$\int$"),
    ('‖', r"$\|$"),
    ('−', r"$-$"),
    ('≤', r"$\le$"),
    ('≥', r"$\ge$"),
    ('×', r"$\times$"),
    ('∝', r"$\propto$"),
    ('∈', r"$\in$"),
    ('⌈', r"$\lceil$"),
    ('⌉', r"$\rceil$"),
    ('·', r"$\cdot$"),
    ('²', r"$^2$"),
    ('³', r"$^3$"),
    ('⁻', r"$^{-}$"),
    ('⁰', r"$^0$"),
    ('¹', r"$^1$"),
    ('⁴', r"$^4$"),
    ('⁵', r"$^5$"),
    ('⁶', r"$^6$"),
    ('⁷', r"$^7$"),
    ('⁸', r"$^8$"),
    ('⁹', r"$^9$"),
    ('—', r"\textemdash{}"),
    ('≈', r"$\approx$"),
];

/// `s` as LaTeX text: the special characters escaped, the symbols of [`SYMBOLS`] as math,
/// any other non-ASCII character dropped to `?` (so pdfLaTeX never stops on it).
///
/// ```
/// use flowcert::report::latex::escape;
/// assert_eq!(escape("rel_mse 5% & #1"), r"rel\_mse 5\% \& \#1");
/// assert_eq!(escape("Λ(t) ≤ ‖J‖"), r"$\Lambda$(t) $\le$ $\|$J$\|$");
/// assert_eq!(escape("||J|| and |x|"), r"$\|$J$\|$ and \textbar{}x\textbar{}");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // An ASCII norm `||` is the norm sign (in text mode pdfLaTeX would print dashes).
    let s = s.replace("||", "‖");
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\textbackslash{}"),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str(r"\textasciitilde{}"),
            '|' => out.push_str(r"\textbar{}"),
            '^' => out.push_str(r"\textasciicircum{}"),
            c if c.is_ascii() => out.push(c),
            c => match SYMBOLS.iter().find(|(u, _)| *u == c) {
                Some((_, tex)) => out.push_str(tex),
                None => out.push('?'),
            },
        }
    }
    out
}

fn is_missing(cell: &str) -> bool {
    matches!(cell.trim(), "" | "-" | "—")
}

/// A cell as a number for an `S` column: its text without a trailing `%` when `percent`.
fn number(cell: &str, percent: bool) -> Option<&str> {
    let c = cell.trim();
    let c = if percent { c.strip_suffix('%')? } else { c };
    let ok = c.parse::<f64>().is_ok_and(f64::is_finite)
        && c.chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, '.' | '-' | '+' | 'e' | 'E'));
    ok.then_some(c)
}

/// One column's kind.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    /// Left-aligned text.
    Text,
    /// `S[table-format=...]`; `percent`: cells end in `%` (moved to the header).
    Number { format: String, percent: bool },
}

/// `table-format` of numeric cells: sign, integer digits, decimals, exponent digits.
fn table_format(cells: &[&str]) -> String {
    let (mut sign, mut int, mut dec, mut exp, mut exp_sign) = (false, 1, 0, 0, false);
    for c in cells {
        let (mant, e) = match c.find(['e', 'E']) {
            Some(i) => (&c[..i], Some(&c[i + 1..])),
            None => (*c, None),
        };
        sign |= mant.starts_with('-');
        let mant = mant.trim_start_matches(['-', '+']);
        let (i, d) = mant.split_once('.').unwrap_or((mant, ""));
        int = int.max(i.len());
        dec = dec.max(d.len());
        if let Some(e) = e {
            exp_sign |= e.starts_with('-');
            exp = exp.max(e.trim_start_matches(['-', '+']).len());
        }
    }
    let mut f = format!("{}{int}.{dec}", if sign { "-" } else { "" });
    if exp > 0 {
        f.push_str(&format!("e{}{exp}", if exp_sign { "-" } else { "" }));
    }
    f
}

fn columns(t: &Table) -> Vec<Column> {
    (0..t.headers.len())
        .map(|j| {
            let cells: Vec<&str> = t
                .rows
                .iter()
                .filter_map(|r| r.get(j).map(String::as_str))
                .filter(|c| !is_missing(c))
                .collect();
            if cells.is_empty() {
                return Column::Text;
            }
            for percent in [false, true] {
                let nums: Vec<&str> = cells.iter().filter_map(|c| number(c, percent)).collect();
                // Numeric when most cells are numbers (the rest are set as braced text).
                if 2 * nums.len() > cells.len() {
                    return Column::Number {
                        format: table_format(&nums),
                        percent,
                    };
                }
            }
            Column::Text
        })
        .collect()
}

/// A cell such as `e^47.7` (an overflowing exponential) as math.
fn cell_text(c: &str) -> String {
    match c.strip_prefix("e^") {
        Some(e) if e.parse::<f64>().is_ok() => format!("$e^{{{e}}}$"),
        _ => escape(c),
    }
}

/// The table as a LaTeX `table` environment (module doc). Headers are
/// `t.latex_headers` where given (raw LaTeX, e.g. `$\mu$`), else the escaped header.
///
/// ```
/// let mut t = flowcert::report::Table::new(&["grid", "mu", "share"]);
/// t.push(vec!["uniform".into(), "0.0123".into(), "51.9%".into()]);
/// t.push(vec!["balanced".into(), "-".into(), "-3.2%".into()]);
/// let t = t.with_caption("Two grids.").with_latex_headers(&["grid", r"$\mu$", "share"]);
/// let tex = flowcert::report::latex::table(&t, "tab:x");
/// assert!(tex.contains(r"\begin{tabular}{l S[table-format=1.4] S[table-format=-2.1]}"));
/// assert!(tex.contains(r"{$\mu$}") && tex.contains(r"{share (\%)}"));
/// assert!(tex.contains(r"balanced & {\textemdash} & -3.2 \\"));
/// assert!(tex.contains(r"\caption{Two grids.}") && tex.contains(r"\label{tab:x}"));
/// ```
pub fn table(t: &Table, label: &str) -> String {
    let cols = columns(t);
    let spec: Vec<String> = cols
        .iter()
        .map(|c| match c {
            Column::Text => "l".to_string(),
            Column::Number { format, .. } => format!("S[table-format={format}]"),
        })
        .collect();
    let header = |j: usize| -> String {
        let h = t
            .latex_headers
            .get(j)
            .cloned()
            .unwrap_or_else(|| escape(&t.headers[j]));
        match &cols[j] {
            Column::Number { percent: true, .. } => format!(r"{{{h} (\%)}}"),
            Column::Number { .. } => format!("{{{h}}}"),
            Column::Text => h,
        }
    };
    let head = (0..t.headers.len())
        .map(header)
        .collect::<Vec<_>>()
        .join(" & ");
    let row = |r: &Vec<String>| -> String {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(j, c)| match cols.get(j) {
                Some(Column::Number { percent, .. }) => {
                    if is_missing(c) {
                        r"{\textemdash}".to_string()
                    } else if let Some(n) = number(c, *percent) {
                        n.to_string()
                    } else {
                        format!("{{{}}}", cell_text(c))
                    }
                }
                _ if is_missing(c) => r"\textemdash{}".to_string(),
                _ => cell_text(c),
            })
            .collect();
        format!("{} \\\\\n", cells.join(" & "))
    };
    // A float taller than the page is cut off: long tables are split into floats of at
    // most MAX_FLOAT_ROWS rows, the first with the caption and label, the others saying
    // which rows they continue with (the same columns and header).
    let chunks: Vec<&[Vec<String>]> = if t.rows.is_empty() {
        vec![&t.rows[..]]
    } else {
        t.rows.chunks(MAX_FLOAT_ROWS).collect()
    };
    let mut out = String::new();
    let mut first_row = 1;
    for (k, rows) in chunks.iter().enumerate() {
        out.push_str(r"\begin{table}[htbp]");
        out.push_str("\n\\centering\n");
        if t.headers.len() > 8 {
            out.push_str("\\small\n\\setlength{\\tabcolsep}{4pt}\n");
        }
        if k == 0 {
            out.push_str(&format!("\\caption{{{}}}\n", escape(&t.caption)));
            out.push_str(&format!("\\label{{{label}}}\n"));
        } else {
            out.push_str(&format!(
                "{{\\small\\itshape Continued: rows {first_row}-{} of {}.\\par}}\\smallskip\n",
                first_row + rows.len() - 1,
                t.rows.len()
            ));
        }
        // Shrunk to the line width when wider, never enlarged.
        out.push_str("\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%\n");
        out.push_str(&format!(
            "\\begin{{tabular}}{{{}}}\n\\toprule\n",
            spec.join(" ")
        ));
        out.push_str(&head);
        out.push_str(" \\\\\n\\midrule\n");
        for r in rows.iter() {
            out.push_str(&row(r));
        }
        out.push_str("\\bottomrule\n\\end{tabular}%\n}\n\\end{table}\n");
        first_row += rows.len();
    }
    out
}

/// The most rows one LaTeX table float holds (about a page of `article` at 10 pt with
/// 2 cm margins); longer tables are split ([`table`]).
///
/// ```
/// use flowcert::report::latex::{MAX_FLOAT_ROWS, table};
/// let mut t = flowcert::report::Table::new(&["grid", "mse"]).with_caption("Long.");
/// for i in 0..2 * MAX_FLOAT_ROWS + 5 {
///     t.push(vec![format!("g{i}"), "0.5".into()]);
/// }
/// let tex = table(&t, "tab:long");
/// assert_eq!(tex.matches(r"\begin{table}").count(), 3);
/// assert_eq!((tex.matches(r"\caption{").count(), tex.matches(r"\label{").count()), (1, 1));
/// assert!(tex.contains("Continued: rows 41-80 of 85.") && tex.contains("rows 81-85 of 85."));
/// assert_eq!(tex.matches(r"\toprule").count(), 3);
/// ```
pub const MAX_FLOAT_ROWS: usize = 40;

/// The preamble lines a document needs for the tables and figures.
pub const PREAMBLE: &str =
    "\\usepackage{booktabs}\n\\usepackage{siunitx}\n\\usepackage{graphicx}\n";

/// `tables.tex`: `\input` of every table file (paths relative to `\flowcertdir`, default
/// `.`: set it to the report directory before `\input`-ing this file from elsewhere).
///
/// ```
/// let s = flowcert::report::latex::tables_index(&["lipschitz_two-mode-s0.3".into()]);
/// assert!(s.contains(r"\input{\flowcertdir/lipschitz_two-mode-s0.3.tex}"));
/// ```
pub fn tables_index(stems: &[String]) -> String {
    let mut out = String::from(
        "% Every table of this flowcert report. Needs \\usepackage{booktabs,siunitx,graphicx}.\n\
         % From another directory: \\newcommand{\\flowcertdir}{path/to/report} first.\n\
         \\providecommand{\\flowcertdir}{.}\n",
    );
    for s in stems {
        out.push_str(&format!("\\input{{\\flowcertdir/{s}.tex}}\n"));
    }
    out
}

/// `figures.tex`: one `figure` environment per figure (its PDF, caption and label
/// `fig:STEM`), paths relative to `\flowcertdir` as in [`tables_index`].
///
/// ```
/// let s = flowcert::report::latex::figures_index(&[("lambda_ring8".into(), "Λ(t) on ring8.".into())]);
/// assert!(s.contains(r"\includegraphics[width=\linewidth]{{\flowcertdir/plots/lambda_ring8}.pdf}"));
/// assert!(s.contains(r"\caption{$\Lambda$(t) on ring8.}") && s.contains(r"\label{fig:lambda_ring8}"));
/// ```
pub fn figures_index(figures: &[(String, String)]) -> String {
    let mut out = String::from(
        "% Every figure of this flowcert report (needs the PDFs: --formats with pdf, and\n\
         % \\usepackage{graphicx}). From another directory: \\newcommand{\\flowcertdir}{path} first.\n\
         \\providecommand{\\flowcertdir}{.}\n",
    );
    for (stem, caption) in figures {
        out.push_str(&format!(
            "\\begin{{figure}}[htbp]\n\\centering\n\\includegraphics[width=\\linewidth]{{{{\\flowcertdir/plots/{stem}}}.pdf}}\n\\caption{{{}}}\n\\label{{fig:{stem}}}\n\\end{{figure}}\n",
            escape(caption)
        ));
    }
    out
}
