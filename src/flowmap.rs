//! Flow maps as one capability: a map `R^d -> R^d` evaluated on points or on `d x N`
//! batches of points stored as columns (theory/01-model.md, "Flow maps";
//! theory/04-composition-and-grids.md).
//!
//! ```text
//! exact       Phi_{t->s}(x)        dynamics::ExactFlow::segment(t, s)   (with DPhi)
//! students    Psi_i(x)             nn::Mlp, nn::LipschitzMlp, theorems::mismatch::BudgetedStudent
//! composed    Psi_1 o ... o Psi_N  Compose, or any FlowMap of your own
//! yours       x -> f(x)            FnMap::new(d, |x| ...)
//! ```
//! Everything the harness compares with the exact flow (students, compositions, a
//! researcher's own maps) goes through [`FlowMap`], so the composition and mismatch
//! checkers accept any of them. Evaluation is fallible (an ODE solve can fail; a user map
//! can return the wrong number of components) and single-threaded: callers parallelise
//! their outer loops.
//!
//! This module sits at the bottom of the crate (it needs only `nalgebra`), so every layer
//! can implement and consume it.

use nalgebra::{DMatrix, DVector};
use thiserror::Error;

/// Why a map could not be evaluated.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MapError {
    /// Points of the wrong dimension were passed in (or came out).
    #[error(
        "{what} has dimension {found} but the map {expected_what} dimension {expected}: pass points with {expected} coordinates (one point per column)"
    )]
    Dimension {
        /// Which points: "input", "output", "the first map's output".
        what: &'static str,
        /// "takes points of" or "returns points of".
        expected_what: &'static str,
        /// The dimension expected.
        expected: usize,
        /// The dimension found.
        found: usize,
    },
    /// The map failed for a reason of its own (e.g. the ODE solver of an exact flow).
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl MapError {
    /// Wrap any error raised while evaluating a map (its source is kept).
    ///
    /// ```
    /// let e = flowcert::flowmap::MapError::failed(std::io::Error::other("solver gave up"));
    /// assert_eq!(e.to_string(), "solver gave up");
    /// ```
    pub fn failed(e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        MapError::Failed(e.into())
    }

    /// `Ok` when `found == expected`, else a [`MapError::Dimension`] about the input.
    ///
    /// ```
    /// use flowcert::flowmap::MapError;
    /// assert!(MapError::check_input(2, 2).is_ok());
    /// assert!(MapError::check_input(2, 3).unwrap_err().to_string().contains("dimension 3"));
    /// ```
    pub fn check_input(expected: usize, found: usize) -> Result<(), MapError> {
        if expected == found {
            Ok(())
        } else {
            Err(MapError::Dimension {
                what: "input",
                expected_what: "takes points of",
                expected,
                found,
            })
        }
    }
}

/// A map `R^{dim_in} -> R^{dim_out}` (a flow map has `dim_in == dim_out`), evaluated on
/// single points or on batches stored as columns.
///
/// Implement [`FlowMap::map_point`]; override [`FlowMap::map_batch`] where a batch is
/// cheaper than a loop (networks), and [`FlowMap::jacobian`] where the derivative is known
/// (the exact flow, by the variational equation).
///
/// ```
/// use flowcert::flowmap::{FlowMap, MapError};
/// use nalgebra::{DMatrix, DVector};
/// /// The exact flow of the OU process for N(0, I) data: p_t = N(0, I), velocity 0.
/// struct Identity(usize);
/// impl FlowMap for Identity {
///     fn dim_in(&self) -> usize { self.0 }
///     fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
///         MapError::check_input(self.0, x.len())?;
///         Ok(DVector::from_column_slice(x))
///     }
/// }
/// let xs = DMatrix::from_element(2, 3, 0.5);
/// assert_eq!(Identity(2).map_batch(&xs).unwrap(), xs);
/// assert!(Identity(2).map_batch(&DMatrix::zeros(3, 1)).is_err());
/// ```
pub trait FlowMap: Sync {
    /// Dimension of the input points.
    fn dim_in(&self) -> usize;

    /// Dimension of the output points (default: `dim_in`, as for every flow map).
    fn dim_out(&self) -> usize {
        self.dim_in()
    }

    /// The image of one point.
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError>;

    /// The images of the columns of `xs` (`dim_in x N` in, `dim_out x N` out). The default
    /// checks the dimensions and maps column by column.
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        MapError::check_input(self.dim_in(), xs.nrows())?;
        let mut out = DMatrix::zeros(self.dim_out(), xs.ncols());
        for (j, x) in xs.column_iter().enumerate() {
            let y = self.map_point(x.as_slice())?;
            if y.len() != self.dim_out() {
                return Err(MapError::Dimension {
                    what: "output",
                    expected_what: "returns points of",
                    expected: self.dim_out(),
                    found: y.len(),
                });
            }
            out.set_column(j, &y);
        }
        Ok(out)
    }

    /// The derivative `D map(x)` (`dim_out x dim_in`) where the map knows it; `None`
    /// (the default) where it does not.
    fn jacobian(&self, _x: &[f64]) -> Result<Option<DMatrix<f64>>, MapError> {
        Ok(None)
    }
}

/// `&T` and `Box<T>` are the maps they point to.
macro_rules! forward_flow_map {
    ($($ptr:ty),*) => {$(
        impl<T: FlowMap + ?Sized> FlowMap for $ptr {
            fn dim_in(&self) -> usize {
                (**self).dim_in()
            }
            fn dim_out(&self) -> usize {
                (**self).dim_out()
            }
            fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
                (**self).map_point(x)
            }
            fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
                (**self).map_batch(xs)
            }
            fn jacobian(&self, x: &[f64]) -> Result<Option<DMatrix<f64>>, MapError> {
                (**self).jacobian(x)
            }
        }
    )*};
}

forward_flow_map!(&T, Box<T>);

/// Composition `second o first`: apply `first`, then `second` (e.g. students over
/// consecutive segments, `Psi_{t->u} o Psi_{s->t}`). The derivative is the chain rule
/// product when both maps know theirs.
///
/// ```
/// use flowcert::flowmap::{Compose, FlowMap, FnMap};
/// let double = FnMap::new(2, |x: &[f64]| x.iter().map(|v| 2.0 * v).collect());
/// let shift = FnMap::new(2, |x: &[f64]| vec![x[0] + 1.0, x[1]]);
/// let both = Compose::new(&double, &shift).unwrap();
/// assert_eq!(both.map_point(&[1.0, 1.0]).unwrap().as_slice(), &[3.0, 2.0]);
/// assert!(Compose::new(&double, FnMap::new(3, |x: &[f64]| x.to_vec())).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Compose<A, B> {
    first: A,
    second: B,
}

impl<A: FlowMap, B: FlowMap> Compose<A, B> {
    /// Compose two maps; fails when `first.dim_out() != second.dim_in()`.
    pub fn new(first: A, second: B) -> Result<Self, MapError> {
        if first.dim_out() != second.dim_in() {
            return Err(MapError::Dimension {
                what: "the first map's output",
                expected_what: "second takes points of",
                expected: second.dim_in(),
                found: first.dim_out(),
            });
        }
        Ok(Self { first, second })
    }
}

impl<A: FlowMap, B: FlowMap> FlowMap for Compose<A, B> {
    fn dim_in(&self) -> usize {
        self.first.dim_in()
    }
    fn dim_out(&self) -> usize {
        self.second.dim_out()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        let y = self.first.map_point(x)?;
        self.second.map_point(y.as_slice())
    }
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        self.second.map_batch(&self.first.map_batch(xs)?)
    }
    fn jacobian(&self, x: &[f64]) -> Result<Option<DMatrix<f64>>, MapError> {
        let Some(inner) = self.first.jacobian(x)? else {
            return Ok(None);
        };
        let y = self.first.map_point(x)?;
        Ok(self
            .second
            .jacobian(y.as_slice())?
            .map(|outer| outer * inner))
    }
}

/// A user's point map `x -> f(x)` on `R^d` as a [`FlowMap`] (the output length is checked).
///
/// ```
/// use flowcert::flowmap::{FlowMap, FnMap};
/// let f = FnMap::new(1, |x: &[f64]| vec![x[0].tanh()]);
/// assert!((f.map_point(&[0.5]).unwrap()[0] - 0.5f64.tanh()).abs() < 1e-15);
/// let wrong = FnMap::new(2, |_: &[f64]| vec![0.0]);
/// assert!(wrong.map_point(&[0.0, 0.0]).unwrap_err().to_string().contains("returns points of dimension 2"));
/// ```
#[derive(Clone)]
pub struct FnMap<F> {
    dim: usize,
    f: F,
}

impl<F: Fn(&[f64]) -> Vec<f64> + Sync> FnMap<F> {
    /// Wrap `f`, a map from `R^dim` to `R^dim`.
    pub fn new(dim: usize, f: F) -> Self {
        FnMap { dim, f }
    }
}

impl<F> std::fmt::Debug for FnMap<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnMap").field("dim", &self.dim).finish()
    }
}

impl<F: Fn(&[f64]) -> Vec<f64> + Sync> FlowMap for FnMap<F> {
    fn dim_in(&self) -> usize {
        self.dim
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        MapError::check_input(self.dim, x.len())?;
        let y = (self.f)(x);
        if y.len() != self.dim {
            return Err(MapError::Dimension {
                what: "output",
                expected_what: "returns points of",
                expected: self.dim,
                found: y.len(),
            });
        }
        Ok(DVector::from_vec(y))
    }
}
