//! The one font of every figure: DejaVu Sans 2.37, embedded in the binary
//! (`assets/fonts/DejaVuSans.ttf`, Bitstream Vera licence with public-domain DejaVu
//! changes: `assets/fonts/LICENSE-DejaVu.txt`). It has the Greek letters, norms,
//! superscripts and minus sign the axis titles use, and needs no system font library:
//! the layout measures labels with its advance widths, and the PNG and PDF renderers load
//! it into their font databases.

use std::sync::OnceLock;

/// The family name written into the SVG (`font-family`).
pub const FAMILY: &str = "DejaVu Sans";

/// The font file.
pub static DEJAVU_SANS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/fonts/DejaVuSans.ttf"
));

fn face() -> Option<&'static ttf_parser::Face<'static>> {
    static FACE: OnceLock<Option<ttf_parser::Face<'static>>> = OnceLock::new();
    FACE.get_or_init(|| ttf_parser::Face::parse(DEJAVU_SANS, 0).ok())
        .as_ref()
}

/// Advance width of `text` at `size` px (sum of the glyph advances, no kerning; 0.6 em per
/// character if the font could not be read).
///
/// ```
/// use flowcert::report::plot::font::text_width;
/// let w = text_width("0.25", 12.0);
/// assert!(w > 20.0 && w < 30.0);
/// assert!(text_width("Λ(t)", 12.0) > text_width("t", 12.0));
/// ```
pub fn text_width(text: &str, size: f64) -> f64 {
    let Some(face) = face() else {
        return 0.6 * size * text.chars().count() as f64;
    };
    let em = f64::from(face.units_per_em());
    let units: f64 = text
        .chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(0.6 * em, f64::from)
        })
        .sum();
    units * size / em
}

/// Height above the baseline of capitals and digits at `size` px (about 0.73 em).
pub fn cap_height(size: f64) -> f64 {
    0.73 * size
}

/// Depth below the baseline of descenders at `size` px (about 0.24 em).
pub fn descent(size: f64) -> f64 {
    0.24 * size
}

/// The characters of `text` the font has no glyph for (they would render as boxes).
///
/// ```
/// use flowcert::report::plot::font::missing_glyphs;
/// assert!(missing_glyphs("Λ(t) ‖J‖ μ ε ∫ Φ Ψ − ⁻³ ×").is_empty());
/// ```
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let Some(face) = face() else {
        return Vec::new();
    };
    text.chars()
        .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
        .collect()
}
