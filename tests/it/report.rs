//! The report of a `--tiny` run as a reader gets it: every figure rendered to PNG and
//! checked mechanically (tick labels, float artefacts, text inside the canvas and not
//! overlapping, legend entries = series), the LaTeX tables' structure, and (when a LaTeX
//! engine is installed) the tables and figures compiled in a minimal document.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flowcert::experiments::{CellStore, Shard};
use flowcert::report::plot::{Axis, Figure, Formats, Panel, Series, lint, style::Style};
use flowcert::suite::{Plan, Scale, Silent};

/// One tiny run, written once for every test of this module.
fn tiny_report() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("flowcert-report-tiny-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = CellStore::open(&dir).unwrap();
        let s =
            flowcert::suite::reproduce::run(&Plan::at(Scale::Tiny), &store, Shard::ALL, &Silent)
                .unwrap()
                .summary
                .unwrap();
        flowcert::report::reproduce::write(&dir, &s, &Formats::default()).unwrap();
        dir
    })
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn every_figure_of_a_tiny_run_passes_the_mechanical_checks() {
    let dir = tiny_report();
    let svgs = files(&dir.join("plots"), "svg");
    // lipschitz, stability, lambda; score-net sizes; mismatch; three distill figures;
    // lipschitz and stability on each of the five Gaussian paths (the process axis); the
    // budget sweep's reduction figure (one mixture) and its exponent figure; the oracle
    // section's relative MSE against N.
    assert_eq!(svgs.len(), 9 + 2 * 5 + 2, "{svgs:?}");
    let index = std::fs::read_to_string(dir.join("figures.md")).unwrap();
    for svg_path in &svgs {
        let stem = svg_path.file_stem().unwrap().to_string_lossy().into_owned();
        let svg = std::fs::read_to_string(svg_path).unwrap();
        let problems = lint::check(&svg).unwrap();
        assert!(problems.is_empty(), "{stem}: {problems:#?}");
        // The PNG is a real image at twice the SVG's size; the PDF is a PDF.
        let png = std::fs::read(svg_path.with_extension("png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(width >= 800, "{stem}: {width} px wide");
        let pdf = std::fs::read(svg_path.with_extension("pdf")).unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{stem}");
        // Listed with a caption in figures.md.
        let entry = index
            .split("\n## ")
            .find(|e| e.starts_with(&format!("{stem}\n")))
            .unwrap_or_else(|| panic!("{stem} is not in figures.md"));
        assert!(entry.len() > 120, "{stem}: caption too short: {entry}");
    }
}

/// The checks can fail: a figure built to break each rule is caught on every count.
#[test]
fn the_mechanical_checks_catch_a_bad_figure() {
    let fig = Figure::new(
        "bad",
        "",
        vec![Panel::new(
            Axis::linear("x"),
            Axis::linear("y"),
            vec![Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)])],
        )],
    )
    .render();
    let mut svg = fig.svg.clone();
    // Two of the y tick labels removed, one x label pushed off the canvas, an artefact,
    // and a second series without a legend entry.
    for i in 1..fig.svg.matches("id=\"ytick-0-").count() {
        let start = svg.find(&format!("<text id=\"ytick-0-{i}\"")).unwrap();
        let end = start + svg[start..].find("</text>").unwrap() + 7;
        svg.replace_range(start..end, "");
    }
    svg = svg
        .replace(r#"id="xlabel-0" x=""#, r#"id="xlabel-0" x="-40"#)
        .replace(">x</text>", ">0.30000000000000004</text>")
        .replace(
            "</svg>",
            r#"<g id="series-0-1" data-name="b"><path d="M0,0L1,1"/></g></svg>"#,
        );
    let problems = lint::check(&svg).unwrap();
    let has = |s: &str| problems.iter().any(|p| p.contains(s));
    assert!(has("the y axis has 1 tick label"), "{problems:#?}");
    assert!(has("beyond the canvas"), "{problems:#?}");
    assert!(has("float artefact"), "{problems:#?}");
    assert!(has("the legend has 1 entry for 2 series"), "{problems:#?}");
}

/// Eight series: eight colours and eight markers/dashes, no two alike; identical series are
/// drawn nested and named in the caption; points a log axis cannot show are counted there.
#[test]
fn series_are_told_apart_and_coincidences_are_said() {
    for i in 0..8 {
        for j in 0..i {
            let (a, b) = (Style::nth(i), Style::nth(j));
            assert!(a.colour != b.colour, "{i} {j}");
            assert!(a.shape != b.shape || a.dash != b.dash, "{i} {j}");
        }
    }
    let pts: Vec<(f64, f64)> = (1..6).map(|i| (i as f64, (i * i) as f64)).collect();
    let mut neg: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x, 3.0 * y)).collect();
    neg[0].1 = -1.0;
    let fig = Figure::new(
        "t",
        "Three lines.",
        vec![Panel::new(
            Axis::log("x"),
            Axis::log("y"),
            vec![
                Series::line_markers("bound", pts.clone()),
                Series::scatter("measured", pts.clone()),
                Series::line_markers("other", neg),
            ],
        )],
    )
    .render();
    assert!(
        fig.caption
            .contains("bound and measured coincide at this scale"),
        "{}",
        fig.caption
    );
    assert!(
        fig.caption.contains("other: 1 of 5 points not drawn"),
        "{}",
        fig.caption
    );
    assert!(lint::check(&fig.svg).unwrap().is_empty());
}

/// Every LaTeX table is an `\input`-ready `table` environment with caption and label,
/// booktabs rules, siunitx `S` columns for numbers, an em dash for missing values; and
/// `tables.tex` inputs every one of them.
#[test]
fn latex_tables_have_the_structure_of_a_paper_table() {
    let dir = tiny_report();
    let index = std::fs::read_to_string(dir.join("tables.tex")).unwrap();
    let tex: Vec<PathBuf> = files(dir, "tex")
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n != "tables.tex" && n != "figures.tex"
        })
        .collect();
    assert!(tex.len() >= 10, "{tex:?}");
    let mut s_columns = 0;
    for p in &tex {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let t = std::fs::read_to_string(p).unwrap();
        for needle in [
            "\\begin{table}",
            "\\caption{",
            &format!("\\label{{tab:{stem}}}"),
            "\\toprule",
            "\\midrule",
            "\\bottomrule",
            "\\end{table}",
        ] {
            assert!(t.contains(needle), "{stem}: no {needle}\n{t}");
        }
        assert!(!t.contains("\\caption{}"), "{stem}: empty caption");
        s_columns += t.matches("S[table-format=").count();
        // Missing values are em dashes, never a bare hyphen cell.
        assert!(
            !t.contains("& - &") && !t.contains("& - \\\\"),
            "{stem}\n{t}"
        );
        assert!(
            index.contains(&format!("\\input{{\\flowcertdir/{stem}.tex}}")),
            "{stem}"
        );
    }
    assert!(s_columns > 20, "numbers go in S columns ({s_columns})");
    let lip = std::fs::read_to_string(dir.join("lipschitz_two-mode-s0.3.tex")).unwrap();
    assert!(
        lip.contains("{$\\mu(t)$}") && lip.contains("{$L/\\sup$}"),
        "{lip}"
    );
    assert!(lip.contains("\\begin{tabular}{S[table-format="), "{lip}");
    assert!(
        lip.contains("\\textemdash"),
        "global bound: R is missing\n{lip}"
    );
    // Two paired seeds: no interval, said as such.
    let red = std::fs::read_to_string(dir.join("distill_reductions.tex")).unwrap();
    assert!(red.contains("n/a (2 seeds)"), "{red}");
}

/// The tables and figures compile in a minimal document. Needs `pdflatex` with booktabs
/// and siunitx (Debian: texlive-latex-base, texlive-latex-recommended, texlive-science);
/// prints a note and passes without checking when no `pdflatex` is on PATH.
#[test]
fn latex_tables_and_figures_compile_when_a_tex_engine_is_installed() {
    let found = std::process::Command::new("pdflatex")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: no pdflatex on PATH (install texlive-latex-base, -recommended, texlive-science)"
        );
        return;
    }
    // In a directory of its own (the other tests list the report's .tex files), reaching
    // the report through \flowcertdir as a paper would.
    let dir = tiny_report().join("paper");
    std::fs::create_dir_all(&dir).unwrap();
    let doc = format!(
        "\\documentclass{{article}}\n\\usepackage[margin=2cm]{{geometry}}\n{}\\newcommand{{\\flowcertdir}}{{..}}\n\\begin{{document}}\n\\input{{../tables.tex}}\n\\clearpage\n\\input{{../figures.tex}}\n\\end{{document}}\n",
        flowcert::report::latex::PREAMBLE
    );
    std::fs::write(dir.join("paper.tex"), doc).unwrap();
    let out = std::process::Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "paper.tex"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pdflatex failed:\n{log}");
    assert!(!log.contains("LaTeX Warning: Reference"), "{log}");
    assert!(dir.join("paper.pdf").exists());
}
