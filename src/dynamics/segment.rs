//! The exact flow map between two times as a [`FlowMap`]: `Phi_{from->to}` with its
//! derivative from the variational equation (theory/01-model.md, "Flow maps").

use nalgebra::{DMatrix, DVector};

use super::flow::{ExactFlow, FlowError};
use crate::flowmap::{FlowMap, MapError};

impl From<FlowError> for MapError {
    fn from(e: FlowError) -> Self {
        MapError::failed(e)
    }
}

/// `Phi_{from->to}` of an [`ExactFlow`]: made by [`ExactFlow::segment`]. Batches are
/// solved on the calling thread, one point after the other (parallelise outer loops).
///
/// ```
/// use flowcert::{dynamics::Teacher, flowmap::FlowMap};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let flow = Teacher::PRECISE.flow(&mix);
/// let phi = flow.segment(2.0, 0.05);
/// let y = phi.map_point(&[0.3, 0.0]).unwrap();
/// assert!(y[0] > 0.5); // flows into the right mode
/// let j = phi.jacobian(&[0.3, 0.0]).unwrap().unwrap();
/// assert_eq!(j.shape(), (2, 2));
/// ```
#[derive(Debug, Clone)]
pub struct FlowSegment<'a> {
    flow: ExactFlow<'a>,
    from: f64,
    to: f64,
}

impl<'a> ExactFlow<'a> {
    /// The flow map `Phi_{from->to}` as a [`FlowMap`] (times are checked when it is
    /// evaluated: both finite and > 0).
    pub fn segment(&self, from: f64, to: f64) -> FlowSegment<'a> {
        FlowSegment {
            flow: self.clone(),
            from,
            to,
        }
    }
}

impl FlowSegment<'_> {
    /// Start time.
    ///
    /// ```
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let s = flowcert::dynamics::Teacher::PRECISE.flow(&mix).segment(1.0, 0.5);
    /// assert_eq!((s.from(), s.to()), (1.0, 0.5));
    /// ```
    pub fn from(&self) -> f64 {
        self.from
    }

    /// End time.
    pub fn to(&self) -> f64 {
        self.to
    }
}

impl FlowMap for FlowSegment<'_> {
    fn dim_in(&self) -> usize {
        self.flow.mixture().dim()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        MapError::check_input(self.dim_in(), x.len())?;
        Ok(self.flow.map(x, self.from, self.to)?.y)
    }
    fn map_batch(&self, xs: &DMatrix<f64>) -> Result<DMatrix<f64>, MapError> {
        MapError::check_input(self.dim_in(), xs.nrows())?;
        Ok(self.flow.map_batch_serial(xs, self.from, self.to)?.0)
    }
    fn jacobian(&self, x: &[f64]) -> Result<Option<DMatrix<f64>>, MapError> {
        MapError::check_input(self.dim_in(), x.len())?;
        Ok(self.flow.map_with_jacobian(x, self.from, self.to)?.jacobian)
    }
}
