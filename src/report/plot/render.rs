//! Layout and SVG drawing of a [`Figure`].
//!
//! Margins are computed from the measured widths of the labels (font.rs), so no text is
//! clipped; the legend sits to the right of the last panel; series that coincide on the
//! page (every shared point within [`COINCIDE_PX`]) are drawn widest first with nested
//! rings as markers, and the caption names them. Text elements carry ids that
//! lint.rs reads: `title`, `panel-title-P`, `xlabel-P`, `ylabel-P`, `xtick-P-I`,
//! `ytick-P-I`, `legend-I`; each series is a group `series-P-I` with `data-name`.

use std::fmt::Write;

use super::font::{FAMILY, cap_height, descent, text_width};
use super::style::{Style, marker_path};
use super::ticks::{self, Scale, Tick};
use super::{Axis, Figure, IntervalStyle, Mark, Panel, Rendered};

const TICK_FONT: f64 = 12.0;
const LABEL_FONT: f64 = 13.0;
const TITLE_FONT: f64 = 14.5;
const LEGEND_FONT: f64 = 12.0;
const TICK_LEN: f64 = 5.0;
const MARGIN: f64 = 14.0;
const GAP: f64 = 5.0;
/// Two series closer than this everywhere they share an x are drawn as coincident.
pub const COINCIDE_PX: f64 = 1.5;
const LEGEND_ROW: f64 = 20.0;
const LEGEND_SAMPLE: f64 = 34.0;

fn n(v: f64) -> String {
    format!("{v:.2}")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One axis after layout: range, ticks and the map to pixels.
struct Placed {
    lo: f64,
    hi: f64,
    scale: Scale,
    ticks: Vec<Tick>,
    /// Pixel of `lo` and of `hi`.
    p0: f64,
    p1: f64,
}

impl Placed {
    fn frac(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => (v - self.lo) / (self.hi - self.lo),
            Scale::Log => (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10()),
        }
    }

    fn px(&self, v: f64) -> f64 {
        self.p0 + self.frac(v) * (self.p1 - self.p0)
    }
}

fn drawable(v: f64, scale: Scale) -> bool {
    v.is_finite() && (scale == Scale::Linear || v > 0.0)
}

/// The drawable points of one series (and their intervals), with the count left out.
struct Clean {
    points: Vec<(f64, f64)>,
    intervals: Vec<Option<(f64, f64)>>,
    dropped: usize,
}

fn clean(panel: &Panel) -> Vec<Clean> {
    panel
        .series
        .iter()
        .map(|s| {
            let mut out = Clean {
                points: Vec::new(),
                intervals: Vec::new(),
                dropped: 0,
            };
            for (i, &(x, y)) in s.points.iter().enumerate() {
                if drawable(x, panel.x.scale) && drawable(y, panel.y.scale) {
                    out.points.push((x, y));
                    out.intervals.push(
                        s.intervals
                            .get(i)
                            .copied()
                            .filter(|&(a, b)| a.is_finite() && b.is_finite() && a <= b),
                    );
                } else {
                    out.dropped += 1;
                }
            }
            out
        })
        .collect()
}

fn data_range(vals: impl Iterator<Item = f64>, scale: Scale) -> Option<(f64, f64)> {
    let (lo, hi) = vals
        .filter(|&v| drawable(v, scale))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    (lo <= hi).then_some((lo, hi))
}

fn place(axis: &Axis, vals: Vec<f64>, p0: f64, p1: f64, horizontal: bool) -> Placed {
    let (lo, hi) = match axis.range {
        Some(r) => r,
        None => match data_range(vals.into_iter(), axis.scale) {
            Some((a, b)) => {
                let (a, b) = ticks::range(a, b, axis.scale);
                if axis.integer && axis.scale == Scale::Linear {
                    (a.min(b - 1.0), b)
                } else {
                    (a, b)
                }
            }
            None => ticks::range(f64::NAN, f64::NAN, axis.scale),
        },
    };
    // An integer axis over few values (N in {1, 2}) is extended upwards until it holds
    // MIN_TICKS integers.
    let mut hi = hi;
    if axis.integer && axis.range.is_none() {
        for _ in 0..6 {
            let t = ticks::ticks(lo, hi, axis.scale, true, &|_| true);
            if t.len() >= ticks::MIN_TICKS && t.iter().all(|t| t.value.fract() == 0.0) {
                break;
            }
            hi = match axis.scale {
                Scale::Log => hi * 2.0,
                Scale::Linear => hi + 1.0,
            };
        }
    }
    let mut placed = Placed {
        lo,
        hi,
        scale: axis.scale,
        ticks: Vec::new(),
        p0,
        p1,
    };
    let fit = |t: &[Tick]| {
        let pos: Vec<f64> = t.iter().map(|t| placed.px(t.value)).collect();
        t.windows(2).zip(pos.windows(2)).all(|(w, p)| {
            let room = (p[1] - p[0]).abs();
            if horizontal {
                room >= 0.5
                    * (text_width(&w[0].label, TICK_FONT) + text_width(&w[1].label, TICK_FONT))
                    + 10.0
            } else {
                room >= 1.6 * TICK_FONT
            }
        })
    };
    let t = ticks::ticks(lo, hi, axis.scale, axis.integer, &fit);
    placed.ticks = t;
    placed
}

/// The SVG dash attribute of a style (empty for a solid line).
fn dash_attr(st: &Style) -> String {
    if st.dash.is_empty() {
        String::new()
    } else {
        format!(r#" stroke-dasharray="{}""#, st.dash)
    }
}

/// Union-find groups of series (indices) that coincide on the page. Two series coincide
/// when they are within [`COINCIDE_PX`] wherever they share an x (at least two shared
/// points); two scatters (`scatter[i]`: markers only, often several points per x) only when
/// every point of each has a point of the other on top of it, so that scatters sharing a
/// few points (every grid's `N = 1` cell) are not said to coincide.
fn coincident(points: &[Vec<(f64, f64)>], scatter: &[bool]) -> Vec<Vec<usize>> {
    let k = points.len();
    let mut parent: Vec<usize> = (0..k).collect();
    fn root(p: &[usize], i: usize) -> usize {
        let mut i = i;
        while p[i] != i {
            i = p[i];
        }
        i
    }
    // The distance in y to the nearest point of `b` at the x of `(xa, ya)` (None: no such x).
    let nearest = |b: &[(f64, f64)], (xa, ya): (f64, f64)| {
        b.iter()
            .filter(|(xb, _)| (xa - xb).abs() <= 0.5)
            .map(|(_, yb)| (ya - yb).abs())
            .min_by(f64::total_cmp)
    };
    let covers = |a: &[(f64, f64)], b: &[(f64, f64)]| {
        a.iter()
            .all(|&p| nearest(b, p).is_some_and(|dy| dy <= COINCIDE_PX))
    };
    for a in 0..k {
        for b in a + 1..k {
            let together = if scatter[a] && scatter[b] {
                points[a].len() >= 2
                    && points[b].len() >= 2
                    && covers(&points[a], &points[b])
                    && covers(&points[b], &points[a])
            } else {
                let mut shared = 0;
                let mut apart = false;
                for &p in &points[a] {
                    if let Some(dy) = nearest(&points[b], p) {
                        shared += 1;
                        if dy > COINCIDE_PX {
                            apart = true;
                            break;
                        }
                    }
                }
                shared >= 2 && !apart
            };
            if together {
                let (ra, rb) = (root(&parent, a), root(&parent, b));
                parent[rb] = ra;
            }
        }
    }
    let roots: Vec<usize> = (0..k).map(|i| root(&parent, i)).collect();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..k {
        match groups.iter_mut().find(|g| roots[g[0]] == roots[i]) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups.into_iter().filter(|g| g.len() > 1).collect()
}

fn list(names: &[&str]) -> String {
    // Names with commas ("L(t), two-sided bound") are separated by semicolons, so that
    // the list still reads as a list.
    let (sep, last) = if names.iter().any(|n| n.contains(',')) {
        ("; ", "; and ")
    } else {
        (", ", " and ")
    };
    match names {
        [] => String::new(),
        [a] => (*a).to_string(),
        _ => format!(
            "{}{last}{}",
            names[..names.len() - 1].join(sep),
            names[names.len() - 1]
        ),
    }
}

struct Layout {
    x: Placed,
    y: Placed,
    clean: Vec<Clean>,
    left: f64,
    /// The plotting area's top and bottom edges (px) in this panel's row.
    top: f64,
    bottom: f64,
}

/// Panels per row: a figure with more panels wraps into rows (six mixtures make two rows of
/// three, about 1,100 px wide, instead of one row of 2,500; four panels make two rows of two).
pub const MAX_COLUMNS: usize = 3;

/// The number of panels per row for `n` panels.
fn columns(n: usize) -> usize {
    if n == 4 { 2 } else { n.clamp(1, MAX_COLUMNS) }
}

/// Draw `fig` (module doc).
pub fn render(fig: &Figure) -> Rendered {
    let many = fig.panels.len() > 1;
    let (pw, ph) = if many { (300.0, 250.0) } else { (470.0, 320.0) };
    // Styles by name, in order of first appearance.
    let mut names: Vec<&str> = Vec::new();
    for p in &fig.panels {
        for s in &p.series {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
    }
    let style_of = |name: &str| Style::nth(names.iter().position(|n| *n == name).unwrap_or(0));
    let title_h = if fig.title.is_empty() {
        0.0
    } else {
        TITLE_FONT * 1.6
    };
    let ptitle_h = if fig.panels.iter().any(|p| !p.title.is_empty()) {
        LABEL_FONT * 1.5
    } else {
        0.0
    };
    let top = MARGIN + title_h + ptitle_h + 4.0;
    // From a row's plotting-area top to the baseline of its x-axis title.
    let x_label_drop = ph + TICK_LEN + GAP + cap_height(TICK_FONT) + 10.0 + cap_height(LABEL_FONT);
    let row_pitch = x_label_drop + descent(LABEL_FONT) + ptitle_h + 18.0;
    // Panels left to right, wrapping after `columns` (at most MAX_COLUMNS).
    let mut cursor = MARGIN;
    let mut widest = MARGIN;
    let mut layouts = Vec::new();
    let cols = columns(fig.panels.len());
    for (i, p) in fig.panels.iter().enumerate() {
        if i > 0 && i % cols == 0 {
            cursor = MARGIN;
        }
        let top = top + (i / cols) as f64 * row_pitch;
        let bottom = top + ph;
        let clean = clean(p);
        let xs = clean
            .iter()
            .flat_map(|c| c.points.iter().map(|q| q.0))
            .collect();
        let ys = clean
            .iter()
            .flat_map(|c| {
                c.points
                    .iter()
                    .map(|q| q.1)
                    .chain(c.intervals.iter().flatten().flat_map(|&(a, b)| [a, b]))
            })
            .collect();
        let y = place(&p.y, ys, bottom, top, false);
        let ytick_w = y
            .ticks
            .iter()
            .map(|t| text_width(&t.label, TICK_FONT))
            .fold(0.0, f64::max);
        let ylabel_w = if p.y.label.is_empty() {
            0.0
        } else {
            LABEL_FONT * 1.3 + GAP
        };
        let mut left = cursor + ylabel_w + ytick_w + GAP + TICK_LEN;
        // x ticks are placed relative to the panel's left edge, then shifted.
        let x = place(&p.x, xs, 0.0, pw, true);
        let first_half = x
            .ticks
            .first()
            .map(|t| 0.5 * text_width(&t.label, TICK_FONT) - x.px(t.value))
            .unwrap_or(0.0);
        left = left.max(cursor + first_half);
        let x = Placed {
            p0: left,
            p1: left + pw,
            ..x
        };
        let last_over = x
            .ticks
            .last()
            .map(|t| (x.px(t.value) + 0.5 * text_width(&t.label, TICK_FONT) - (left + pw)).max(0.0))
            .unwrap_or(0.0);
        let title_over = (text_width(&p.title, LABEL_FONT) - pw).max(0.0);
        cursor = left + pw + last_over.max(title_over) + 24.0;
        widest = widest.max(cursor);
        layouts.push(Layout {
            x,
            y,
            clean,
            left,
            top,
            bottom,
        });
    }
    // Legend to the right of the widest row, level with the first.
    let legend_x = widest - 8.0;
    let legend_w = LEGEND_SAMPLE
        + 8.0
        + names
            .iter()
            .map(|n| text_width(n, LEGEND_FONT))
            .fold(0.0, f64::max)
        + 16.0;
    let legend_h = LEGEND_ROW * names.len() as f64 + 10.0;
    let width = (legend_x + legend_w + MARGIN)
        .max(2.0 * MARGIN + text_width(&fig.title, TITLE_FONT))
        .ceil();
    let last_top = layouts.last().map_or(top, |l| l.top);
    let height = (last_top + x_label_drop + descent(LABEL_FONT) + MARGIN)
        .max(top + legend_h + MARGIN)
        .ceil();

    let mut notes: Vec<String> = Vec::new();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FAMILY}, sans-serif">
<title>{title}</title>
<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>
"#,
        w = width,
        h = height,
        title = esc(&fig.title),
    );
    if !fig.title.is_empty() {
        let _ = writeln!(
            svg,
            r#"<text id="title" x="{}" y="{}" font-size="{TITLE_FONT}" font-weight="normal">{}</text>"#,
            n(MARGIN),
            n(MARGIN + cap_height(TITLE_FONT)),
            esc(&fig.title)
        );
    }
    for (pi, (p, lay)) in fig.panels.iter().zip(&layouts).enumerate() {
        let (x, y) = (&lay.x, &lay.y);
        let (top, bottom) = (lay.top, lay.bottom);
        let x_label_base = top + x_label_drop;
        let _ = writeln!(svg, r#"<g id="panel-{pi}">"#);
        if !p.title.is_empty() {
            let _ = writeln!(
                svg,
                r#"<text id="panel-title-{pi}" x="{}" y="{}" font-size="{LABEL_FONT}" text-anchor="middle">{}</text>"#,
                n(lay.left + 0.5 * pw),
                n(top - 8.0),
                esc(&p.title)
            );
        }
        // Light grid at the major ticks only, then the frame.
        for t in &x.ticks {
            let px = x.px(t.value);
            let _ = writeln!(
                svg,
                r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#e4e4e4" stroke-width="0.8"/>"##,
                n(px),
                n(top),
                n(bottom)
            );
        }
        for t in &y.ticks {
            let py = y.px(t.value);
            let _ = writeln!(
                svg,
                r##"<line x1="{1}" y1="{0}" x2="{2}" y2="{0}" stroke="#e4e4e4" stroke-width="0.8"/>"##,
                n(py),
                n(lay.left),
                n(lay.left + pw)
            );
        }
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="black" stroke-width="1"/>"#,
            n(lay.left),
            n(top),
            n(pw),
            n(ph)
        );
        for (i, t) in x.ticks.iter().enumerate() {
            let px = x.px(t.value);
            let _ = writeln!(
                svg,
                r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="black" stroke-width="1"/><text id="xtick-{pi}-{i}" x="{0}" y="{3}" font-size="{TICK_FONT}" text-anchor="middle">{4}</text>"#,
                n(px),
                n(bottom),
                n(bottom + TICK_LEN),
                n(bottom + TICK_LEN + GAP + cap_height(TICK_FONT)),
                esc(&t.label)
            );
        }
        for (i, t) in y.ticks.iter().enumerate() {
            let py = y.px(t.value);
            let _ = writeln!(
                svg,
                r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="black" stroke-width="1"/><text id="ytick-{pi}-{i}" x="{3}" y="{4}" font-size="{TICK_FONT}" text-anchor="end">{5}</text>"#,
                n(lay.left),
                n(py),
                n(lay.left - TICK_LEN),
                n(lay.left - TICK_LEN - GAP),
                n(py + 0.5 * cap_height(TICK_FONT)),
                esc(&t.label)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text id="xlabel-{pi}" x="{}" y="{}" font-size="{LABEL_FONT}" text-anchor="middle">{}</text>"#,
            n(lay.left + 0.5 * pw),
            n(x_label_base),
            esc(&p.x.label)
        );
        let ytick_w = y
            .ticks
            .iter()
            .map(|t| text_width(&t.label, TICK_FONT))
            .fold(0.0, f64::max);
        let yl_x = lay.left - TICK_LEN - GAP - ytick_w - GAP - descent(LABEL_FONT) - 2.0;
        let yl_y = 0.5 * (top + bottom);
        let _ = writeln!(
            svg,
            r#"<text id="ylabel-{pi}" x="{0}" y="{1}" font-size="{LABEL_FONT}" text-anchor="middle" transform="rotate(-90 {0} {1})">{2}</text>"#,
            n(yl_x),
            n(yl_y),
            esc(&p.y.label)
        );
        // Series, clipped to the axes.
        let _ = writeln!(
            svg,
            r#"<clipPath id="clip-{pi}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath><g clip-path="url(#clip-{pi})">"#,
            n(lay.left),
            n(top),
            n(pw),
            n(ph)
        );
        let pix: Vec<Vec<(f64, f64)>> = lay
            .clean
            .iter()
            .map(|c| c.points.iter().map(|&(a, b)| (x.px(a), y.px(b))).collect())
            .collect();
        let scatter: Vec<bool> = p.series.iter().map(|s| s.mark == Mark::Markers).collect();
        let groups = coincident(&pix, &scatter);
        for g in &groups {
            let names: Vec<&str> = g.iter().map(|&i| p.series[i].name.as_str()).collect();
            let where_ = if many && !p.title.is_empty() {
                format!("In panel {}, ", p.title)
            } else {
                String::new()
            };
            let how = if g.iter().all(|&i| p.series[i].mark == Mark::Markers) {
                "as nested markers of decreasing size"
            } else {
                "as lines of decreasing width with nested markers"
            };
            notes.push(format!(
                "{where_}{} coincide at this scale; they are drawn on top of one another {how}.",
                list(&names)
            ));
        }
        let with_intervals: Vec<usize> = (0..p.series.len())
            .filter(|&i| lay.clean[i].intervals.iter().any(Option::is_some))
            .collect();
        for (si, s) in p.series.iter().enumerate() {
            let c = &lay.clean[si];
            if c.dropped > 0 {
                let why = if p.x.scale == Scale::Log || p.y.scale == Scale::Log {
                    "non-positive or undefined values are not drawn on a log axis"
                } else {
                    "undefined values are not drawn"
                };
                notes.push(format!(
                    "{}: {} of {} points not drawn ({why}).",
                    s.name,
                    c.dropped,
                    s.points.len()
                ));
            }
            let st = style_of(&s.name);
            // Place in a coincident group: 0 = drawn first (widest).
            let (rank, size) = groups
                .iter()
                .find(|g| g.contains(&si))
                .map(|g| (g.iter().position(|&i| i == si).unwrap_or(0), g.len()))
                .unwrap_or((0, 1));
            let extra = (size - 1 - rank) as f64;
            let line_w = 1.8 + 1.5 * extra;
            let r = 3.6 + 1.8 * extra;
            let ring = rank + 1 < size;
            let dodge = with_intervals
                .iter()
                .position(|&i| i == si)
                .map(|k| (k as f64 - 0.5 * (with_intervals.len() as f64 - 1.0)) * 4.0)
                .unwrap_or(0.0);
            let _ = writeln!(
                svg,
                r#"<g id="series-{pi}-{si}" data-name="{}">"#,
                esc(&s.name)
            );
            let pts = &pix[si];
            // Intervals.
            let ivs: Vec<(f64, f64, f64)> = c
                .points
                .iter()
                .zip(&c.intervals)
                .filter_map(|(&(px_, _), iv)| {
                    let (a, b) = (*iv)?;
                    let clamp = |v: f64| {
                        if drawable(v, p.y.scale) {
                            y.px(v).clamp(top - 2.0, bottom + 2.0)
                        } else {
                            bottom + 2.0
                        }
                    };
                    Some((x.px(px_) + dodge, clamp(a), clamp(b)))
                })
                .collect();
            match s.interval_style {
                IntervalStyle::Bars => {
                    for &(bx, a, b) in &ivs {
                        let _ = writeln!(
                            svg,
                            r#"<path d="M{0},{1}L{0},{2}M{3},{1}L{4},{1}M{3},{2}L{4},{2}" stroke="{5}" stroke-width="1.3" fill="none"/>"#,
                            n(bx),
                            n(a),
                            n(b),
                            n(bx - 4.0),
                            n(bx + 4.0),
                            st.colour
                        );
                    }
                }
                IntervalStyle::Band if ivs.len() >= 2 => {
                    let mut d = String::new();
                    for (k, &(bx, _, b)) in ivs.iter().enumerate() {
                        let _ = write!(d, "{}{},{}", if k == 0 { "M" } else { "L" }, n(bx), n(b));
                    }
                    for &(bx, a, _) in ivs.iter().rev() {
                        let _ = write!(d, "L{},{}", n(bx), n(a));
                    }
                    let _ = writeln!(
                        svg,
                        r#"<path d="{d}Z" fill="{}" fill-opacity="0.18" stroke="none"/>"#,
                        st.colour
                    );
                }
                IntervalStyle::Band => {}
            }
            if s.mark != Mark::Markers && pts.len() >= 2 {
                let mut d = String::new();
                for (k, &(a, b)) in pts.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{},{}",
                        if k == 0 { "M" } else { "L" },
                        n(a + dodge),
                        n(b)
                    );
                }
                let dash = dash_attr(&st);
                let _ = writeln!(
                    svg,
                    r#"<path d="{d}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round"{dash}/>"#,
                    st.colour,
                    n(line_w)
                );
            }
            // Markers: every point, or (dense lines) a few staggered ones.
            let idx: Vec<usize> = if s.mark == Mark::Line && pts.len() > 12 {
                let k = 6usize;
                let phase =
                    (names.iter().position(|n| *n == s.name).unwrap_or(0) as f64 * 0.37).fract();
                (0..k)
                    .map(|j| {
                        (((j as f64 + phase) / k as f64) * (pts.len() - 1) as f64).round() as usize
                    })
                    .collect()
            } else {
                (0..pts.len()).collect()
            };
            let scatter = s.mark == Mark::Markers;
            for &k in &idx {
                let (a, b) = pts[k];
                let rr = if scatter && size == 1 { 3.0 } else { r };
                let (d, stroked) = marker_path(st.shape, a + dodge, b, rr);
                let fill = if stroked {
                    "none".to_string()
                } else if ring {
                    "white".to_string()
                } else {
                    st.colour.to_string()
                };
                let opacity = if scatter && !ring {
                    r#" fill-opacity="0.7""#
                } else {
                    ""
                };
                let _ = writeln!(
                    svg,
                    r#"<path d="{d}" fill="{fill}"{opacity} stroke="{}" stroke-width="{}"/>"#,
                    st.colour,
                    if stroked || ring { "1.6" } else { "0.8" }
                );
            }
            let _ = writeln!(svg, "</g>");
        }
        let _ = writeln!(svg, "</g>\n</g>");
    }
    // The legend.
    let _ = writeln!(
        svg,
        r##"<g id="legend"><rect x="{}" y="{}" width="{}" height="{}" fill="white" stroke="#bdbdbd" stroke-width="0.8"/>"##,
        n(legend_x),
        n(top),
        n(legend_w),
        n(legend_h)
    );
    for (i, name) in names.iter().enumerate() {
        let st = Style::nth(i);
        let cy = top + 5.0 + LEGEND_ROW * (i as f64 + 0.5);
        let x0 = legend_x + 8.0;
        let mark = fig
            .panels
            .iter()
            .flat_map(|p| &p.series)
            .find(|s| s.name == *name)
            .map_or(Mark::Line, |s| s.mark);
        if mark != Mark::Markers {
            let dash = dash_attr(&st);
            let _ = writeln!(
                svg,
                r#"<path d="M{},{}L{},{}" stroke="{}" stroke-width="1.8"{dash}/>"#,
                n(x0),
                n(cy),
                n(x0 + LEGEND_SAMPLE),
                n(cy),
                st.colour
            );
        }
        let (d, stroked) = marker_path(st.shape, x0 + 0.5 * LEGEND_SAMPLE, cy, 3.6);
        let _ = writeln!(
            svg,
            r#"<path d="{d}" fill="{}" stroke="{}" stroke-width="{}"/>"#,
            if stroked { "none" } else { st.colour },
            st.colour,
            if stroked { "1.6" } else { "0.8" }
        );
        let _ = writeln!(
            svg,
            r#"<text id="legend-{i}" x="{}" y="{}" font-size="{LEGEND_FONT}">{}</text>"#,
            n(x0 + LEGEND_SAMPLE + 8.0),
            n(cy + 0.5 * cap_height(LEGEND_FONT)),
            esc(name)
        );
    }
    let _ = writeln!(svg, "</g>");
    let mut caption = fig.caption.trim().to_string();
    for note in &notes {
        caption.push(' ');
        caption.push_str(note);
    }
    let _ = writeln!(svg, "<desc>{}</desc>\n</svg>", esc(&caption));
    Rendered {
        svg,
        caption,
        width,
        height,
    }
}
