//! The stability-balanced grid (theory/04-composition-and-grids.md):
//!
//! ```text
//! t_i = Lambda^{-1}( i Lambda(T) / N ),   i = 0..N
//! ```
//! so every segment carries the same amplification `exp(Lambda(T) / N)`. The coordinate is
//! that of any [`Bound`] (the one-sided one floored, see [`crate::bounds::lambda`]); the
//! inversion is accurate to [`crate::tolerance::QUAD_RTOL`] `Lambda(T)`.

use super::{GridError, Span};
use crate::bounds::{Bound, LambdaTable, Lipschitz};

/// Balanced times from a tabulated coordinate: `Lambda^{-1}(i Lambda(T) / N)`.
///
/// ```
/// use flowcert::bounds::{Bound, LambdaTable, Lipschitz};
/// let mix = flowcert::model::builtin::ring(8, 3.0, 0.1);
/// let tab = LambdaTable::new(Lipschitz::auto(&mix), Bound::TwoSided, 0.01, 2.0).unwrap();
/// let ts = flowcert::grids::balanced::from_table(&tab, 4);
/// assert_eq!((ts[0], ts[4]), (0.01, 2.0));
/// assert!((tab.value(ts[1]) / tab.total() - 0.25).abs() < 1e-12);
/// ```
pub fn from_table(table: &LambdaTable, segments: usize) -> Vec<f64> {
    let total = table.total();
    (0..=segments)
        .map(|i| table.inverse(total * i as f64 / segments as f64))
        .collect()
}

/// The balanced grid of `kind` for the bounds `lip` (any domain) on a span.
///
/// ```
/// use flowcert::bounds::{Bound, Domain, Lipschitz, Region};
/// use flowcert::grids::{Span, balanced::balanced};
/// let mix = flowcert::model::builtin::hetero3();
/// let ball = Domain::Ball(Region::on_interval(&mix, 1e-4, 0.01, 2.0).unwrap());
/// let lip = Lipschitz::new(&mix, ball).unwrap();
/// let ts = balanced(lip, Bound::OneSided, &Span::new(0.01, 2.0, 8).unwrap()).unwrap();
/// assert!(ts.windows(2).all(|w| w[0] < w[1]));
/// ```
pub fn balanced(lip: Lipschitz, kind: Bound, span: &Span) -> Result<Vec<f64>, GridError> {
    let table = LambdaTable::new(lip, kind, span.t_min(), span.t_max())?;
    Ok(from_table(&table, span.segments()))
}
