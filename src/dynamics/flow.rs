//! Flow maps of the PF-ODE and their derivatives (theory/01-model.md, "Flow maps").
//!
//! ```text
//! Phi_{t->u}(x): solution at time u of dx/dr = v(x, r) started from x at time t
//! d/du DPhi_{t->u}(x) = J(Phi_{t->u}(x), u) DPhi_{t->u}(x),   DPhi_{t->t} = I
//! ```
//! The variational equation is integrated alongside the state (state dimension
//! d + d^2, DPhi stored column-major), so `||DPhi||_2` is the exact local Lipschitz
//! constant of the flow map up to the solver tolerance. Either time direction works.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use super::solver::{OdeSystem, SolverError, SolverStats, ValidSolverOptions, integrate};
use crate::model::{Marginal, Mixture, ModelError, VelocityField};

/// Why a flow map could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// A time outside the model's range.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The ODE solver failed.
    #[error(transparent)]
    Solver(#[from] SolverError),
}

/// The PF-ODE, optionally augmented with its variational equation, as an [`OdeSystem`].
pub struct FlowSystem<'f, V: VelocityField> {
    field: &'f mut V,
    d: usize,
    with_jacobian: bool,
    jac: DMatrix<f64>,
}

impl<'f, V: VelocityField> FlowSystem<'f, V> {
    /// Wrap a velocity field; `with_jacobian` adds the d x d variational state.
    pub fn new(field: &'f mut V, with_jacobian: bool) -> Self {
        let d = field.dim();
        FlowSystem {
            field,
            d,
            with_jacobian,
            jac: DMatrix::zeros(d, d),
        }
    }
}

impl<V: VelocityField> OdeSystem for FlowSystem<'_, V> {
    fn dim(&self) -> usize {
        if self.with_jacobian {
            self.d + self.d * self.d
        } else {
            self.d
        }
    }

    #[inline]
    fn rhs(&mut self, t: f64, y: &[f64], dy: &mut [f64]) {
        let d = self.d;
        if !self.with_jacobian {
            self.field.velocity_into(y, t, dy);
            return;
        }
        let (x, m) = y.split_at(d);
        let (dx, dm) = dy.split_at_mut(d);
        self.field.jacobian_into(x, t, &mut self.jac, dx);
        // dM = J M, column-major, plain loops (no strided gemm views).
        let j = self.jac.as_slice();
        for c in 0..d {
            let mc = &m[c * d..(c + 1) * d];
            let out = &mut dm[c * d..(c + 1) * d];
            out.iter_mut().for_each(|v| *v = 0.0);
            for (k, &mk) in mc.iter().enumerate() {
                let jk = &j[k * d..(k + 1) * d];
                for r in 0..d {
                    out[r] += jk[r] * mk;
                }
            }
        }
    }
}

/// The end point of one trajectory, with its derivative if requested.
#[derive(Debug, Clone)]
pub struct FlowPoint {
    /// `Phi_{from->to}(x)`.
    pub y: DVector<f64>,
    /// `DPhi_{from->to}(x)` when requested.
    pub jacobian: Option<DMatrix<f64>>,
    /// Solver work.
    pub stats: SolverStats,
}

impl FlowPoint {
    /// `||DPhi||_2`, the local Lipschitz constant (largest singular value).
    ///
    /// ```
    /// let p = flowcert::dynamics::FlowPoint { y: nalgebra::DVector::zeros(2),
    ///     jacobian: Some(nalgebra::DMatrix::from_diagonal_element(2, 2, 3.0)), stats: Default::default() };
    /// assert!((p.jacobian_norm().unwrap() - 3.0).abs() < 1e-12);
    /// ```
    pub fn jacobian_norm(&self) -> Option<f64> {
        self.jacobian.as_ref().map(spectral_norm)
    }
}

/// Largest singular value of a (small, owned) matrix.
///
/// ```
/// let m = nalgebra::DMatrix::from_row_slice(2, 2, &[0.0, 2.0, 0.0, 0.0]);
/// assert!((flowcert::dynamics::flow::spectral_norm(&m) - 2.0).abs() < 1e-12);
/// ```
pub fn spectral_norm(m: &DMatrix<f64>) -> f64 {
    m.clone()
        .singular_values()
        .iter()
        .cloned()
        .fold(0.0, f64::max)
}

/// Integrate any velocity field from `from` to `to` starting at `x`.
///
/// ```
/// use flowcert::dynamics::{flow_point, solver::SolverOptions};
/// use flowcert::model::{builtin, Marginal};
/// let mix = builtin::two_mode(0.1);
/// let mut field = Marginal::new(&mix, 1.0).unwrap();
/// let opts = SolverOptions::default().check().unwrap();
/// let p = flow_point(&mut field, &[0.3, 0.0], 1.0, 0.5, true, &opts).unwrap();
/// assert!(p.jacobian_norm().unwrap() > 0.0);
/// ```
pub fn flow_point<V: VelocityField>(
    field: &mut V,
    x: &[f64],
    from: f64,
    to: f64,
    with_jacobian: bool,
    opts: &ValidSolverOptions,
) -> Result<FlowPoint, SolverError> {
    let d = x.len();
    let mut y = x.to_vec();
    if with_jacobian {
        y.resize(d + d * d, 0.0);
        for i in 0..d {
            y[d + i * d + i] = 1.0;
        }
    }
    let mut sys = FlowSystem::new(field, with_jacobian);
    let stats = integrate(&mut sys, from, to, &mut y, opts)?;
    let jacobian = with_jacobian.then(|| DMatrix::from_column_slice(d, d, &y[d..]));
    y.truncate(d);
    Ok(FlowPoint {
        y: DVector::from_vec(y),
        jacobian,
        stats,
    })
}

/// The exact flow map `Phi_{from->to}` of a mixture's PF-ODE at fixed solver options.
#[derive(Debug, Clone)]
pub struct ExactFlow<'a> {
    mix: &'a Mixture,
    opts: ValidSolverOptions,
}

impl<'a> ExactFlow<'a> {
    /// The exact flow of `mix` solved at `opts` (validated solver options or a
    /// [`super::Teacher`]; [`super::Teacher::flow`] says the same).
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let y = f.map(&[0.1, 0.2], 2.0, 0.01).unwrap();
    /// assert!(y.y[0] > 1.0); // lands near the right mode
    /// ```
    pub fn new(mix: &'a Mixture, opts: impl Into<ValidSolverOptions>) -> Self {
        ExactFlow {
            mix,
            opts: opts.into(),
        }
    }

    /// The mixture.
    pub fn mixture(&self) -> &'a Mixture {
        self.mix
    }

    /// The solver options.
    pub fn options(&self) -> &ValidSolverOptions {
        &self.opts
    }

    /// `Phi_{from->to}(x)` (times must be > 0; checked by callers at the boundary).
    pub fn map(&self, x: &[f64], from: f64, to: f64) -> Result<FlowPoint, FlowError> {
        self.solve(x, from, to, false)
    }

    /// `Phi_{from->to}(x)` and `DPhi_{from->to}(x)`.
    pub fn map_with_jacobian(&self, x: &[f64], from: f64, to: f64) -> Result<FlowPoint, FlowError> {
        self.solve(x, from, to, true)
    }

    fn solve(
        &self,
        x: &[f64],
        from: f64,
        to: f64,
        with_jacobian: bool,
    ) -> Result<FlowPoint, FlowError> {
        Mixture::check_time("to", to)?;
        let mut field = Marginal::new(self.mix, from)?;
        Ok(flow_point(
            &mut field,
            x,
            from,
            to,
            with_jacobian,
            &self.opts,
        )?)
    }

    /// Map the columns of a d x N matrix on the current thread (for use inside an outer
    /// parallel loop), summing solver stats.
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let xs = nalgebra::DMatrix::from_element(2, 2, 0.5);
    /// let (a, _) = f.map_batch_serial(&xs, 1.0, 0.1).unwrap();
    /// let (b, _) = f.map_batch(&xs, 1.0, 0.1).unwrap();
    /// assert_eq!(a, b);
    /// ```
    pub fn map_batch_serial(
        &self,
        xs: &DMatrix<f64>,
        from: f64,
        to: f64,
    ) -> Result<(DMatrix<f64>, SolverStats), FlowError> {
        Mixture::check_time("to", to)?;
        let d = xs.nrows();
        let mut field = Marginal::new(self.mix, from)?;
        let mut out = DMatrix::zeros(d, xs.ncols());
        let mut stats = SolverStats::default();
        for (x, o) in xs
            .as_slice()
            .chunks(d.max(1))
            .zip(out.as_mut_slice().chunks_mut(d.max(1)))
        {
            let p = flow_point(&mut field, x, from, to, false, &self.opts)?;
            o.copy_from_slice(p.y.as_slice());
            stats += p.stats;
        }
        Ok((out, stats))
    }

    /// Map the columns of a d x N matrix (parallel over points), summing solver stats.
    ///
    /// ```
    /// use flowcert::dynamics::{ExactFlow, solver::SolverOptions};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let f = ExactFlow::new(&mix, SolverOptions::default().check().unwrap());
    /// let (ys, stats) = f.map_batch(&nalgebra::DMatrix::zeros(2, 3), 1.0, 0.1).unwrap();
    /// assert_eq!(ys.ncols(), 3);
    /// assert!(stats.steps > 0);
    /// ```
    pub fn map_batch(
        &self,
        xs: &DMatrix<f64>,
        from: f64,
        to: f64,
    ) -> Result<(DMatrix<f64>, SolverStats), FlowError> {
        let d = xs.nrows();
        let cols: Vec<&[f64]> = xs.as_slice().chunks(d.max(1)).collect();
        let results: Vec<Result<FlowPoint, FlowError>> =
            cols.par_iter().map(|x| self.map(x, from, to)).collect();
        let mut out = DMatrix::zeros(d, xs.ncols());
        let mut stats = SolverStats::default();
        for (j, r) in results.into_iter().enumerate() {
            let p = r?;
            out.column_mut(j).copy_from(&p.y);
            stats += p.stats;
        }
        Ok((out, stats))
    }
}
