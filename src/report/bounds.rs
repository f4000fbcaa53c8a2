//! Tables and plots of the L(t) and stability checkers (theory/02-lipschitz.md,
//! theory/03-stability.md). The checkers in `crate::theorems` only measure
//! (and the Lambda curves come from [`crate::suite::bounds`]); the formatting lives here.

use crate::suite::bounds::LambdaCurve;
use crate::theorems::lipschitz::{LipschitzReport, LipschitzRow};
use crate::theorems::stability::{SegmentRow, StabilityReport};

use super::plot::{PlotSpec, Series, line_plot_svg};
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

    /// SVG plot against `t` on log-log axes: `L`, paper `L`, `mu` (where positive) and the
    /// two empirical suprema (markers).
    ///
    /// ```
    /// use flowcert::bounds::SearchConfig;
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let r = flowcert::theorems::lipschitz::compare_bounds(&mix, &[0.1, 1.0], &SearchConfig::quick()).unwrap();
    /// let svg = r.bounds_plot_svg("two-mode-s0.3");
    /// assert!(svg.starts_with("<svg") && svg.contains("two-mode-s0.3"));
    /// ```
    pub fn bounds_plot_svg(&self, title: &str) -> String {
        let line = |name: &str, f: &dyn Fn(&LipschitzRow) -> f64, markers: bool| Series {
            name: name.into(),
            points: self.rows.iter().map(|r| (r.t, f(r))).collect(),
            markers,
        };
        let series = [
            line("L(t) two-sided", &|r| r.bound, false),
            line("L(t) paper", &|r| r.bound_paper, false),
            line("mu(t) one-sided (> 0)", &|r| r.one_sided, false),
            line("sup ||J||", &|r| r.empirical_sup, true),
            line("sup lambda_max(-J) (> 0)", &|r| r.empirical_one_sided, true),
        ];
        let spec = PlotSpec {
            title: format!("{title}: Lipschitz bounds vs empirical suprema"),
            x_label: "t".into(),
            y_label: "1/time".into(),
            log_x: true,
            log_y: true,
        };
        line_plot_svg(&spec, &series)
    }
}

/// SVG plot of the three stability coordinates `Lambda(t) = int_{t_min}^t rate` (two-sided,
/// paper, floored one-sided) on a log-`t` axis, from [`crate::suite::bounds::lambda_curves`].
///
/// ```
/// let mix = flowcert::model::builtin::hetero3();
/// let curves = flowcert::suite::bounds::lambda_curves(&mix, 0.01, 3.0, 16).unwrap();
/// let svg = flowcert::report::bounds::lambda_plot_svg(&curves, "hetero3");
/// assert!(svg.starts_with("<svg"));
/// ```
pub fn lambda_plot_svg(curves: &[LambdaCurve], title: &str) -> String {
    let series: Vec<Series> = curves
        .iter()
        .map(|c| Series {
            name: format!("Lambda {}", c.bound.name()),
            points: c.points.clone(),
            markers: false,
        })
        .collect();
    let spec = PlotSpec {
        title: format!("{title}: stability coordinate Lambda(t)"),
        x_label: "t".into(),
        y_label: "Lambda(t) = int_{t_min}^t rate".into(),
        log_x: true,
        log_y: false,
    };
    line_plot_svg(&spec, &series)
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

    /// SVG plot of the per-segment log-amplifications against the segment's upper time
    /// (log axis): `ln max ||DPhi||`, `int mu` and `int L`.
    ///
    /// ```
    /// use flowcert::theorems::stability::{StabilityConfig, measure_segments};
    /// let mix = flowcert::model::builtin::two_mode(0.3);
    /// let r = measure_segments(&mix, &[0.1, 0.5, 1.0], &StabilityConfig::quick()).unwrap();
    /// assert!(r.plot_svg("two-mode-s0.3").starts_with("<svg"));
    /// ```
    pub fn plot_svg(&self, title: &str) -> String {
        let line = |name: &str, f: &dyn Fn(&SegmentRow) -> f64, markers: bool| Series {
            name: name.into(),
            points: self.segments.iter().map(|r| (r.t_hi, f(r))).collect(),
            markers,
        };
        let series = [
            line(
                "ln max ||DPhi|| (measured)",
                &|r| r.measured.map_or(f64::NAN, f64::ln),
                true,
            ),
            line("int mu (one-sided)", &|r| r.int_mu, false),
            line("int L (two-sided)", &|r| r.int_l, false),
        ];
        let spec = PlotSpec {
            title: format!("{title}: per-segment log-amplification"),
            x_label: "segment upper time t_i".into(),
            y_label: "log amplification".into(),
            log_x: true,
            log_y: false,
        };
        line_plot_svg(&spec, &series)
    }
}
