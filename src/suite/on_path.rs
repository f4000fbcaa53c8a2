//! The suite on another Gaussian path (theory/07-gaussian-paths.md): every time of a
//! [`Plan`] is an OU time; [`Plan::on_process`] maps each one to the time of the path with
//! the same noise ratio `sigma/alpha` (`Process::matched_time`, the time change of
//! theory/07, Theorem 6), and [`Case::on_process`] puts a case's mixture on the path. Both
//! together are what `flowcert check --process NAME` runs: every checker over the same
//! range of signal-to-noise ratios as on OU, so that the rows of two paths compare the same
//! stretch of the noising process.
//!
//! On OU both are the identity (the plan and the cases are returned as they are, so the OU
//! results stay bit for bit what they were).

use super::plan::Plan;
use super::{Case, SuiteError};
use crate::model::process::Process;
use crate::theorems::mismatch::SegmentGrid;

/// Relative tolerance on the noise ratio of a matched time: the inverse of a built-in path
/// is closed form or a bisection to adjacent doubles, so a larger mismatch means the OU
/// ratio lies outside what the path can reach (a bisection stopped at the domain's end).
const MATCH_RTOL: f64 = 1e-9;

/// The time of `p` with the noise ratio OU has at `t`, checked: inside the path's domain
/// and with that noise ratio. `field` names the plan field in the error.
///
/// ```
/// use flowcert::model::process::ProcessSpec;
/// use flowcert::suite::on_path::matched;
/// let rf = ProcessSpec::named("rectified").check().unwrap();
/// let r = 2f64.exp_m1().sqrt(); // OU's sigma/alpha at t = 1
/// assert!((matched(&rf, "t", 1.0).unwrap() - r / (1.0 + r)).abs() < 1e-14);
/// // EDM cut at sigma_max = 10 cannot reach OU's t = 3 (sigma/alpha = 20.06):
/// let edm = ProcessSpec { sigma_max: Some(10.0), ..ProcessSpec::named("edm") }.check().unwrap();
/// let e = matched(&edm, "bounds.t_max", 3.0).unwrap_err().to_string();
/// assert!(e.contains("bounds.t_max") && e.contains("20.06"), "{e}");
/// ```
pub fn matched(p: &Process, field: &str, t: f64) -> Result<f64, SuiteError> {
    let ou = Process::default();
    let ratio = ou.noise_ratio(t);
    let u = p.matched_time(&ou, t);
    let off = |source| SuiteError::OffPath {
        field: field.to_string(),
        ou_time: t,
        ratio,
        source: Box::new(source),
    };
    let u = p.check_time(field, u).map_err(off)?;
    let got = p.noise_ratio(u);
    if (got - ratio).abs() > MATCH_RTOL * ratio {
        // The domain's end, reached by a bisection that could not match the ratio.
        return Err(off(crate::model::ModelError::TimeOutsidePath {
            field: field.to_string(),
            value: u,
            process: p.label(),
            range: p.domain().to_string(),
        }));
    }
    Ok(u)
}

impl Plan {
    /// This plan on the path `p`: every OU time mapped to `p`'s time with the same noise
    /// ratio (the L(t) report times, the stability, composition, mismatch, score-net and
    /// distillation intervals, the Lambda plot interval). Grid *kinds* stay (each is built
    /// from the path's own coordinate: its own `L`, log-SNR, `sigma/alpha`); explicit
    /// mismatch grids are mapped time by time. The process axis (`paths`) is already
    /// per path and is left alone. On OU the plan is returned unchanged.
    ///
    /// Errors: [`SuiteError::OffPath`] when a time has no matched time on `p` (e.g. `edm`
    /// with `--sigma-max` below OU's noise ratio at `T`), naming the plan field.
    ///
    /// ```
    /// use flowcert::model::process::ProcessSpec;
    /// use flowcert::suite::{Plan, Scale};
    /// let vp = ProcessSpec::named("vp-linear").check().unwrap();
    /// let plan = Plan::at(Scale::Tiny).on_process(&vp).unwrap();
    /// assert!(plan.bounds.t_max < 1.0 && plan.composition.t_min > 0.0);
    /// let ou = Plan::at(Scale::Tiny).on_process(&Default::default()).unwrap();
    /// assert_eq!(ou.bounds.times, Plan::at(Scale::Tiny).bounds.times);
    /// ```
    pub fn on_process(mut self, p: &Process) -> Result<Plan, SuiteError> {
        if p.is_ou() {
            return Ok(self);
        }
        let m = |field: &str, t: f64| matched(p, field, t);
        let b = &mut self.bounds;
        b.times = b
            .times
            .iter()
            .enumerate()
            .map(|(i, &t)| m(&format!("bounds.times[{i}]"), t))
            .collect::<Result<_, _>>()?;
        b.t_min = m("bounds.t_min", b.t_min)?;
        b.t_max = m("bounds.t_max", b.t_max)?;
        b.lambda_interval = (
            m("bounds.lambda_interval.0", b.lambda_interval.0)?,
            m("bounds.lambda_interval.1", b.lambda_interval.1)?,
        );
        let c = &mut self.composition;
        c.t_min = m("composition.t_min", c.t_min)?;
        c.t_max = m("composition.t_max", c.t_max)?;
        let mm = &mut self.mismatch.config;
        mm.t_min = m("mismatch.t_min", mm.t_min)?;
        mm.t_max = m("mismatch.t_max", mm.t_max)?;
        if let SegmentGrid::Explicit { grids } = &mut mm.grid {
            for (i, g) in grids.iter_mut().enumerate() {
                for (j, t) in g.iter_mut().enumerate() {
                    *t = m(&format!("mismatch.grid[{i}][{j}]"), *t)?;
                }
            }
        }
        let s = &mut self.score_net.sweep;
        s.t_min = m("score_net.t_min", s.t_min)?;
        s.t_max = m("score_net.t_max", s.t_max)?;
        let d = &mut self.distill;
        d.t_min = m("distill.t_min", d.t_min)?;
        d.t_max = m("distill.t_max", d.t_max)?;
        Ok(self)
    }
}

impl Case {
    /// This case with its mixture on the path `p` (the name is kept: reports name the
    /// path once, in their `process` field).
    pub fn on_process(self, p: &Process) -> Case {
        Case {
            name: self.name,
            mixture: self.mixture.with_process(p.clone()),
        }
    }
}
