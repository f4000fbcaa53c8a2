//! The plotting layer of every figure `flowcert` writes: a small figure model rendered to
//! SVG by hand, then converted in process to PNG (resvg) and PDF (svg2pdf).
//!
//! ```text
//! mod.rs     Figure, Panel, Axis, Series: what a figure shows (data, names, units, caption)
//! ticks.rs   axis ranges and ticks, labels written from exact decimals
//! style.rs   Okabe-Ito colours x markers x dashes: one distinct style per series name
//! render.rs  layout (margins from measured label widths, legend outside the axes),
//!            coincident series, error bars and bands -> SVG
//! font.rs    the embedded DejaVu Sans: label widths, and the renderers' font
//! export.rs  --formats svg,pdf,png: PNG and PDF from the SVG
//! lint.rs    mechanical checks of a rendered figure (tick labels, artefacts, extents,
//!            legend entries), used by the tests
//! ```
//!
//! Figures describe data, not drawing: a [`Series`] is a named set of points (with
//! optional 95% intervals), drawn as a line, a line with markers, or a scatter of
//! markers. Every series of a figure gets its own colour *and* marker *and* dash, the
//! same in every panel; the legend sits to the right of the axes, never over data. Series
//! that coincide on the page are drawn so each stays visible (decreasing widths and marker
//! sizes, staggered markers) and the caption says which coincide.
//!
//! ```
//! use flowcert::report::plot::{Axis, Figure, Panel, Series};
//! let fig = Figure::new(
//!     "y = x² and y = x³",
//!     "Two powers of x on log axes.",
//!     vec![Panel::new(
//!         Axis::log("x"),
//!         Axis::log("y"),
//!         vec![
//!             Series::line_markers("x²", (1..10).map(|i| (i as f64, (i * i) as f64)).collect()),
//!             Series::line_markers("x³", (1..10).map(|i| (i as f64, (i * i * i) as f64)).collect()),
//!         ],
//!     )],
//! );
//! let out = fig.render();
//! assert!(out.svg.starts_with("<svg"));
//! assert!(flowcert::report::plot::lint::check(&out.svg).unwrap().is_empty());
//! ```

use thiserror::Error;

pub mod export;
pub mod font;
pub mod lint;
mod render;
pub mod style;
pub mod ticks;

pub use export::{Format, Formats};
pub use ticks::Scale;

/// Errors of the plotting layer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The SVG could not be parsed for conversion (a bug in the layout: report it).
    #[error("cannot read the SVG of '{figure}' for conversion: {message}")]
    Parse {
        /// The figure.
        figure: String,
        /// What the parser said.
        message: String,
    },
    /// The figure has no area to render.
    #[error("cannot render '{figure}': the canvas is empty")]
    EmptyCanvas {
        /// The figure.
        figure: String,
    },
    /// The PNG encoder failed.
    #[error("cannot encode '{figure}' as PNG: {message}")]
    Png {
        /// The figure.
        figure: String,
        /// What the encoder said.
        message: String,
    },
    /// The PDF conversion failed.
    #[error("cannot convert '{figure}' to PDF: {message}")]
    Pdf {
        /// The figure.
        figure: String,
        /// What svg2pdf said.
        message: String,
    },
    /// An unknown name in `--formats`.
    #[error("--formats: unknown format '{0}': give a comma-separated list of svg, pdf, png")]
    UnknownFormat(String),
}

/// One axis: its title (with units and math names), scale, and whether its values are
/// integers (N: ticks at integers only).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The axis title, e.g. `t (OU time)` or `‖J‖`.
    pub label: String,
    /// Linear or log.
    pub scale: Scale,
    /// Ticks at integers only.
    pub integer: bool,
    /// A fixed displayed range instead of the data's.
    pub range: Option<(f64, f64)>,
}

impl Axis {
    /// A linear axis.
    pub fn linear(label: &str) -> Self {
        Axis {
            label: label.into(),
            scale: Scale::Linear,
            integer: false,
            range: None,
        }
    }

    /// A log axis.
    pub fn log(label: &str) -> Self {
        Axis {
            scale: Scale::Log,
            ..Axis::linear(label)
        }
    }

    /// Ticks at integers only.
    pub fn integer(mut self) -> Self {
        self.integer = true;
        self
    }

    /// Show exactly `[lo, hi]`.
    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A line (with a few staggered markers to tell series apart).
    Line,
    /// A line with a marker at every point.
    LineMarkers,
    /// Markers only (a scatter: the points are not a curve).
    Markers,
}

/// How the 95% intervals of a series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalStyle {
    /// Vertical bars with caps at each point.
    Bars,
    /// A shaded band between the lower and upper ends.
    Band,
}

/// One named set of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend entry (series with the same name in several panels share one entry).
    pub name: String,
    /// `(x, y)` points; non-finite ones, and non-positive ones on a log axis, are not drawn
    /// (the caption says how many).
    pub points: Vec<(f64, f64)>,
    /// Per point, the 95% interval `(low, high)` of `y` (empty: none).
    pub intervals: Vec<(f64, f64)>,
    /// How the intervals are drawn.
    pub interval_style: IntervalStyle,
    /// How the points are drawn.
    pub mark: Mark,
}

impl Series {
    fn new(name: &str, points: Vec<(f64, f64)>, mark: Mark) -> Self {
        Series {
            name: name.into(),
            points,
            intervals: Vec::new(),
            interval_style: IntervalStyle::Bars,
            mark,
        }
    }

    /// A line through the points.
    pub fn line(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series::new(name, points, Mark::Line)
    }

    /// A line with a marker at every point.
    pub fn line_markers(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series::new(name, points, Mark::LineMarkers)
    }

    /// Markers only.
    pub fn scatter(name: &str, points: Vec<(f64, f64)>) -> Self {
        Series::new(name, points, Mark::Markers)
    }

    /// Attach 95% intervals, one per point, drawn as `style`.
    pub fn with_intervals(mut self, intervals: Vec<(f64, f64)>, style: IntervalStyle) -> Self {
        self.intervals = intervals;
        self.interval_style = style;
        self
    }
}

/// One set of axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// A title above the axes (several panels), or empty.
    pub title: String,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// What is drawn, in drawing order.
    pub series: Vec<Series>,
}

impl Panel {
    /// Axes with series and no title.
    pub fn new(x: Axis, y: Axis, series: Vec<Series>) -> Self {
        Panel {
            title: String::new(),
            x,
            y,
            series,
        }
    }

    /// The same with a title above the axes.
    pub fn titled(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }
}

/// A figure: one or more panels side by side, one shared legend, a caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The title drawn above the panels.
    pub title: String,
    /// What the figure shows, in a sentence or two (the report adds what the renderer
    /// noticed: coincident series, points not drawn).
    pub caption: String,
    /// The panels, left to right.
    pub panels: Vec<Panel>,
}

impl Figure {
    /// A figure.
    pub fn new(title: &str, caption: &str, panels: Vec<Panel>) -> Self {
        Figure {
            title: title.into(),
            caption: caption.into(),
            panels,
        }
    }

    /// Lay out and draw the figure.
    pub fn render(&self) -> Rendered {
        render::render(self)
    }
}

/// A drawn figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The SVG document (the caption is in its `<desc>`).
    pub svg: String,
    /// The full caption: the figure's own, then the renderer's notes.
    pub caption: String,
    /// Canvas width in px.
    pub width: f64,
    /// Canvas height in px.
    pub height: f64,
}
