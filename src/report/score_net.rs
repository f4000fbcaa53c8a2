//! Tables and plots of the score-approximation section (theory/06-score-approximation.md):
//! the size/accuracy table, the polylog fits, the dependence table, the DSM comparison.
//! This module only formats what [`crate::suite::score_net`] measured.

use crate::report::plot::{PlotSpec, Series, line_plot_svg};
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
    let mut t = Table::new(&["t", "construction L2", "DSM MLP L2", "DSM / construction"]);
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
/// assert!(plot_sizes(&rep).starts_with("<svg"));
/// ```
pub fn plot_sizes(section: &ScoreNetSection) -> String {
    let series: Vec<Series> = section
        .mixtures
        .iter()
        .map(|m| Series {
            name: m.mixture.clone(),
            points: m
                .scaling
                .rows
                .iter()
                .map(|r| ((1.0 / r.eps).ln(), r.parameters as f64))
                .collect(),
            markers: true,
        })
        .collect();
    line_plot_svg(
        &PlotSpec {
            title: "Score network size against the target accuracy".into(),
            x_label: "ln(1/eps)".into(),
            y_label: "non-zero parameters".into(),
            log_x: true,
            log_y: true,
        },
        &series,
    )
}

/// `L^2(p_t)` error against `t` of the construction and of the DSM-trained MLP of the same
/// size, with the target eps, log-log axes.
///
/// ```
/// use flowcert::{theorems::score_approx::trained::{compare_with_dsm, DsmConfig}, approx::ScoreNetConfig};
/// use flowcert::report::score_net::plot_dsm;
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let p = ScoreNetConfig::new(0.1).check().unwrap();
/// let c = compare_with_dsm(&mix, &p, &DsmConfig { steps: 5, batch: 8, ..Default::default() }, &[0.1, 1.0], 20, 0).unwrap();
/// assert!(plot_dsm(&c).starts_with("<svg"));
/// ```
pub fn plot_dsm(c: &DsmComparison) -> String {
    let line = |name: &str, f: &dyn Fn(&ComparisonRow) -> f64| Series {
        name: name.to_string(),
        points: c.rows.iter().map(|r| (r.t, f(r))).collect(),
        markers: true,
    };
    let eps = Series {
        name: format!("target eps = {}", sig(c.eps, DIGITS)),
        points: c.rows.iter().map(|r| (r.t, c.eps)).collect(),
        markers: false,
    };
    line_plot_svg(
        &PlotSpec {
            title: format!(
                "L2(p_t) error: construction ({} parameters) vs DSM MLP ({})",
                c.constructive_parameters, c.trained_parameters
            ),
            x_label: "t".into(),
            y_label: "||s_theta - s||_{L2(p_t)}".into(),
            log_x: true,
            log_y: true,
        },
        &[
            line("construction", &|r| r.constructive.lp_error),
            line("DSM-trained MLP", &|r| r.trained.lp_error),
            eps,
        ],
    )
}

/// Every plot of the section as `(file name, SVG)`: the sizes always, the DSM comparison
/// when it ran.
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
/// let plots = section_plots(&rep);
/// assert_eq!(plots[0].0, "score_net_sizes.svg");
/// ```
pub fn section_plots(section: &ScoreNetSection) -> Vec<(String, String)> {
    let mut out = vec![("score_net_sizes.svg".to_string(), plot_sizes(section))];
    if let Some(d) = &section.dsm {
        out.push(("score_net_dsm.svg".to_string(), plot_dsm(&d.comparison)));
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
