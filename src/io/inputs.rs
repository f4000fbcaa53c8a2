//! Mixture files (JSON of the CLI contract) and points files (a JSON array of arrays,
//! or CSV with one point per row and an optional header).

use std::path::Path;

use nalgebra::DMatrix;

use super::error::InputError;
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
    let text =
        std::fs::read_to_string(Path::new(path)).map_err(|source| InputError::Unreadable {
            what: "mixture",
            path: path.to_string(),
            source,
        })?;
    let wrap = |source| InputError::Mixture {
        path: path.to_string(),
        source,
    };
    MixtureSpec::from_json(&text)
        .map_err(wrap)?
        .check()
        .map_err(wrap)
}

/// Parse points text (JSON array of arrays, or CSV) into a d x N matrix, checking that
/// every point has `dim` finite coordinates. `path` only names the source in errors. A CSV
/// header may name a `component` column (as `flowcert sample --out` writes): that column
/// is not a coordinate and is dropped.
///
/// ```
/// let p = flowcert::io::parse_points("[[1, 2], [3, 4]]", 2, "inline").unwrap();
/// assert_eq!(p[(1, 1)], 4.0);
/// let q = flowcert::io::parse_points("x,y\n1,2\n3,4\n", 2, "inline").unwrap();
/// assert_eq!(p, q);
/// assert!(flowcert::io::parse_points("[[1, 2], [3]]", 2, "inline").is_err());
/// let r = flowcert::io::parse_points("x0,x1,component\n1,2,0\n3,4,1\n", 2, "inline").unwrap();
/// assert_eq!(p, r);
/// ```
pub fn parse_points(text: &str, dim: usize, path: &str) -> Result<DMatrix<f64>, InputError> {
    let err = |message: String| InputError::Points {
        path: path.to_string(),
        message,
    };
    let rows: Vec<Vec<f64>> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| {
            err(format!(
                "malformed JSON ({e}); expected an array of points such as [[0.5, 1.0], [2.0, -1.0]]"
            ))
        })?
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        // The index of a `component` column named in the header, if any.
        let mut label_column: Option<usize> = None;
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| {
                err(format!(
                    "malformed CSV ({e}); give one point per row, comma-separated"
                ))
            })?;
            if rec.iter().all(|f| f.is_empty()) {
                continue;
            }
            let parsed: Result<Vec<f64>, _> = rec
                .iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != label_column)
                .map(|(_, f)| f.parse::<f64>())
                .collect();
            match parsed {
                Ok(v) => rows.push(v),
                Err(_) if i == 0 => {
                    // header row
                    label_column = rec.iter().position(|f| f.eq_ignore_ascii_case("component"));
                    continue;
                }
                Err(_) => {
                    return Err(err(format!(
                        "row {} of the CSV has a field that is not a number: {:?}; give numbers only",
                        i + 1,
                        rec.iter().collect::<Vec<_>>()
                    )));
                }
            }
        }
        rows
    };
    if rows.is_empty() {
        return Err(err(
            "contains no points; give at least one point".to_string()
        ));
    }
    let mut out = DMatrix::zeros(dim, rows.len());
    for (j, row) in rows.iter().enumerate() {
        if row.len() != dim {
            return Err(err(format!(
                "point {j} has {} coordinates but the mixture has d = {dim}; give d numbers per point",
                row.len()
            )));
        }
        for (i, &v) in row.iter().enumerate() {
            if !v.is_finite() {
                return Err(err(format!(
                    "point {j} coordinate {i} is {v}; every coordinate must be finite"
                )));
            }
            out[(i, j)] = v;
        }
    }
    Ok(out)
}

/// Read and parse a points file (see [`parse_points`]).
///
/// ```
/// assert!(flowcert::io::load_points("/no/such/points.json", 2).is_err());
/// ```
pub fn load_points(path: &str, dim: usize) -> Result<DMatrix<f64>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Unreadable {
        what: "points",
        path: path.to_string(),
        source,
    })?;
    parse_points(&text, dim, path)
}
