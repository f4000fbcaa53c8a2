//! Tables and plots of the score-approximation section (theory/06-score-approximation.md):
//! the size/accuracy table, the polylog fits, the dependence table, the DSM comparison.
//! This module only formats what [`crate::suite::score_net`] measured.

use crate::report::plot::{Axis, Figure, Panel, Series};
use crate::report::{Table, sig};
use crate::suite::score_net::{MixtureScaling, ScoreNetSection};
use crate::theorems::score_approx::trained::{ComparisonRow, DsmComparison};
use crate::theorems::score_approx::{DependenceRow, ScoreNetReport};

/// Significant digits of the section's tables.
pub const DIGITS: usize = 3;

/// The size/accuracy table of every (mixture, eps) of a section ([`size_table`]).
///
/// ```
/// use flowcert::suite::{Plan, Scale, Silent, score_net};
/// let s = score_net::section(&Plan::at(Scale::Tiny).score_net, &Silent).unwrap();
/// let t = flowcert::report::score_net::sizes(&s);
/// assert_eq!(t.rows.len(), s.mixtures.len() * s.config.eps_list.len());
/// ```
pub fn sizes(section: &ScoreNetSection) -> Table {
    let rows: Vec<(&str, &ScoreNetReport)> = section
        .mixtures
        .iter()
        .flat_map(|m| m.scaling.rows.iter().map(|r| (m.mixture.as_str(), r)))
        .collect();
    size_table(&rows)
}

/// The size/accuracy table: per (mixture, eps) the depth, width and non-zero parameters of
/// the construction, the measured `sup_t` `L^1` and `L^2(p_t)` errors, the upper 95%
/// confidence limit of the `L^2` one, the proven bound `BudgetReport::total_bound` and
/// whether the theorem held (`DIGITS` significant digits).
///
/// ```
/// use flowcert::{approx::ScoreNetConfig, theorems::score_approx};
/// use flowcert::report::score_net::{size_table};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let rep = score_approx::measure_network(&mix, &ScoreNetConfig::new(0.1).check().unwrap(), &[0.5], 50, 0).unwrap();
/// let t = size_table(&[("two-mode-s0.3", &rep)]);
/// assert_eq!(t.rows[0][1], "0.100");
/// assert_eq!(t.rows[0].last().unwrap(), "yes");
/// ```
pub fn size_table(rows: &[(&str, &ScoreNetReport)]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "eps",
        "depth",
        "width",
        "parameters",
        "sup_t L1",
        "sup_t L2",
        "L2 CI high",
        "bound",
        "holds",
    ])
    .with_caption("The explicit ReLU-ReQU score network per mixture and target accuracy eps: depth, width and non-zero parameters of the construction, the measured sup over t of the L1 and L2(p_t) errors, the upper end of the 95% interval of the L2 one, the proven error bound, and whether the measured errors stay below eps.")
    .with_latex_headers(&[
        "mixture",
        r"$\varepsilon$",
        "depth",
        "width",
        "parameters",
        r"$\sup_t L^1$",
        r"$\sup_t L^2$",
        r"$L^2$ CI high",
        "bound",
        "holds",
    ]);
    for (name, r) in rows {
        t.push(vec![
            name.to_string(),
            sig(r.eps, DIGITS),
            r.depth.to_string(),
            r.width.to_string(),
            r.parameters.to_string(),
            sig(r.sup_l1, DIGITS),
            sig(r.sup_l2, DIGITS),
            sig(r.sup_l2_ci_high, DIGITS),
            sig(r.budget.total_bound, DIGITS),
            if r.passed { "yes" } else { "NO" }.to_string(),
        ]);
    }
    t
}

/// The fitted polylog exponents `b` (size ~ `log(1/eps)^b`) per mixture.
///
/// ```
/// use flowcert::theorems::score_approx::{measure_scaling, CheckConfig};
/// use flowcert::report::score_net::fits_table;
/// use flowcert::suite::score_net::MixtureScaling;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let cfg = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let m = MixtureScaling { mixture: "m".into(), scaling: measure_scaling(&mix, &cfg).unwrap() };
/// assert_eq!(fits_table(&[m]).rows.len(), 1);
/// ```
pub fn fits_table(mixtures: &[MixtureScaling]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "b depth",
        "b width",
        "b parameters",
        "R^2 parameters",
    ])
    .with_caption("Fitted polylog exponents b of size ~ ln(1/eps)^b per mixture (least squares on log-log axes), for depth, width and parameters, and the R^2 of the parameter fit.")
    .with_latex_headers(&[
        "mixture",
        "$b$ depth",
        "$b$ width",
        "$b$ parameters",
        "$R^2$ parameters",
    ]);
    for m in mixtures {
        let f = &m.scaling.fits;
        t.push(vec![
            m.mixture.clone(),
            sig(f.depth.exponent, DIGITS),
            sig(f.width.exponent, DIGITS),
            sig(f.parameters.exponent, DIGITS),
            sig(f.parameters.r2, DIGITS),
        ]);
    }
    t
}

/// Sizes against the mixture geometry ([`crate::theorems::score_approx::dependence_table`]).
///
/// ```
/// let rows = flowcert::theorems::score_approx::dependence_table(1e-1, 0, 1, 0).unwrap();
/// let t = flowcert::report::score_net::dependence_report_table(&rows);
/// assert_eq!(t.rows.len(), rows.len());
/// assert_eq!(t.rows[0][8], "-");
/// ```
pub fn dependence_report_table(rows: &[DependenceRow]) -> Table {
    let mut t = Table::new(&[
        "factor",
        "value",
        "depth",
        "width",
        "parameters",
        "box R",
        "Chebyshev degree",
        "Newton steps",
        "sup_t L2",
    ])
    .with_caption("Size of the construction against one factor of the mixture geometry at a time (components K, dimension d, separation, t_min): depth, width, parameters, the box radius, Chebyshev degree and Newton steps of the construction, and the measured sup over t of the L2 error.")
    .with_latex_headers(&[
        "factor",
        "value",
        "depth",
        "width",
        "parameters",
        "box $R$",
        "Chebyshev degree",
        "Newton steps",
        r"$\sup_t L^2$",
    ]);
    for r in rows {
        t.push(vec![
            r.factor.clone(),
            sig(r.value, DIGITS),
            r.depth.to_string(),
            r.width.to_string(),
            r.parameters.to_string(),
            sig(r.box_radius, DIGITS),
            r.chebyshev_degree.to_string(),
            r.newton_steps.to_string(),
            r.sup_l2.map_or("-".to_string(), |v| sig(v, DIGITS)),
        ]);
    }
    t
}

/// The `L^2(p_t)` error across `t` of the construction and of the DSM-trained MLP.
///
/// ```
/// use flowcert::{theorems::score_approx::trained::{compare_with_dsm, DsmConfig}, approx::ScoreNetConfig};
/// use flowcert::report::score_net::dsm_table;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let c = compare_with_dsm(&mix, &p, &DsmConfig { steps: 5, batch: 8, ..Default::default() }, &[0.1, 1.0], 20, 0).unwrap();
/// assert_eq!(dsm_table(&c).rows.len(), 2);
/// ```
pub fn dsm_table(c: &DsmComparison) -> Table {
    let mut t = Table::new(&["t", "construction L2", "DSM MLP L2", "DSM / construction"])
        .with_caption("L2(p_t) error of the score across t: the explicit construction against an MLP of comparable size trained by denoising score matching, and their ratio.")
        .with_latex_headers(&["$t$", r"construction $L^2$", r"DSM MLP $L^2$", "DSM / construction"]);
    for r in &c.rows {
        t.push(vec![
            sig(r.t, DIGITS),
            sig(r.constructive.lp_error, DIGITS),
            sig(r.trained.lp_error, DIGITS),
            sig(r.trained.lp_error / r.constructive.lp_error, DIGITS),
        ]);
    }
    t
}

/// Non-zero parameters against `ln(1/eps)`, one line per mixture, log-log axes (so the
/// slope is the fitted polylog exponent).
///
/// ```
/// use flowcert::theorems::score_approx::{measure_scaling, CheckConfig};
/// use flowcert::report::score_net::*;
/// use flowcert::suite::score_net::{MixtureScaling, ScoreNetSection};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
///     dependence: None, dsm: None, violations: 0 };
/// assert_eq!(sizes_figure(&rep).panels[0].series.len(), 1);
/// ```
pub fn sizes_figure(section: &ScoreNetSection) -> Figure {
    let series: Vec<Series> = section
        .mixtures
        .iter()
        .map(|m| {
            Series::line_markers(
                &m.mixture,
                m.scaling
                    .rows
                    .iter()
                    .map(|r| ((1.0 / r.eps).ln(), r.parameters as f64))
                    .collect(),
            )
        })
        .collect();
    let eps = &section.config.eps_list;
    let (lo, hi) = eps
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &e| (a.min(e), b.max(e)));
    Figure::new(
        "Score network size against the target accuracy",
        &format!(
            "Non-zero parameters of the explicit ReLU-ReQU score network that meets accuracy ε (sup over t of the L² error), for ε from {} down to {}, per mixture. On these log-log axes the slope is the exponent b of size ∝ ln(1/ε)^b (fitted in score_net_fits).",
            sig(hi, 3),
            sig(lo, 3)
        ),
        vec![Panel::new(
            Axis::log("ln(1/ε)"),
            Axis::log("non-zero parameters"),
            series,
        )],
    )
}

/// `L^2(p_t)` error against `t` of the construction and of the DSM-trained MLP of the same
/// size, with the target eps, log-log axes.
///
/// ```
/// use flowcert::{theorems::score_approx::trained::{compare_with_dsm, DsmConfig}, approx::ScoreNetConfig};
/// use flowcert::report::score_net::dsm_figure;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let c = compare_with_dsm(&mix, &p, &DsmConfig { steps: 5, batch: 8, ..Default::default() }, &[0.1, 1.0], 20, 0).unwrap();
/// assert_eq!(dsm_figure(&c, "two-mode-s0.3").panels[0].series.len(), 3);
/// ```
pub fn dsm_figure(c: &DsmComparison, mixture: &str) -> Figure {
    let line = |name: &str, f: &dyn Fn(&ComparisonRow) -> f64| {
        Series::line_markers(name, c.rows.iter().map(|r| (r.t, f(r))).collect())
    };
    let eps = Series::line(
        &format!("target ε = {}", sig(c.eps, DIGITS)),
        c.rows.iter().map(|r| (r.t, c.eps)).collect(),
    );
    Figure::new(
        "Score error across t: construction against a DSM-trained MLP",
        &format!(
            "{mixture}: L²(p_t) error of the score, ‖s_θ(·, t) − ∇log p_t‖, across t, for the explicit construction at ε = {} ({} parameters) and for an MLP of comparable size ({} parameters) trained by denoising score matching.",
            sig(c.eps, DIGITS),
            c.constructive_parameters,
            c.trained_parameters
        ),
        vec![Panel::new(
            Axis::log("t (OU time)"),
            Axis::log("L²(p_t) error of the score"),
            vec![
                line("explicit construction", &|r| r.constructive.lp_error),
                line("DSM-trained MLP", &|r| r.trained.lp_error),
                eps,
            ],
        )],
    )
}

/// Every figure of the section as `(file stem, figure)`: the sizes always, the DSM
/// comparison when it ran.
///
/// ```
/// use flowcert::theorems::score_approx::{measure_scaling, CheckConfig};
/// use flowcert::report::score_net::*;
/// use flowcert::suite::score_net::{MixtureScaling, ScoreNetSection};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
///     dependence: None, dsm: None, violations: 0 };
/// let figs = section_figures(&rep);
/// assert_eq!(figs[0].0, "score_net_sizes");
/// ```
pub fn section_figures(section: &ScoreNetSection) -> Vec<(String, Figure)> {
    let mut out = vec![("score_net_sizes".to_string(), sizes_figure(section))];
    if let Some(d) = &section.dsm {
        out.push((
            "score_net_dsm".to_string(),
            dsm_figure(&d.comparison, &d.mixture),
        ));
    }
    out
}

/// Every table of the section as `(file stem, table)`: sizes, fits, and (full run) the
/// dependence and DSM tables.
///
/// ```
/// use flowcert::theorems::score_approx::{measure_scaling, CheckConfig};
/// use flowcert::report::score_net::*;
/// use flowcert::suite::score_net::{MixtureScaling, ScoreNetSection};
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
///     dependence: None, dsm: None, violations: 0 };
/// let tabs = section_tables(&rep);
/// assert_eq!(tabs.len(), 2);
/// ```
pub fn section_tables(section: &ScoreNetSection) -> Vec<(String, Table)> {
    let mut out = vec![
        ("score_net_sizes".to_string(), sizes(section)),
        ("score_net_fits".to_string(), fits_table(&section.mixtures)),
    ];
    if let Some(dep) = &section.dependence {
        out.push((
            "score_net_dependence".to_string(),
            dependence_report_table(dep),
        ));
    }
    if let Some(d) = &section.dsm {
        out.push(("score_net_dsm".to_string(), dsm_table(&d.comparison)));
    }
    out
}
