//! The explicit ReLU-ReQU network for the mixture score on `[-R, R]^d x [t_min, T]`
//! (theory/06-score-approximation.md). Input `(x, t)` (d + 1 values), output `s_theta(x, t)`.
//!
//! ```text
//! layer 1      x_c = clip(x, -R, R),  t_c = clip(t, t_min, T),  u = (2 t_c - t_min - T)/(T - t_min)
//! time         T_0..T_n(u) (shared Chebyshev basis); alpha, alpha^2, g_k = ln pi_k - LD_k/2 linear in it
//! eigen        z_kj = (Q_k^T x_c)_j - alpha (Q_k^T mu_k)_j                 (linear)
//!              inv_kj = 1/(1 + (lambda_kj - 1) alpha^2)                   (Newton / Goldschmidt)
//!              u_kj = z_kj inv_kj,  l_k = g_k - (1/2) sum_j z_kj^2 inv_kj  (exact products)
//! softmax      m = max_k l_k (ReLU tree),  c_k = max(l_k - m, -Bc),  E_k = exp(c_k) (range reduction)
//!              1/S = 1/sum_k E_k (Newton on [1, K])
//! output       s = -(1/S) sum_k E_k Q_k u_k                                  (exact products)
//! ```
//! With K = 1 the responsibilities are identically 1 and `s = -Q u` directly. The sizes
//! come from [`super::budget`], whose module documentation carries the error analysis.

use nalgebra::DMatrix;
use serde::Serialize;

use super::blocks::{self, chebyshev_basis};
use super::budget::{BudgetReport, Plan, ScoreNetParams, plan};
use super::builder::{Builder, Lin};
use super::chebyshev::ChebFit;
use super::error::ApproxError;
use super::network::{Network, SizeCounts};
use crate::model::{Mixture, ScoreField};

/// The constructed score network with its budget.
#[derive(Debug, Clone)]
pub struct ScoreNetwork {
    net: Network,
    dim: usize,
    params: ScoreNetParams,
    budget: BudgetReport,
}

/// Deliberately wrong constructions, kept so that the tests show the score-net checker can
/// fail (theory/06-score-approximation.md, "How we know the tests can fail"): never use
/// them for a real network.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// `+ (1/2) ln det S_k` in the log-weights instead of `- (1/2) ln det S_k`: the
    /// responsibilities favour the wide components. (Invisible when every component has
    /// the same covariance: the term then cancels in the softmax.)
    LogDetSign,
}

/// Sizes of a constructed network, as built and as a pure ReLU-ReQU network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NetworkSizes {
    /// With identity neurons (as built).
    pub built: SizeCounts,
    /// Identity neurons replaced by ReLU pairs ([`Network::to_relu_requ`]).
    pub relu_requ: SizeCounts,
}

/// `x y` where either factor may be a constant (then no neuron is spent).
fn mul(b: &mut Builder, x: &Lin, xs: f64, y: &Lin, ys: f64) -> Lin {
    match (x.as_constant(), y.as_constant()) {
        (Some(cx), _) => y * cx,
        (_, Some(cy)) => x * cy,
        _ => blocks::product(b, x, xs, y, ys),
    }
}

/// `sum_k c_k T_k` over the shared basis.
fn series(basis: &[Lin], fit: &ChebFit) -> Lin {
    let mut out = Lin::constant(0.0);
    for (c, t) in fit.series.coeffs.iter().zip(basis) {
        out = out.axpy(*c, t);
    }
    out
}

impl ScoreNetwork {
    /// Build the network for `mix` at the validated settings `params`.
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// use flowcert::model::{builtin, ScoreField};
    /// let mix = builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(1e-2).check().unwrap()).unwrap();
    /// let (mut s, mut exact) = ([0.0; 2], [0.0; 2]);
    /// net.score_into(&[0.4, -0.2], 0.5, &mut s);
    /// mix.score_into(&[0.4, -0.2], 0.5, &mut exact);
    /// assert!((s[0] - exact[0]).abs() < 1e-2 && (s[1] - exact[1]).abs() < 1e-2);
    /// ```
    pub fn build(mix: &Mixture, params: &ScoreNetParams) -> Result<Self, ApproxError> {
        Self::build_mutated(mix, params, None)
    }

    /// [`ScoreNetwork::build`] with a deliberately wrong construction ([`Mutation`];
    /// `None` is the real one), for the tests that show the checker can fail.
    #[doc(hidden)]
    pub fn build_mutated(
        mix: &Mixture,
        params: &ScoreNetParams,
        mutation: Option<Mutation>,
    ) -> Result<Self, ApproxError> {
        let plan = plan(mix, params)?;
        let net = assemble(mix, params, &plan, mutation);
        Ok(ScoreNetwork {
            net,
            dim: mix.dim(),
            params: *params,
            budget: plan.report,
        })
    }

    /// The network (input `(x, t)`, output the score).
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    /// assert_eq!((net.network().n_in(), net.network().n_out()), (3, 2));
    /// ```
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The settings it was built for.
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    /// assert_eq!(net.params().eps(), 0.1);
    /// ```
    pub fn params(&self) -> &ScoreNetParams {
        &self.params
    }

    /// The error budget (targets, achieved bounds, sizes).
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    /// let b = net.budget();
    /// assert!(b.total_bound + b.rounding_allowance <= 0.1);
    /// ```
    pub fn budget(&self) -> &BudgetReport {
        &self.budget
    }

    /// Depth, width and parameters, as built and as a pure ReLU-ReQU network.
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    /// let s = net.sizes();
    /// assert_eq!(s.built.depth, s.relu_requ.depth);
    /// assert!(s.relu_requ.width >= s.built.width);
    /// ```
    pub fn sizes(&self) -> NetworkSizes {
        NetworkSizes {
            built: self.net.counts(),
            relu_requ: self.net.to_relu_requ().counts(),
        }
    }

    /// The network's score at the given points and one time (checked inputs).
    ///
    /// ```
    /// use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    /// let out = net.score_points(&[vec![0.0, 0.0], vec![1.5, 0.0]], 0.5).unwrap();
    /// assert!(out[0][0].abs() < 0.1);
    /// assert!(net.score_points(&[vec![0.0]], 0.5).is_err());
    /// assert!(net.score_points(&[vec![0.0, 0.0]], -1.0).is_err());
    /// ```
    pub fn score_points(&self, points: &[Vec<f64>], t: f64) -> Result<Vec<Vec<f64>>, ApproxError> {
        Mixture::check_time("t", t)?;
        let d = self.dim;
        for (i, x) in points.iter().enumerate() {
            if x.len() != d {
                return Err(crate::model::ModelError::PointDimension {
                    field: format!("points[{i}]"),
                    got: x.len(),
                    expected: d,
                }
                .into());
            }
            if let Some(j) = x.iter().position(|v| !v.is_finite()) {
                return Err(crate::model::ModelError::NonFinite {
                    field: format!("points[{i}][{j}]"),
                    value: x[j],
                }
                .into());
            }
        }
        let xs = DMatrix::from_fn(d, points.len(), |r, c| points[c][r]);
        let s = self.score_batch(&xs, t);
        Ok((0..points.len())
            .map(|c| s.column(c).iter().copied().collect())
            .collect())
    }
}

impl ScoreField for ScoreNetwork {
    fn dim(&self) -> usize {
        self.dim
    }

    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        let mut input = x.to_vec();
        input.push(t);
        out.copy_from_slice(&self.net.eval(&input));
    }

    fn score_batch(&self, xs: &DMatrix<f64>, t: f64) -> DMatrix<f64> {
        let d = self.dim;
        let inputs = DMatrix::from_fn(d + 1, xs.ncols(), |r, c| if r < d { xs[(r, c)] } else { t });
        self.net.eval_batch(&inputs)
    }
}

/// Wire the blocks (module doc) with the sizes of `plan`.
fn assemble(mix: &Mixture, p: &ScoreNetParams, plan: &Plan, mutation: Option<Mutation>) -> Network {
    let half_logdet = match mutation {
        Some(Mutation::LogDetSign) => 0.5,
        None => -0.5,
    };
    let d = mix.dim();
    let k_n = mix.n_components();
    let multi = k_n >= 2;
    let r = plan.radius;
    let mut b = Builder::new(d + 1);
    let xc: Vec<Lin> = (0..d)
        .map(|i| {
            let xi = b.input(i);
            blocks::clip(&mut b, &xi, -r, r)
        })
        .collect();
    let t_in = b.input(d);
    let tc = blocks::clip(&mut b, &t_in, p.t_min(), p.t_max());
    let u = (tc * (2.0 / (p.t_max() - p.t_min())))
        + (-(p.t_max() + p.t_min()) / (p.t_max() - p.t_min()));
    let n_basis = plan
        .comps
        .iter()
        .filter_map(|c| c.logdet.as_ref())
        .chain([&plan.alpha, &plan.alpha2])
        .map(|f| f.series.degree())
        .max()
        .unwrap_or(0);
    let basis = chebyshev_basis(&mut b, &u, n_basis);
    let alpha = b.materialize(&series(&basis, &plan.alpha));
    let alpha2 = b.materialize(&series(&basis, &plan.alpha2));

    let mut logw: Vec<Lin> = Vec::with_capacity(k_n);
    let mut u_hat: Vec<Vec<Lin>> = Vec::with_capacity(k_n);
    let mut u_bounds: Vec<Vec<f64>> = Vec::with_capacity(k_n);
    for (k, c) in mix.components().iter().enumerate() {
        let cp = &plan.comps[k];
        let q = c.eigvecs.as_slice();
        let mut quad = Lin::constant(0.0);
        let mut uk = Vec::with_capacity(d);
        let mut ub = Vec::with_capacity(d);
        for j in 0..d {
            let mut z = alpha.clone() * (-c.mean_rot[j]);
            for (i, xi) in xc.iter().enumerate() {
                z = z.axpy(q[j * d + i], xi);
            }
            let z = b.materialize(&z);
            let zb = cp.z_bound[j];
            let ib = cp.inv_bound[j];
            let inv = match &cp.recips[j] {
                None => Lin::constant(1.0),
                Some(rp) => {
                    let a = (alpha2.clone() * (c.eigvals[j] - 1.0)) + 1.0;
                    rp.build(&mut b, &a)
                }
            };
            uk.push(mul(&mut b, &z, zb, &inv, ib));
            ub.push(zb * ib);
            if multi {
                let zsq = blocks::square(&mut b, &z, zb);
                // z^2 >= 0 and inv > 0 (Newton iterates stay positive).
                let term = match inv.as_constant() {
                    Some(cv) => zsq * cv,
                    None => blocks::product_nonneg(&mut b, &zsq, zb * zb, &inv, ib),
                };
                quad = quad.axpy(-0.5, &term);
            }
        }
        if let Some(fit) = &cp.logdet {
            let g = series(&basis, fit) * half_logdet + c.log_weight;
            let g = b.materialize(&g);
            logw.push(g + quad);
        }
        u_hat.push(uk);
        u_bounds.push(ub);
    }

    let outputs: Vec<Lin> = if !multi {
        let c = &mix.components()[0];
        let q = c.eigvecs.as_slice();
        (0..d)
            .map(|i| {
                let mut s = Lin::constant(0.0);
                for j in 0..d {
                    s = s.axpy(-q[j * d + i], &u_hat[0][j]);
                }
                s
            })
            .collect()
    } else {
        let sm = plan.softmax.expect("softmax plan for K >= 2");
        let (e_k, e_bound, inv_s) = sm.build_weights(&mut b, &logw);
        // w = sum_k E_k Q_k u_k
        let mut w: Vec<Lin> = vec![Lin::constant(0.0); d];
        for (k, c) in mix.components().iter().enumerate() {
            let q = c.eigvecs.as_slice();
            for j in 0..d {
                let v = blocks::product(&mut b, &e_k[k], e_bound, &u_hat[k][j], u_bounds[k][j]);
                for (i, wi) in w.iter_mut().enumerate() {
                    *wi = wi.axpy(q[j * d + i], &v);
                }
            }
        }
        let w_bound = k_n as f64 * e_bound * plan.u_max;
        let inv_level = b.level(&inv_s);
        w.iter()
            .map(|wi| {
                // Materialise when it costs no depth (w is ready before 1/S).
                let wi = if b.level(wi) < inv_level {
                    b.materialize(wi)
                } else {
                    wi.clone()
                };
                blocks::product(&mut b, &wi, w_bound, &inv_s, 1.0) * -1.0
            })
            .collect()
    };
    b.finish(&outputs)
}
