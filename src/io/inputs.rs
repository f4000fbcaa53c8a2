//! Mixture files (JSON of the CLI contract) and points files (a JSON array of arrays, or
//! delimited text with one point per row and an optional header).
//!
//! Files are read up to a stated size ([`crate::limits::MAX_MIXTURE_FILE_BYTES`],
//! [`crate::limits::MAX_POINTS_FILE_BYTES`]); a UTF-8 byte-order mark is dropped. Points
//! are parsed straight into the `d x N` matrix, each row checked as it is read, so a
//! malformed or huge file is refused before it is held twice.
//!
//! Delimited points: one point per line, coordinates separated by commas, semicolons,
//! tabs or spaces (one kind per file, taken from the first line that is not blank;
//! commas win, then semicolons, then tabs and spaces). The first line is a header
//! exactly when *none* of its fields is a number; a line with some numbers and some
//! non-numbers (`0.1,0.2x`) is an error, never taken for a header. Blank lines and lines
//! starting with `#` are skipped.

use std::path::Path;

use nalgebra::DMatrix;
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::error::InputError;
use crate::limits::{self, MAX_ABS_COORDINATE, MAX_POINTS, MAX_VALUES};
use crate::model::builtin::Builtin;
use crate::model::{Mixture, MixtureSpec};

/// Load and validate a mixture: a JSON file, or `builtin:NAME` for the built-in suite.
///
/// ```
/// let m = flowcert::io::load_mixture("builtin:two-mode-s0.1").unwrap();
/// assert_eq!(m.dim(), 2);
/// assert!(flowcert::io::load_mixture("/no/such/file.json").is_err());
/// ```
pub fn load_mixture(path: &str) -> Result<Mixture, InputError> {
    if let Some(name) = path.strip_prefix("builtin:") {
        return Ok(name
            .parse::<Builtin>()
            .map_err(InputError::Builtin)?
            .mixture());
    }
    let text = limits::read_text(Path::new(path), "mixture", limits::MAX_MIXTURE_FILE_BYTES)?;
    let wrap = |source| InputError::Mixture {
        path: path.to_string(),
        source,
    };
    MixtureSpec::from_json(&text)
        .map_err(wrap)?
        .check()
        .map_err(wrap)
}

/// Where a parsed point goes: a flat column-major buffer of `dim`-vectors, with the
/// count and magnitude limits checked per value.
struct Sink {
    dim: usize,
    max_abs: f64,
    data: Vec<f64>,
    /// A content error found while the JSON itself was well-formed (reported as such).
    content: Option<String>,
}

impl Sink {
    fn new(dim: usize, max_abs: f64) -> Self {
        Sink {
            dim,
            max_abs,
            data: Vec::new(),
            content: None,
        }
    }

    fn points(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    /// Check a complete point (`self.data` ends with it) and the running count.
    fn finish_point(&self) -> Result<(), String> {
        let j = self.points() - 1;
        let n = self.points();
        if n > MAX_POINTS || self.data.len() > MAX_VALUES {
            return Err(format!(
                "has more than {} points of dimension {} (the limits are {MAX_POINTS} points and {MAX_VALUES} numbers per file): split the file",
                n - 1,
                self.dim
            ));
        }
        for (i, &v) in self.data[j * self.dim..].iter().enumerate() {
            if !v.is_finite() {
                return Err(format!(
                    "point {j} coordinate {i} is {v}; every coordinate must be finite"
                ));
            }
            if v.abs() > self.max_abs {
                return Err(format!(
                    "point {j} coordinate {i} is {v:e}, beyond the limit {:e} on coordinates: f64 arithmetic of the model (squared distances) loses every significant digit there; rescale the points and the mixture together",
                    self.max_abs
                ));
            }
        }
        Ok(())
    }

    fn into_matrix(self) -> Result<DMatrix<f64>, String> {
        if self.data.is_empty() {
            return Err("contains no points; give at least one point".into());
        }
        let n = self.points();
        Ok(DMatrix::from_vec(self.dim, n, self.data))
    }
}

/// One JSON point `[x_0, ..., x_{d-1}]`, appended to the sink.
struct PointSeed<'a>(&'a mut Sink);

impl<'de> DeserializeSeed<'de> for PointSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PointSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "a point: an array of {} numbers", self.0.dim)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let sink = self.0;
        let j = sink.points();
        let mut got = 0;
        let mut fail = |msg: String| {
            sink_error(&mut sink.content, msg);
            A::Error::custom("content")
        };
        while got < sink.dim {
            let Some(v) = seq.next_element::<f64>()? else {
                break;
            };
            got += 1;
            sink.data.push(v);
        }
        // Extra coordinates are counted (not stored) so that the message can name them;
        // the file size limit bounds the count.
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            got += 1;
        }
        if got != sink.dim {
            let d = sink.dim;
            return Err(fail(format!(
                "point {j} has {got} coordinates but the mixture has d = {d}; give d numbers per point"
            )));
        }
        if let Err(m) = sink.finish_point() {
            sink_error(&mut sink.content, m);
            return Err(A::Error::custom("content"));
        }
        Ok(())
    }
}

/// The JSON array of points.
struct PointsSeed<'a>(&'a mut Sink);

impl<'de> DeserializeSeed<'de> for PointsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PointsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of points such as [[0.5, 1.0], [2.0, -1.0]]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(PointSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

fn sink_error(slot: &mut Option<String>, msg: String) {
    slot.get_or_insert(msg);
}

fn parse_json_points(text: &str, sink: &mut Sink) -> Result<(), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let r = PointsSeed(&mut *sink)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    match (r, sink.content.take()) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(content)) => Err(content),
        (Err(e), None) => Err(format!(
            "malformed JSON ({}); expected an array of points such as [[0.5, 1.0], [2.0, -1.0]]",
            limits::json_error(text, &e)
        )),
    }
}

/// The delimiter of a delimited points file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delimiter {
    Comma,
    Semicolon,
    /// Tabs and spaces (any run of them).
    Whitespace,
}

impl Delimiter {
    fn of(line: &str) -> Self {
        if line.contains(',') {
            Delimiter::Comma
        } else if line.contains(';') {
            Delimiter::Semicolon
        } else {
            Delimiter::Whitespace
        }
    }

    fn name(self) -> &'static str {
        match self {
            Delimiter::Comma => "commas",
            Delimiter::Semicolon => "semicolons",
            Delimiter::Whitespace => "tabs or spaces",
        }
    }

    fn split(self, line: &str) -> Vec<&str> {
        fn unquote(f: &str) -> &str {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|g| g.strip_suffix('"'))
                .unwrap_or(f)
                .trim()
        }
        match self {
            Delimiter::Comma => line.split(',').map(unquote).collect(),
            Delimiter::Semicolon => line.split(';').map(unquote).collect(),
            Delimiter::Whitespace => line.split_whitespace().map(unquote).collect(),
        }
    }
}

const DELIMITERS: &str = "separate the coordinates of a point with commas, semicolons, tabs or spaces (one kind per file), one point per line";

fn parse_delimited(text: &str, sink: &mut Sink) -> Result<(), String> {
    let mut delimiter = None;
    let mut first = true;
    // The index of a `component` column named in the header (as `flowcert sample --out`
    // writes): not a coordinate, dropped from every row.
    let mut label_column: Option<usize> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let delim = *delimiter.get_or_insert_with(|| Delimiter::of(line));
        let mut fields = delim.split(line);
        if first {
            first = false;
            if fields.iter().all(|f| f.parse::<f64>().is_err()) {
                // a header: no field is a number
                label_column = fields
                    .iter()
                    .position(|f| f.eq_ignore_ascii_case("component"));
                continue;
            }
        }
        if let Some(c) = label_column.filter(|&c| c < fields.len()) {
            fields.remove(c);
        }
        let parsed: Vec<Option<f64>> = fields.iter().map(|f| f.parse::<f64>().ok()).collect();
        if let Some(bad) = parsed.iter().position(Option::is_none) {
            return Err(format!(
                "line {} field {} '{}' is not a number (a header is a first line with no number at all): {DELIMITERS}; this file uses {}",
                i + 1,
                bad + 1,
                fields[bad],
                delim.name()
            ));
        }
        if parsed.len() != sink.dim {
            return Err(format!(
                "line {} has {} coordinates but the mixture has d = {}: give d numbers per point; {DELIMITERS}; this file uses {}",
                i + 1,
                parsed.len(),
                sink.dim,
                delim.name()
            ));
        }
        sink.data.extend(parsed.into_iter().flatten());
        sink.finish_point()
            .map_err(|m| format!("line {}: {m}", i + 1))?;
    }
    Ok(())
}

/// Parse points text (a JSON array of arrays, or delimited text: module doc) into a
/// `d x N` matrix, checking that every point has `dim` finite coordinates within
/// [`crate::limits::MAX_ABS_COORDINATE`], and the counts within
/// [`crate::limits::MAX_POINTS`] and [`crate::limits::MAX_VALUES`]. `path` only names the
/// source in errors.
///
/// ```
/// let p = flowcert::io::parse_points("[[1, 2], [3, 4]]", 2, "inline").unwrap();
/// assert_eq!(p[(1, 1)], 4.0);
/// let q = flowcert::io::parse_points("x,y\n1,2\n3,4\n", 2, "inline").unwrap();
/// assert_eq!(p, q);
/// let r = flowcert::io::parse_points("1 2\n3\t4\n", 2, "inline").unwrap();
/// assert_eq!(p, r);
/// assert!(flowcert::io::parse_points("[[1, 2], [3]]", 2, "inline").is_err());
/// let r = flowcert::io::parse_points("x0,x1,component\n1,2,0\n3,4,1\n", 2, "inline").unwrap();
/// assert_eq!(p, r);
/// assert!(flowcert::io::parse_points("0.1,0.2x\n1,2\n", 2, "inline").is_err());
/// ```
pub fn parse_points(text: &str, dim: usize, path: &str) -> Result<DMatrix<f64>, InputError> {
    parse_rows(text, dim, MAX_ABS_COORDINATE).map_err(|message| InputError::Points {
        path: path.to_string(),
        message,
    })
}

/// [`parse_points`] with another bound on `|coordinate|` (a model's answers may be
/// larger than points, see [`crate::limits::MAX_ABS_ANSWER`]); the error is the message
/// alone.
///
/// ```
/// assert!(flowcert::io::inputs::parse_rows("[[1e20]]", 1, 1e100).is_ok());
/// assert!(flowcert::io::inputs::parse_rows("[[1e20]]", 1, 1e8).is_err());
/// ```
pub fn parse_rows(text: &str, dim: usize, max_abs: f64) -> Result<DMatrix<f64>, String> {
    if dim == 0 {
        return Err("the dimension d is 0".into());
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sink = Sink::new(dim, max_abs);
    if text.trim_start().starts_with('[') {
        parse_json_points(text, &mut sink)?;
    } else {
        parse_delimited(text, &mut sink)?;
    }
    sink.into_matrix()
}

/// Read and parse a points file (see [`parse_points`]), at most
/// [`crate::limits::MAX_POINTS_FILE_BYTES`] bytes.
///
/// ```
/// assert!(flowcert::io::load_points("/no/such/points.json", 2).is_err());
/// ```
pub fn load_points(path: &str, dim: usize) -> Result<DMatrix<f64>, InputError> {
    let text = limits::read_text(Path::new(path), "points", limits::MAX_POINTS_FILE_BYTES)?;
    parse_points(&text, dim, path)
}
