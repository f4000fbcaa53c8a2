//! The score-approximation section of the main job (`flowcert reproduce` and
//! `flowcert check`): the theorem check on built-in mixtures, the size table, the
//! dependence table, the DSM comparison, and their SVG plots.
//!
//! ```text
//! quick   two-mode-s0.1 and hetero3, eps in {1e-1, 1e-2, 1e-3}, 6 times, 1000 samples per time
//! full    the whole built-in suite, eps in {1e-1, ..., 1e-5}, 8 times, 4000 samples per time,
//!         the dependence table (eps = 1e-3, 2000 samples at 4 times) and the DSM comparison
//!         (two-mode-s0.1, eps = 1e-3, 10^4 Adam steps of batch 256)
//! ```
//! A violation is a (mixture, eps) whose measured `sup_t` `L^1` or `L^2(p_t)` error exceeds
//! eps: the construction's error budget would be wrong. Everything is seeded, so two runs
//! give the same bytes.
//!
//! This module only formats what [`crate::theorems::score_approx`] and [`crate::theorems::score_approx::trained`]
//! measure (the report layer sits above the theorem layer: data flows one way).

use rayon::prelude::*;
use serde::Serialize;

use crate::approx::budget::ScoreNetConfig;
use crate::approx::error::ApproxError;
use crate::model::builtin;
use crate::report::plot::{PlotSpec, Series, line_plot_svg};
use crate::report::{Table, sig};
use crate::theorems::score_approx::trained::{DsmComparison, DsmConfig, compare_with_dsm};
use crate::theorems::score_approx::{
    CheckConfig, DependenceRow, EPS_LIST, ScalingReport, ScoreNetReport, dependence_table,
    measure_scaling, time_grid,
};

/// Significant digits of the section's tables.
pub const DIGITS: usize = 3;

/// The sweep of one mixture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixtureScaling {
    /// Built-in name.
    pub mixture: String,
    /// One report per eps and the polylog fits.
    pub scaling: ScalingReport,
}

/// The DSM comparison and the mixture it ran on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DsmSection {
    /// Built-in name.
    pub mixture: String,
    /// The comparison.
    pub comparison: DsmComparison,
}

/// Everything the section measured (goes into summary.json).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreNetSection {
    /// Quick configuration?
    pub quick: bool,
    /// The sweep settings shared by every mixture.
    pub config: CheckConfig,
    /// One sweep per mixture.
    pub mixtures: Vec<MixtureScaling>,
    /// Sizes against K, d, separation and t_min (full run only).
    pub dependence: Option<Vec<DependenceRow>>,
    /// The DSM-trained MLP against the construction (full run only).
    pub dsm: Option<DsmSection>,
    /// (mixture, eps) pairs whose measured error exceeded eps.
    pub violations: usize,
}

/// Run the section. Returns the report, the size/accuracy table and the number of
/// violations (module doc for the two configurations).
///
/// ```
/// let (rep, table, violations) = flowcert::report::score_net::score_net_section(true).unwrap();
/// assert_eq!(violations, 0);
/// assert_eq!(table.rows.len(), rep.mixtures.len() * 3);
/// ```
pub fn score_net_section(quick: bool) -> Result<(ScoreNetSection, Table, usize), ApproxError> {
    let base = ScoreNetConfig::default();
    let (names, config): (Vec<&str>, CheckConfig) = if quick {
        (
            vec!["two-mode-s0.1", "hetero3"],
            CheckConfig {
                eps_list: EPS_LIST[..3].to_vec(),
                n_times: 6,
                samples: 1000,
                seed: 0,
                t_min: base.t_min,
                t_max: base.t_max,
            },
        )
    } else {
        (
            crate::model::builtin::Builtin::ALL
                .map(crate::model::builtin::Builtin::name)
                .to_vec(),
            CheckConfig {
                samples: 4000,
                ..CheckConfig::default()
            },
        )
    };
    let mixtures: Vec<MixtureScaling> = names
        .par_iter()
        .map(|&name| {
            let mix = name
                .parse::<crate::model::builtin::Builtin>()
                .map(crate::model::builtin::Builtin::mixture)
                .expect("built-in names parse");
            Ok(MixtureScaling {
                mixture: name.to_string(),
                scaling: measure_scaling(&mix, &config)?,
            })
        })
        .collect::<Result<_, ApproxError>>()?;
    let (dependence, dsm) = if quick {
        (None, None)
    } else {
        let dep = dependence_table(1e-3, 2000, 4, config.seed)?;
        let mix = builtin::two_mode(0.1);
        let p = ScoreNetConfig::new(1e-3).check()?;
        let times = time_grid(p.t_min(), p.t_max(), 8);
        let comparison = compare_with_dsm(
            &mix,
            &p,
            &DsmConfig {
                steps: 10_000,
                ..DsmConfig::default()
            },
            &times,
            config.samples,
            config.seed,
        )?;
        (
            Some(dep),
            Some(DsmSection {
                mixture: "two-mode-s0.1".to_string(),
                comparison,
            }),
        )
    };
    let violations = mixtures
        .iter()
        .flat_map(|m| &m.scaling.rows)
        .filter(|r| !r.passed)
        .count();
    let rows: Vec<(&str, &ScoreNetReport)> = mixtures
        .iter()
        .flat_map(|m| m.scaling.rows.iter().map(|r| (m.mixture.as_str(), r)))
        .collect();
    let table = size_table(&rows);
    Ok((
        ScoreNetSection {
            quick,
            config,
            mixtures,
            dependence,
            dsm,
            violations,
        },
        table,
        violations,
    ))
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
/// use flowcert::report::score_net::{fits_table, MixtureScaling};
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

/// Sizes against the mixture geometry ([`dependence_table`]).
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
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { quick: true, config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
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
    let line =
        |name: &str, f: &dyn Fn(&crate::theorems::score_approx::trained::ComparisonRow) -> f64| {
            Series {
                name: name.to_string(),
                points: c.rows.iter().map(|r| (r.t, f(r))).collect(),
                markers: true,
            }
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
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { quick: true, config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
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
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let config = CheckConfig { eps_list: vec![1e-1, 1e-2], n_times: 1, samples: 20, ..Default::default() };
/// let scaling = measure_scaling(&mix, &config).unwrap();
/// let rep = ScoreNetSection { quick: true, config, mixtures: vec![MixtureScaling { mixture: "m".into(), scaling }],
///     dependence: None, dsm: None, violations: 0 };
/// let tabs = section_tables(&rep);
/// assert_eq!(tabs.len(), 2);
/// ```
pub fn section_tables(section: &ScoreNetSection) -> Vec<(String, Table)> {
    let rows: Vec<(&str, &ScoreNetReport)> = section
        .mixtures
        .iter()
        .flat_map(|m| m.scaling.rows.iter().map(|r| (m.mixture.as_str(), r)))
        .collect();
    let mut out = vec![
        ("score_net_sizes".to_string(), size_table(&rows)),
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
