//! Tables and plots of the L(t) and stability checkers (theory/02-lipschitz.md,
//! theory/03-stability.md). The checkers in `crate::theorems` only measure
//! (and the Lambda curves come from [`crate::suite::bounds`]); the formatting lives here.

use crate::bounds::Bound;
use crate::suite::bounds::LambdaCurve;
use crate::theorems::lipschitz::{LipschitzReport, LipschitzRow};
use crate::theorems::stability::{SegmentRow, StabilityReport};

use crate::tolerance::ATTAINED_REL;

use super::plot::{Axis, Figure, Panel, Series};
use super::table::{Table, sig};

/// Significant digits of the report tables.
pub const TABLE_DIGITS: usize = 3;

impl LipschitzReport {
    /// The report as a table with [`TABLE_DIGITS`] significant digits: `t`, the three
    /// bounds (rigorous), both empirical suprema (lower estimates from the search), the
    /// ratios, `R` (`-` for a global bound), a note (`attained` when the search found
    /// `||J|| = L` to [`crate::tolerance::ATTAINED_REL`], `vacuous` when
    /// `L > VACUOUS_FACTOR sup`) and the search effort (local ascents, Jacobian
    /// evaluations).
    ///
    /// ```
    /// use flowcert::bounds::SearchConfig;
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let r = flowcert::theorems::lipschitz::compare_bounds(&mix, &[1.0], &SearchConfig::quick()).unwrap();
    /// let md = r.table().to_markdown();
    /// assert!(md.contains("| L/sup") || md.contains("L/sup"));
    /// assert!(md.contains("1.00") && md.contains("attained")); // two-mode: L is attained
    /// ```
    pub fn table(&self) -> Table {
        let mut tab = Table::new(&[
            "t",
            "L",
            "L paper",
            "mu",
            "sup norm(J)",
            "sup lmax(-J)",
            "L/sup",
            "Lp/sup",
            "mu/sup",
            "R",
            "note",
            "ascents",
            "evals",
        ])
        .with_latex_headers(&[
            "$t$",
            "$L(t)$",
            r"$L_{\mathrm{paper}}$",
            r"$\mu(t)$",
            r"$\sup\|J\|$",
            r"$\sup\lambda_{\max}(-J)$",
            r"$L/\sup$",
            r"$L_{\mathrm{paper}}/\sup$",
            r"$\mu/\sup$",
            "$R$",
            "note",
            "ascents",
            "evals",
        ]);
        let s = |v: f64| sig(v, TABLE_DIGITS);
        for r in &self.rows {
            tab.push(vec![
                s(r.t),
                s(r.bound),
                s(r.bound_paper),
                s(r.one_sided),
                s(r.empirical_sup),
                s(r.empirical_one_sided),
                s(r.ratio),
                s(r.ratio_paper),
                r.ratio_one_sided.map_or_else(|| "-".into(), s),
                r.region_radius.map_or_else(|| "-".into(), s),
                note(r.attained, r.vacuous),
                r.starts.to_string(),
                r.evaluations.to_string(),
            ]);
        }
        tab
    }

    /// The figure against `t` on log-log axes: `L(t)`, the paper's `L`, `mu(t)` (where
    /// positive) as lines, the two empirical suprema as markers; the caption says where a
    /// bound is attained (bound / supremum within [`ATTAINED_REL`] of 1).
    ///
    /// ```
    /// use flowcert::bounds::SearchConfig;
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let r = flowcert::theorems::lipschitz::compare_bounds(&mix, &[0.1, 1.0], &SearchConfig::quick()).unwrap();
    /// let fig = r.bounds_figure("two-mode-s0.3");
    /// assert!(fig.caption.contains("attained"));
    /// assert!(r.bounds_plot_svg("two-mode-s0.3").starts_with("<svg"));
    /// ```
    pub fn bounds_figure(&self, mixture: &str) -> Figure {
        let t_title = time_title("t", mixture);
        let pts = |f: &dyn Fn(&LipschitzRow) -> f64| -> Vec<(f64, f64)> {
            self.rows.iter().map(|r| (r.t, f(r))).collect()
        };
        let series = vec![
            Series::line_markers("L(t), two-sided bound", pts(&|r| r.bound)),
            Series::line_markers("paper bound", pts(&|r| r.bound_paper)),
            Series::line_markers("μ(t), one-sided bound", pts(&|r| r.one_sided)),
            Series::scatter("sup ‖J‖, search", pts(&|r| r.empirical_sup)),
            Series::scatter("sup λmax(−J), search", pts(&|r| r.empirical_one_sided)),
        ];
        let attained = |ratio: f64| (ratio - 1.0).abs() <= ATTAINED_REL;
        let n_attained = self.rows.iter().filter(|r| r.attained).count();
        let mu_attained = self
            .rows
            .iter()
            .filter(|r| r.ratio_one_sided.is_some_and(attained))
            .count();
        let mut caption = format!(
            "{mixture}: bounds on the Jacobian J(x, t) of the PF-ODE velocity against the largest values a search found ({} Jacobian evaluations per time). ",
            self.rows.first().map_or(0, |r| r.evaluations)
        );
        caption.push_str(&match n_attained {
            0 => "L(t) lies above sup ‖J‖ at every time (not attained by the search).".to_string(),
            k if k == self.rows.len() => format!(
                "L(t) is attained at every time: L(t) = sup ‖J‖ to {}.",
                sig(ATTAINED_REL, 1)
            ),
            k => format!(
                "L(t) is attained (L = sup ‖J‖ to {}) at {k} of {} times.",
                sig(ATTAINED_REL, 1),
                self.rows.len()
            ),
        });
        if mu_attained > 0 {
            caption.push_str(&format!(
                " μ(t) = sup λmax(−J) at {mu_attained} of {} times.",
                self.rows.len()
            ));
        }
        if let Some(r) = self.rows.first().and_then(|r| r.region_radius) {
            caption.push_str(&format!(
                " Bounds and search on the ball |x| ≤ {}.",
                sig(r, 3)
            ));
        }
        Figure::new(
            &format!("{mixture}: Lipschitz bounds and empirical suprema"),
            &caption,
            vec![Panel::new(
                Axis::log(&t_title),
                Axis::log("bound on ‖J(x, t)‖, or its supremum"),
                series,
            )],
        )
    }

    /// [`Self::bounds_figure`] as an SVG document.
    pub fn bounds_plot_svg(&self, mixture: &str) -> String {
        self.bounds_figure(mixture).render().svg
    }
}

/// The figure of the three stability coordinates `Lambda(t) = int_{t_min}^t rate`
/// (two-sided, paper, floored one-sided) on a log-`t` axis, from
/// [`crate::suite::bounds::lambda_curves`].
///
/// ```
/// let mix = flowcert::model::builtin::hetero3();
/// let curves = flowcert::suite::bounds::lambda_curves(&mix, 0.01, 3.0, 16).unwrap();
/// let fig = flowcert::report::bounds::lambda_figure(&curves, "hetero3");
/// assert_eq!(fig.panels[0].series.len(), 3);
/// assert!(flowcert::report::bounds::lambda_plot_svg(&curves, "hetero3").starts_with("<svg"));
/// ```
pub fn lambda_figure(curves: &[LambdaCurve], mixture: &str) -> Figure {
    let series = curves
        .iter()
        .map(|c| {
            let name = match c.bound {
                Bound::TwoSided => "Λ(t) of L, two-sided",
                Bound::Paper => "Λ(t) of the paper bound",
                Bound::OneSided => "Λ(t) of max(μ, 0), one-sided",
            };
            Series::line(name, c.points.clone())
        })
        .collect();
    let t_min = curves
        .first()
        .and_then(|c| c.points.first())
        .map_or(0.0, |p| p.0);
    Figure::new(
        &format!("{mixture}: stability coordinate Λ(t)"),
        &format!(
            "{mixture}: the stability coordinate Λ(t) = ∫ rate(s) ds from t_min = {} to t, for the two-sided bound L, the paper bound and the one-sided bound μ floored at 0. A grid with equal increments of Λ is stability-balanced; e^Λ bounds the flow map's amplification.",
            sig(t_min, 3)
        ),
        vec![Panel::new(
            Axis::log(&time_title("t", mixture)),
            Axis::linear("Λ(t) = ∫ rate ds from t_min"),
            series,
        )],
    )
}

/// [`lambda_figure`] as an SVG document.
pub fn lambda_plot_svg(curves: &[LambdaCurve], mixture: &str) -> String {
    lambda_figure(curves, mixture).render().svg
}

/// The note column: `attained`, `vacuous` or `-`.
fn note(attained: bool, vacuous: bool) -> String {
    match (attained, vacuous) {
        (true, _) => "attained".into(),
        (false, true) => "vacuous".into(),
        _ => "-".into(),
    }
}

/// `exp(log)` to [`TABLE_DIGITS`] significant digits, or `e^log` where it overflows.
fn exp_str(log: f64) -> String {
    let v = log.exp();
    if v.is_finite() {
        sig(v, TABLE_DIGITS)
    } else {
        format!("e^{}", sig(log, TABLE_DIGITS))
    }
}

impl StabilityReport {
    /// The report as a table with [`TABLE_DIGITS`] significant digits: one row per
    /// segment (`i = 1..N`) and a last row `all` for the whole interval, with the measured
    /// `max ||DPhi||`, `exp(int mu)`, `exp(int L)`, their exponents, the ratio
    /// `exp(int mu) / measured` (measured maxima are lower estimates of the supremum, the
    /// exponents rigorous), a note (`attained` within the solver's accuracy, `vacuous`
    /// beyond [`crate::tolerance::VACUOUS_FACTOR`]), the points compared (and those not
    /// compared because their path may leave `B_R`: a solver state outside it, or the
    /// continuous-path bound between accepted steps above `R`) and the search effort (local
    /// maximisations, variational solves).
    ///
    /// ```
    /// use flowcert::theorems::stability::{StabilityConfig, measure_segments};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let r = measure_segments(&mix, &[0.1, 0.5, 1.0], &StabilityConfig::quick()).unwrap();
    /// let tab = r.table();
    /// assert_eq!(tab.rows.len(), 3);
    /// assert_eq!(tab.rows[2][0], "all");
    /// ```
    pub fn table(&self) -> Table {
        let mut tab = Table::new(&[
            "segment",
            "t_hi",
            "t_lo",
            "max norm(DPhi)",
            "exp(int mu)",
            "exp(int L)",
            "int mu",
            "int L",
            "ratio",
            "note",
            "points",
            "may leave B_R",
            "ascents",
            "solves",
        ])
        .with_latex_headers(&[
            "segment",
            "$t_i$",
            "$t_{i-1}$",
            r"$\max\|D\Phi\|$",
            r"$e^{\int\mu}$",
            r"$e^{\int L}$",
            r"$\int\mu$",
            r"$\int L$",
            "ratio",
            "note",
            "points",
            "left $B_R$",
            "ascents",
            "solves",
        ]);
        let s = |v: f64| sig(v, TABLE_DIGITS);
        let rows = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, r)| ((i + 1).to_string(), r))
            .chain([("all".to_string(), &self.whole)]);
        for (label, r) in rows {
            tab.push(vec![
                label,
                s(r.t_hi),
                s(r.t_lo),
                r.measured.map_or_else(|| "-".into(), s),
                exp_str(r.int_mu),
                exp_str(r.int_l),
                s(r.int_mu),
                s(r.int_l),
                match r.measured {
                    Some(m) => exp_str(r.int_mu - m.ln()),
                    None => "-".into(),
                },
                note(r.attained, r.vacuous),
                r.points.to_string(),
                r.left_region.to_string(),
                r.starts.to_string(),
                r.evaluations.to_string(),
            ]);
        }
        tab
    }

    /// The figure of the per-segment log-amplifications against the segment's upper time
    /// (log axis): the measured `ln max ||DPhi||` (markers) below the bounds `int mu` and
    /// `int L` (lines).
    ///
    /// ```
    /// use flowcert::theorems::stability::{StabilityConfig, measure_segments};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let r = measure_segments(&mix, &[0.1, 0.5, 1.0], &StabilityConfig::quick()).unwrap();
    /// assert_eq!(r.figure("two-mode-s0.3").panels[0].series.len(), 3);
    /// assert!(r.plot_svg("two-mode-s0.3").starts_with("<svg"));
    /// ```
    pub fn figure(&self, mixture: &str) -> Figure {
        let t_title = time_title("segment upper end t_i", mixture);
        let pts = |f: &dyn Fn(&SegmentRow) -> f64| -> Vec<(f64, f64)> {
            self.segments.iter().map(|r| (r.t_hi, f(r))).collect()
        };
        let series = vec![
            Series::scatter(
                "ln max ‖DΦ‖, measured",
                pts(&|r| r.measured.map_or(f64::NAN, f64::ln)),
            ),
            Series::line_markers("∫μ, one-sided bound", pts(&|r| r.int_mu)),
            Series::line_markers("∫L, two-sided bound", pts(&|r| r.int_l)),
        ];
        let n = self.segments.len();
        let caption = format!(
            "{mixture}: flow-map amplification per segment [t_(i−1), t_i] of a {n}-segment grid on [{}, {}]: the measured ln max ‖DΦ‖ over {} starting points against the exponents ∫μ and ∫L of the bounds exp(∫μ) and exp(∫L) (a measurement above ∫μ would be a violation). Over the whole interval: measured {}, ∫μ = {}, ∫L = {}.",
            sig(self.times.first().copied().unwrap_or(0.0), 3),
            sig(self.times.last().copied().unwrap_or(0.0), 3),
            self.samples,
            self.whole.measured.map_or("—".into(), |m| sig(m.ln(), 3)),
            sig(self.whole.int_mu, 3),
            sig(self.whole.int_l, 3),
        );
        Figure::new(
            &format!("{mixture}: flow-map amplification per segment"),
            &caption,
            vec![Panel::new(
                Axis::log(&t_title),
                Axis::linear("log-amplification over the segment"),
                series,
            )],
        )
    }

    /// [`Self::figure`] as an SVG document.
    pub fn plot_svg(&self, mixture: &str) -> String {
        self.figure(mixture).render().svg
    }
}

/// The title of a time axis: `"{what} (P time)"` where the mixture's report name carries its
/// Gaussian path as `NAME@P` (the process axis, theory/07-gaussian-paths.md), else OU time.
///
/// ```
/// use flowcert::report::bounds::time_title;
/// assert_eq!(time_title("t", "two-mode-s0.1@edm"), "t (edm time)");
/// assert_eq!(time_title("t", "two-mode-s0.1"), "t (OU time)");
/// ```
pub fn time_title(what: &str, mixture: &str) -> String {
    match mixture.rsplit_once('@') {
        Some((_, path)) if path != "ou" => format!("{what} ({path} time)"),
        _ => format!("{what} (OU time)"),
    }
}
