//! Series styles: the Okabe-Ito colour-blind-safe palette (8 colours), 7 marker shapes and
//! 5 dash patterns, cycled together. Series `i` gets colour `i mod 8`, marker `i mod 7` and
//! dash `i mod 5`: two series share a colour only 8 apart, and those differ in marker and
//! dash, so every series of a figure differs from every other in colour *and* marker.

/// The Okabe-Ito palette (Okabe and Ito, "Color Universal Design", 2008), ordered for
/// contrast on white (yellow last).
pub const PALETTE: [&str; 8] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
    "#F0E442", // yellow
];

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Circle.
    Circle,
    /// Square.
    Square,
    /// Triangle pointing up.
    TriangleUp,
    /// Diamond.
    Diamond,
    /// Triangle pointing down.
    TriangleDown,
    /// Plus sign (stroked).
    Plus,
    /// Cross (stroked).
    Cross,
}

/// The marker cycle.
pub const SHAPES: [Shape; 7] = [
    Shape::Circle,
    Shape::Square,
    Shape::TriangleUp,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Plus,
    Shape::Cross,
];

/// Dash patterns (SVG `stroke-dasharray`; empty = solid).
pub const DASHES: [&str; 5] = ["", "7 3.5", "2 2.5", "8 3 2 3", "13 4"];

/// The style of the `i`-th series of a figure.
///
/// ```
/// use flowcert::report::plot::style::Style;
/// let (a, b) = (Style::nth(0), Style::nth(8));
/// assert_eq!(a.colour, b.colour);
/// assert!(a.shape != b.shape && a.dash != b.dash);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Stroke and fill colour.
    pub colour: &'static str,
    /// Marker.
    pub shape: Shape,
    /// Dash pattern.
    pub dash: &'static str,
}

impl Style {
    /// The style of series number `i`.
    pub fn nth(i: usize) -> Style {
        Style {
            colour: PALETTE[i % PALETTE.len()],
            shape: SHAPES[i % SHAPES.len()],
            dash: DASHES[i % DASHES.len()],
        }
    }
}

fn f(v: f64) -> String {
    format!("{v:.2}")
}

/// SVG path data of a marker of `shape` centred at `(x, y)` with radius `r`, and whether
/// it is stroked only (plus, cross).
pub fn marker_path(shape: Shape, x: f64, y: f64, r: f64) -> (String, bool) {
    let poly = |pts: &[(f64, f64)]| {
        let mut d = String::new();
        for (i, (dx, dy)) in pts.iter().enumerate() {
            d.push_str(if i == 0 { "M" } else { "L" });
            d.push_str(&format!("{},{}", f(x + dx * r), f(y + dy * r)));
        }
        d.push('Z');
        d
    };
    match shape {
        Shape::Circle => (
            format!(
                "M{},{}a{r},{r} 0 1,0 {},0a{r},{r} 0 1,0 {},0Z",
                f(x - r),
                f(y),
                f(2.0 * r),
                f(-2.0 * r),
                r = f(r)
            ),
            false,
        ),
        Shape::Square => (
            poly(&[(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)]),
            false,
        ),
        Shape::TriangleUp => (poly(&[(0.0, -1.15), (1.0, 0.75), (-1.0, 0.75)]), false),
        Shape::TriangleDown => (poly(&[(0.0, 1.15), (1.0, -0.75), (-1.0, -0.75)]), false),
        Shape::Diamond => (
            poly(&[(0.0, -1.2), (1.0, 0.0), (0.0, 1.2), (-1.0, 0.0)]),
            false,
        ),
        Shape::Plus => (
            format!(
                "M{},{}L{},{}M{},{}L{},{}",
                f(x - 1.15 * r),
                f(y),
                f(x + 1.15 * r),
                f(y),
                f(x),
                f(y - 1.15 * r),
                f(x),
                f(y + 1.15 * r)
            ),
            true,
        ),
        Shape::Cross => (
            format!(
                "M{},{}L{},{}M{},{}L{},{}",
                f(x - r),
                f(y - r),
                f(x + r),
                f(y + r),
                f(x - r),
                f(y + r),
                f(x + r),
                f(y - r)
            ),
            true,
        ),
    }
}
