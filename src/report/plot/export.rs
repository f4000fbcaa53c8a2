//! Output formats of a figure: the SVG itself, a vector PDF for LaTeX, and a PNG at twice
//! the SVG's pixel size for slides and READMEs. Both conversions run in process and load
//! only the embedded font ([`super::font`]), never the system's:
//!
//! ```text
//! PNG   SVG --usvg 0.49 (text laid out in the embedded font)--> tree --resvg--> pixels
//! PDF   SVG --usvg 0.49--> tree --written back as SVG, text as glyph outlines-->
//!           svg2pdf 0.13 (its own usvg 0.45, no text stack needed) --> vector PDF
//! ```
//! So the PDF's text is vector outlines in the same font as the PNG (exact on every
//! viewer and printer, though not selectable as text), and svg2pdf's font-subsetting
//! stack is not compiled.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use super::PlotError;
use super::font::{DEJAVU_SANS, FAMILY};

/// One output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The SVG document.
    Svg,
    /// Vector PDF.
    Pdf,
    /// PNG raster.
    Png,
}

impl Format {
    /// The file extension (and command-line name).
    pub fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Pdf => "pdf",
            Format::Png => "png",
        }
    }
}

/// The formats every figure is written in (`--formats svg,pdf,png`; default all three).
///
/// ```
/// use flowcert::report::plot::{Format, Formats};
/// let f: Formats = "png, svg".parse().unwrap();
/// assert!(f.has(Format::Png) && f.has(Format::Svg) && !f.has(Format::Pdf));
/// assert_eq!(Formats::default().to_string(), "svg,pdf,png");
/// assert!("svg,jpeg".parse::<Formats>().unwrap_err().to_string().contains("jpeg"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formats(Vec<Format>);

impl Formats {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Svg, Format::Pdf, Format::Png];

    /// Is `f` among them?
    pub fn has(&self, f: Format) -> bool {
        self.0.contains(&f)
    }

    /// The formats, in the order given.
    pub fn list(&self) -> &[Format] {
        &self.0
    }
}

impl Default for Formats {
    fn default() -> Self {
        Formats(Self::ALL.to_vec())
    }
}

impl fmt::Display for Formats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|x| x.ext()).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Formats {
    type Err = PlotError;
    fn from_str(s: &str) -> Result<Self, PlotError> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f = Self::ALL
                .into_iter()
                .find(|f| f.ext().eq_ignore_ascii_case(part))
                .ok_or_else(|| PlotError::UnknownFormat(part.to_string()))?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty() {
            return Err(PlotError::UnknownFormat(s.to_string()));
        }
        Ok(Formats(out))
    }
}

/// usvg (resvg's) options with the embedded font as the only font.
pub(crate) fn png_options() -> &'static resvg::usvg::Options<'static> {
    static OPT: OnceLock<resvg::usvg::Options<'static>> = OnceLock::new();
    OPT.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(DEJAVU_SANS.to_vec());
        db.set_sans_serif_family(FAMILY);
        resvg::usvg::Options {
            font_family: FAMILY.into(),
            fontdb: Arc::new(db),
            ..Default::default()
        }
    })
}

/// The PNG of an SVG at `scale` times its pixel size. `figure` names it in errors.
///
/// ```
/// use flowcert::report::plot::{Axis, Figure, Panel, Series, export::to_png};
/// let fig = Figure::new("t", "c", vec![Panel::new(Axis::linear("x"), Axis::linear("y"),
///     vec![Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)])])]);
/// let png = to_png(&fig.render().svg, 1.0, "t").unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn to_png(svg: &str, scale: f32, figure: &str) -> Result<Vec<u8>, PlotError> {
    use resvg::tiny_skia::{Pixmap, Transform};
    let tree = resvg::usvg::Tree::from_str(svg, png_options()).map_err(|e| PlotError::Parse {
        figure: figure.into(),
        message: e.to_string(),
    })?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap = Pixmap::new(w, h).ok_or_else(|| PlotError::EmptyCanvas {
        figure: figure.into(),
    })?;
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| PlotError::Png {
        figure: figure.into(),
        message: e.to_string(),
    })
}

/// The vector PDF of an SVG (one page of the SVG's size, text as outlines: module doc).
///
/// ```
/// use flowcert::report::plot::{Axis, Figure, Panel, Series, export::to_pdf};
/// let fig = Figure::new("t", "c", vec![Panel::new(Axis::linear("x"), Axis::linear("y"),
///     vec![Series::line("a", vec![(0.0, 0.0), (1.0, 1.0)])])]);
/// let pdf = to_pdf(&fig.render().svg, "t").unwrap();
/// assert!(pdf.starts_with(b"%PDF"));
/// ```
pub fn to_pdf(svg: &str, figure: &str) -> Result<Vec<u8>, PlotError> {
    let parse_error = |message: String| PlotError::Parse {
        figure: figure.into(),
        message,
    };
    let laid_out =
        resvg::usvg::Tree::from_str(svg, png_options()).map_err(|e| parse_error(e.to_string()))?;
    let outlined = laid_out.to_string(&resvg::usvg::WriteOptions::default());
    let tree = svg2pdf::usvg::Tree::from_str(&outlined, &svg2pdf::usvg::Options::default())
        .map_err(|e| parse_error(e.to_string()))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| PlotError::Pdf {
        figure: figure.into(),
        message: e.to_string(),
    })
}

/// The bytes of `svg` in format `f`.
pub fn encode(svg: &str, f: Format, figure: &str) -> Result<Vec<u8>, PlotError> {
    match f {
        Format::Svg => Ok(svg.as_bytes().to_vec()),
        Format::Pdf => to_pdf(svg, figure),
        Format::Png => to_png(svg, 2.0, figure),
    }
}
