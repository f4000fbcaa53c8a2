//! A model's answers to a query file: one row of d numbers per query, in the order of the
//! query file. `.npy` (float64 or float32, shape `(M, d)`, or `(M,)` when d = 1) or, for any
//! other extension, a JSON array of arrays or CSV with an optional header (as points files).

use crate::digits::count;
use std::path::Path;

use nalgebra::DMatrix;

use super::AssessError;
use super::npy::from_npy;

/// Read answers from `path`: a `d x rows` matrix (one answer per column). `what` names the
/// query file in errors ("score_queries").
///
/// ```
/// use flowcert::theorems::assess::{load_answers, npy::to_npy};
/// let p = std::env::temp_dir().join("flowcert-doc-answers.npy");
/// std::fs::write(&p, to_npy(2, 2, &[1.0, 2.0, 3.0, 4.0])).unwrap();
/// let a = load_answers(&p, 2, 2, "score_queries").unwrap();
/// assert_eq!(a[(1, 0)], 2.0);
/// let e = load_answers(&p, 3, 2, "score_queries").unwrap_err().to_string();
/// assert!(e.contains("2 rows") && e.contains("3"), "{e}");
/// ```
pub fn load_answers(
    path: &Path,
    rows: usize,
    d: usize,
    what: &str,
) -> Result<DMatrix<f64>, AssessError> {
    let shown = path.display().to_string();
    let bad = |message: String| AssessError::Malformed {
        path: shown.clone(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| AssessError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
        || bytes.starts_with(b"\x93NUMPY");
    let m = if is_npy {
        let a = from_npy(&bytes).map_err(|e| bad(e.to_string()))?;
        let (r, c) = match a.shape.as_slice() {
            [r] => (*r, 1),
            [r, c] => (*r, *c),
            _ => unreachable!("from_npy returns 1-D or 2-D arrays"),
        };
        if c != d {
            return Err(bad(format!(
                "has {} but the mixture has d = {d}: give one answer of d numbers per row of {what}",
                count(c, "column")
            )));
        }
        if r != rows {
            return Err(bad(format!(
                "has {} but {what} has {rows}: answer every query, in the order of {what}",
                count(r, "row")
            )));
        }
        DMatrix::from_column_slice(d, r, &a.data)
    } else {
        let text = String::from_utf8(bytes)
            .map_err(|_| bad("is neither .npy nor text (CSV or JSON)".into()))?;
        let m = crate::io::parse_points(&text, d, &shown).map_err(|e| bad(e.to_string()))?;
        if m.ncols() != rows {
            return Err(bad(format!(
                "has {} but {what} has {rows}: answer every query, in the order of {what}",
                count(m.ncols(), "row")
            )));
        }
        m
    };
    if let Some(j) = m
        .column_iter()
        .position(|c| c.iter().any(|v| !v.is_finite()))
    {
        return Err(bad(format!(
            "row {j} is not finite ({:?}): the model returned NaN or infinity at query {j} of {what}; fix the model there",
            m.column(j).iter().collect::<Vec<_>>()
        )));
    }
    Ok(m)
}
