//! Table and plot of the Lipschitz-mismatch regime experiment (theory/05-mismatch.md), as
//! [`crate::suite::mismatch`] measures it.

use crate::theorems::mismatch::{MismatchReport, MismatchRow};

use super::plot::{PlotSpec, Series, line_plot_svg};
use super::table::{Table, sig};

/// SVG: per mixture, the one-step L2 error, its lower bound and the best N-step L2 error
/// against ln M (log y).
pub fn plot_regime(results: &[(String, MismatchReport)]) -> String {
    let mut series = Vec::new();
    for (name, r) in results {
        let mut budgets: Vec<f64> = r.rows.iter().map(|row| row.budget).collect();
        budgets.dedup();
        let one = |f: &dyn Fn(&MismatchRow) -> Option<f64>| -> Vec<(f64, f64)> {
            budgets
                .iter()
                .filter_map(|&m| {
                    r.rows
                        .iter()
                        .find(|row| row.budget == m && row.segments == 1)
                        .and_then(f)
                        .map(|v| (m.ln(), v))
                })
                .collect()
        };
        let best: Vec<(f64, f64)> = budgets
            .iter()
            .map(|&m| {
                let b = r
                    .rows
                    .iter()
                    .filter(|row| row.budget == m)
                    .map(|row| row.error_l2)
                    .fold(f64::INFINITY, f64::min);
                (m.ln(), b)
            })
            .collect();
        series.push(Series {
            name: format!("{name} one-step L2 error"),
            points: one(&|row| Some(row.error_l2)),
            markers: true,
        });
        series.push(Series {
            name: format!("{name} lower bound (estimate)"),
            points: one(&|row| row.lower_bound_lp),
            markers: true,
        });
        series.push(Series {
            name: format!("{name} best N-step"),
            points: best,
            markers: true,
        });
    }
    let spec = PlotSpec {
        title: "Lipschitz mismatch: one-step error, its lower bound, best composition".into(),
        x_label: "ln M".into(),
        y_label: "L2 error".into(),
        log_x: false,
        log_y: true,
    };
    line_plot_svg(&spec, &series)
}

/// An estimate and its 95% interval, `est [low, high]`, to 3 significant digits.
///
/// ```
/// assert_eq!(flowcert::report::mismatch::with_interval(0.3934, [0.3681, 0.4162]), "0.393 [0.368, 0.416]");
/// ```
pub fn with_interval(estimate: f64, ci: [f64; 2]) -> String {
    format!(
        "{} [{}, {}]",
        sig(estimate, 3),
        sig(ci[0], 3),
        sig(ci[1], 3)
    )
}

/// The regime table, one line per (mixture, budget), numbers to 3 significant digits:
/// `Lambda(T)`, `ln M`, the one-step bounds and error, the best N-step error, and the
/// predicted, obstruction and measured depths. `E_M` is a rigorous lower bound; the `L2`
/// columns are sample quantities over `p_T` (estimates, with their 95% intervals; the
/// bound-versus-error inequality holds draw by draw, theory/05-mismatch.md).
///
/// ```
/// let t = flowcert::report::mismatch::regime_table(&[]);
/// assert!(t.headers.iter().any(|h| h == "predicted N"));
/// ```
pub fn regime_table(results: &[(String, MismatchReport)]) -> Table {
    let mut t = Table::new(&[
        "mixture",
        "Lambda(T)",
        "M",
        "ln M",
        "E_M",
        "LB L2 estimate [95% CI]",
        "1-step L2 estimate [95% CI]",
        "1-step sup",
        "best L2",
        "best N",
        "predicted N",
        "obstruction N",
        "measured N",
    ]);
    for (name, rep) in results {
        for dr in &rep.depth {
            let one = rep
                .rows
                .iter()
                .find(|r| r.budget == dr.budget && r.segments == 1);
            let num = |f: &dyn Fn(&MismatchRow) -> f64| one.map_or("-".into(), |r| sig(f(r), 3));
            t.push(vec![
                name.clone(),
                sig(rep.lambda_t, 3),
                sig(dr.budget, 3),
                sig(dr.budget.ln(), 3),
                num(&|r| r.lower_bound_sup),
                one.and_then(|r| Some(with_interval(r.lower_bound_lp?, r.lower_bound_lp_ci()?)))
                    .unwrap_or_else(|| "-".into()),
                one.map_or("-".into(), |r| with_interval(r.error_l2, r.error_l2_ci())),
                num(&|r| r.error_sup),
                sig(dr.best_error_l2, 3),
                dr.best_segments.to_string(),
                sig(dr.predicted_segments, 3),
                dr.obstruction_segments.to_string(),
                dr.measured_segments
                    .map_or(format!(">{}", dr.deepest_above_threshold), |n| {
                        n.to_string()
                    }),
            ]);
        }
    }
    t
}
