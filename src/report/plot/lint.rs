//! Mechanical checks of a rendered figure, on the SVG as the PNG renderer lays it out
//! (usvg with the embedded font, glyph outlines for extents):
//!
//! * every axis has at least [`super::ticks::MIN_TICKS`] tick labels;
//! * no text shows a float artefact ([`float_artefact`]) or a character the font lacks;
//! * no text extends beyond the canvas, and no two texts overlap;
//! * the legend has one entry per distinct series name.
//!
//! [`check`] returns the problems found (empty: none).

use std::collections::BTreeMap;

use super::PlotError;
use super::export::png_options;
use resvg::usvg::{self, Node, Rect};

/// Does `text` contain a number written with float noise: more than 8 significant digits
/// (`0.30000000000000004`), or a run of six 0s or 9s after a non-zero digit inside a number
/// (`9.999999e-5`, `1.0000001`)?
///
/// ```
/// use flowcert::report::plot::lint::float_artefact;
/// assert!(float_artefact("0.30000000000000004"));
/// assert!(float_artefact("9.999999999999999e-5"));
/// assert!(float_artefact("t = 0.6000000000000001"));
/// assert!(!float_artefact("0.25") && !float_artefact("10⁻⁵") && !float_artefact("1000000"));
/// assert!(!float_artefact("two-mode-s0.05: ln max ‖DΦ‖"));
/// ```
pub fn float_artefact(text: &str) -> bool {
    let mut tokens: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() || c == '.' {
            cur.push(c);
        } else if !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
    }
    tokens.push(cur);
    tokens.iter().any(|t| {
        if !t.contains('.') {
            // An integer: trailing zeros are exact (1000000); a run of 9s is not.
            return t.contains("999999");
        }
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let significant = digits.trim_start_matches('0');
        let after_lead = significant.get(1..).unwrap_or("");
        significant.trim_end_matches('0').len() > 8
            || (after_lead.contains("000000") && !after_lead.trim_end_matches('0').is_empty())
            || after_lead.contains("999999")
    })
}

struct TextBox {
    id: String,
    text: String,
    rect: Option<Rect>,
}

fn collect(group: &usvg::Group, out: &mut Vec<TextBox>) {
    for node in group.children() {
        match node {
            Node::Group(g) => collect(g, out),
            Node::Text(t) => out.push(TextBox {
                id: t.id().to_string(),
                text: t.chunks().iter().map(|c| c.text()).collect(),
                rect: {
                    let r = t.flattened().abs_bounding_box();
                    (r.width() > 0.0 || r.height() > 0.0).then_some(r)
                },
            }),
            _ => {}
        }
    }
}

fn overlap(a: &Rect, b: &Rect) -> bool {
    const SLACK: f32 = 0.5;
    a.left() < b.right() - SLACK
        && b.left() < a.right() - SLACK
        && a.top() < b.bottom() - SLACK
        && b.top() < a.bottom() - SLACK
}

/// The problems of a rendered figure (module doc); an error if the SVG cannot be read.
///
/// ```
/// use flowcert::report::plot::{Axis, Figure, Panel, Series, lint};
/// let good = Figure::new("Fine", "", vec![Panel::new(Axis::linear("x"), Axis::linear("y"),
///     vec![Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)])])]).render();
/// assert_eq!(lint::check(&good.svg).unwrap(), Vec::<String>::new());
/// // A label pushed off the canvas and an artefact are both found.
/// let bad = good.svg.replace(r#"id="xlabel-0" x=""#, r#"id="xlabel-0" x="-9"#)
///     .replace(">x</text>", ">0.30000000000000004 x</text>");
/// let problems = lint::check(&bad).unwrap();
/// assert!(problems.iter().any(|p| p.contains("beyond the canvas")), "{problems:?}");
/// assert!(problems.iter().any(|p| p.contains("artefact")), "{problems:?}");
/// ```
pub fn check(svg: &str) -> Result<Vec<String>, PlotError> {
    let tree = usvg::Tree::from_str(svg, png_options()).map_err(|e| PlotError::Parse {
        figure: "lint".into(),
        message: e.to_string(),
    })?;
    let (w, h) = (tree.size().width(), tree.size().height());
    let mut texts = Vec::new();
    collect(tree.root(), &mut texts);
    let mut problems = Vec::new();
    for t in &texts {
        if float_artefact(&t.text) {
            problems.push(format!("{}: float artefact in '{}'", t.id, t.text));
        }
        let missing = super::font::missing_glyphs(&t.text);
        if !missing.is_empty() {
            problems.push(format!(
                "{}: no glyph for {missing:?} in '{}'",
                t.id, t.text
            ));
        }
        if let Some(r) = &t.rect
            && (r.left() < -0.5 || r.top() < -0.5 || r.right() > w + 0.5 || r.bottom() > h + 0.5)
        {
            problems.push(format!(
                "{}: '{}' extends beyond the canvas ({:.1}, {:.1})-({:.1}, {:.1}) of {w} x {h}",
                t.id,
                t.text,
                r.left(),
                r.top(),
                r.right(),
                r.bottom()
            ));
        }
    }
    for (i, a) in texts.iter().enumerate() {
        for b in &texts[i + 1..] {
            if let (Some(ra), Some(rb)) = (&a.rect, &b.rect)
                && overlap(ra, rb)
            {
                problems.push(format!(
                    "{} '{}' overlaps {} '{}'",
                    a.id, a.text, b.id, b.text
                ));
            }
        }
    }
    // Tick labels per axis.
    let mut axes: BTreeMap<String, usize> = BTreeMap::new();
    for t in &texts {
        if let Some(rest) =
            t.id.strip_prefix("xtick-")
                .or_else(|| t.id.strip_prefix("ytick-"))
            && let Some((panel, _)) = rest.split_once('-')
        {
            *axes.entry(format!("{}{panel}", &t.id[..1])).or_default() += 1;
        }
    }
    let panels = texts.iter().filter(|t| t.id.starts_with("xlabel-")).count();
    for p in 0..panels {
        for axis in ["x", "y"] {
            let count = axes.get(&format!("{axis}{p}")).copied().unwrap_or(0);
            if count < super::ticks::MIN_TICKS {
                problems.push(format!(
                    "panel {p}: the {axis} axis has {} (need at least {})",
                    crate::digits::count(count, "tick label"),
                    super::ticks::MIN_TICKS
                ));
            }
        }
    }
    // Legend entries against series names.
    let doc = usvg::roxmltree::Document::parse(svg).map_err(|e| PlotError::Parse {
        figure: "lint".into(),
        message: e.to_string(),
    })?;
    let mut series: Vec<&str> = Vec::new();
    for node in doc.descendants() {
        if node
            .attribute("id")
            .is_some_and(|id| id.starts_with("series-"))
            && let Some(name) = node.attribute("data-name")
            && !series.contains(&name)
        {
            series.push(name);
        }
    }
    let legend: Vec<&str> = texts
        .iter()
        .filter(|t| t.id.starts_with("legend-"))
        .map(|t| t.text.as_str())
        .collect();
    if legend.len() != series.len() {
        problems.push(format!(
            "the legend has {} for {} series",
            crate::digits::count(legend.len(), "entry").replace("entrys", "entries"),
            series.len()
        ));
    }
    Ok(problems)
}
