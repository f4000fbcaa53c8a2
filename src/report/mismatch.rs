//! Table and plot of the Lipschitz-mismatch regime experiment (theory/05-mismatch.md), as
//! [`crate::suite::mismatch`] measures it.

use crate::theorems::mismatch::{MismatchReport, MismatchRow};

use super::plot::{Axis, Figure, Panel, Series};
use super::table::{Table, sig};

/// The regime figure: one panel per mixture, against the Lipschitz budget `M` (log axis,
/// integer ticks): the one-step student's L2 error, the proven lower bound on it, and the
/// best L2 error over the tested segment counts N (log y).
///
/// ```
/// let fig = flowcert::report::mismatch::regime_figure(&[]);
/// assert!(fig.panels.is_empty());
/// ```
pub fn regime_figure(results: &[(String, MismatchReport)]) -> Figure {
    let mut panels = Vec::new();
    let mut segments: Vec<usize> = Vec::new();
    for (name, r) in results {
        let mut budgets: Vec<f64> = r.rows.iter().map(|row| row.budget).collect();
        budgets.dedup();
        for row in &r.rows {
            if !segments.contains(&row.segments) {
                segments.push(row.segments);
            }
        }
        let one = |f: &dyn Fn(&MismatchRow) -> Option<f64>| -> Vec<(f64, f64)> {
            budgets
                .iter()
                .filter_map(|&m| {
                    r.rows
                        .iter()
                        .find(|row| row.budget == m && row.segments == 1)
                        .and_then(f)
                        .map(|v| (m, v))
                })
                .collect()
        };
        let best: Vec<(f64, f64)> = r
            .depth
            .iter()
            .map(|d| (d.budget, d.best_error_l2))
            .collect();
        panels.push(
            Panel::new(
                Axis::log("Lipschitz budget M").integer(),
                Axis::log("L² error of the student"),
                vec![
                    Series::line_markers("one-step student", one(&|row| Some(row.error_l2))),
                    Series::line_markers(
                        "lower bound (estimate), one step",
                        one(&|row| row.lower_bound_lp),
                    ),
                    Series::line_markers("best N-step student", best),
                ],
            )
            .titled(&format!("{name}, Λ(T) = {}", sig(r.lambda_t, 3))),
        );
    }
    segments.sort_unstable();
    let caption = format!(
        "Lipschitz mismatch: per mixture, the L² error of a one-step student whose Lipschitz constant is certified ≤ M, the lower bound on any such student's error (a sample estimate over p_T; the sup bound E_M is in the table), and the best error of an N-step composition over N ∈ {{{}}}. One step must fail while ln M < Λ(T); the depth needed is ⌈Λ(T) / ln M⌉.",
        segments
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Figure::new(
        "Lipschitz mismatch: one-step error, its lower bound, best composition",
        &caption,
        panels,
    )
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
/// `Lambda(T)`, `M`, `ln M`, the one-step bounds and error, the best N-step error, and
/// the depths: predicted `ceil(Lambda(T) / ln M)` (the ratio itself beside it), the
/// obstruction depth and the measured one. `E_M` is a rigorous lower bound; the `L2`
/// columns are sample quantities over `p_T` (estimates, with their 95% intervals; the
/// bound-versus-error inequality holds draw by draw, theory/05-mismatch.md).
///
/// ```
/// let t = flowcert::report::mismatch::regime_table(&[]);
/// assert!(t.headers.iter().any(|h| h == "predicted N"));
/// assert!(t.headers.iter().any(|h| h == "Lambda(T)/ln M"));
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
        "Lambda(T)/ln M",
        "predicted N",
        "obstruction N",
        "measured N",
    ])
    .with_caption("Lipschitz mismatch per mixture and budget M: the sup lower bound E_M and the L2 lower bound (LB L2) on the error of any one-step student with Lipschitz constant at most M, the trained one-step student's L2 and sup errors, the best N-step L2 error and its N; the predicted depth ceil(Lambda(T)/ln M), the obstruction depth (smallest N with M^N at least the flow's Lipschitz constant) and the measured depth (smallest N within the saturation factor of the best error; >k: not reached up to the largest N tested).")
    .with_latex_headers(&[
        "mixture",
        r"$\Lambda(T)$",
        "$M$",
        r"$\ln M$",
        "$E_M$",
        r"LB $L^2$",
        r"1-step $L^2$",
        r"1-step sup",
        r"best $L^2$",
        "best $N$",
        r"$\Lambda(T)/\ln M$",
        "predicted $N$",
        "obstruction $N$",
        "measured $N$",
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
                predicted_depth(dr.predicted_segments),
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

/// The predicted depth `ceil(Lambda(T) / ln M)` (at least 1), from the ratio; `-` when the
/// ratio is not finite (M = 1).
///
/// ```
/// use flowcert::report::mismatch::predicted_depth;
/// assert_eq!(predicted_depth(12.4), "13");
/// assert_eq!(predicted_depth(3.0), "3");
/// assert_eq!(predicted_depth(0.2), "1");
/// assert_eq!(predicted_depth(f64::INFINITY), "-");
/// ```
pub fn predicted_depth(ratio: f64) -> String {
    if ratio.is_finite() {
        // A ratio within rounding of an integer is that integer (no spurious +1).
        let r = ratio.max(1.0);
        let n = if (r - r.round()).abs() <= crate::tolerance::EXACT * r {
            r.round()
        } else {
            r.ceil()
        };
        format!("{n:.0}")
    } else {
        "-".into()
    }
}
