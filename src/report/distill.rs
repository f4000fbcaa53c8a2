//! Tables and plots of the distillation experiment (theory/04-composition-and-grids.md).

use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::DistillSummary;
use crate::experiments::stats::LogReduction;
use crate::grids::GridKind;

use super::plot::{Axis, Figure, IntervalStyle, Panel, Series};
use super::table::{Table, sig};

/// Wide table: one row per (mixture, N), one column per grid: mean relative MSE over seeds.
///
/// ```
/// let s = flowcert::experiments::distill_summary::summarize_rows(&[]);
/// assert!(flowcert::report::distill::mse_table(&s, 3).rows.is_empty());
/// ```
pub fn mse_table(s: &DistillSummary, digits: usize) -> Table {
    let mut grids: Vec<String> = Vec::new();
    for g in &s.stats {
        if !grids.contains(&g.grid) {
            grids.push(g.grid.clone());
        }
    }
    let mut headers = vec!["mixture".to_string(), "N".to_string()];
    headers.extend(grids.iter().cloned());
    let mut tab = Table {
        headers,
        caption: "Relative MSE E|Psi(x) - Phi(x)|^2 / E|Phi(x)|^2 of the composed students per mixture, segment count N and grid: mean over seeds.".into(),
        ..Table::default()
    };
    let mut keys: Vec<(String, usize)> = Vec::new();
    for g in &s.stats {
        let k = (g.mixture.clone(), g.segments);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (m, n) in keys {
        let mut row = vec![m.clone(), n.to_string()];
        for g in &grids {
            let v = s
                .stats
                .iter()
                .find(|x| x.mixture == m && x.segments == n && &x.grid == g);
            row.push(
                v.map(|x| sig(x.rel_mse.mean, digits))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        tab.push(row);
    }
    tab
}

/// Long table: every (mixture, grid, N) with mean, std and 95% interval over seeds (the
/// relative MSE is a sample estimate), the bound, and whether the proof covers the bound
/// (`no` where `Lambda` is local to a ball the experiment does not confine to;
/// `DistillRow::bound_rigorous`).
///
/// ```
/// let s = flowcert::experiments::distill_summary::summarize_rows(&[]);
/// let t = flowcert::report::distill::mse_long_table(&s, 3);
/// assert_eq!((t.headers[8].as_str(), t.headers[9].as_str()), ("bound", "bound rigorous"));
/// ```
pub fn mse_long_table(s: &DistillSummary, digits: usize) -> Table {
    let mut tab = Table::new(&[
        "mixture",
        "grid",
        "N",
        "seeds",
        "rel_mse mean",
        "std",
        "95% low",
        "95% high",
        "bound",
        "bound rigorous",
        "Lambda(T)",
    ])
    .with_caption("Relative MSE per mixture, grid and N over seeds: mean, sample standard deviation and 95% Student-t interval of the mean; the composition bound (mean over seeds) and Lambda(T) of the two-sided bound.")
    .with_latex_headers(&[
        "mixture",
        "grid",
        "$N$",
        "seeds",
        "mean",
        "std",
        "95\\% low",
        "95\\% high",
        "bound",
        "$\\Lambda(T)$",
    ]);
    for g in &s.stats {
        tab.push(vec![
            g.mixture.clone(),
            g.grid.clone(),
            g.segments.to_string(),
            g.rel_mse.n.to_string(),
            sig(g.rel_mse.mean, digits),
            sig(g.rel_mse.std, digits),
            sig(g.rel_mse.ci_low, digits),
            sig(g.rel_mse.ci_high, digits),
            sig(g.bound_mean, digits),
            if g.bound_rigorous { "yes" } else { "no" }.into(),
            sig(g.lambda_total, digits),
        ]);
    }
    tab
}

/// Paired reductions at every (mixture, N): balanced vs uniform on the log scale
/// (`1 - exp(mean ln(mse_balanced / mse_uniform))` over seeds) with its 95% interval (from
/// 3 paired seeds on; "n/a (k seeds)" below) and the arithmetic `1 - mean/mean` beside it;
/// then the best grid (lowest mean) and its log-scale reduction against uniform.
///
/// ```
/// let s = flowcert::experiments::distill_summary::summarize_rows(&[]);
/// let t = flowcert::report::distill::reduction_table(&s, 3);
/// assert_eq!(t.headers[3], "balanced vs uniform");
/// ```
pub fn reduction_table(s: &DistillSummary, digits: usize) -> Table {
    let mut tab = Table::new(&[
        "mixture",
        "N",
        "seeds",
        "balanced vs uniform",
        "95% interval",
        "of means",
        "best grid",
        "best vs uniform",
    ])
    .with_caption(&format!(
        "Reduction of the relative MSE against the uniform grid, paired over seeds (same evaluation points): 1 - exp(mean of ln(MSE_grid / MSE_uniform)), with the 95% interval mapped from the Student-t interval of the log ratios (shown from {MIN_INTERVAL_SEEDS} paired seeds on), and the arithmetic reduction of the means 1 - mean/mean beside it. Best grid: the lowest mean MSE."
    ))
    .with_latex_headers(&[
        "mixture",
        "$N$",
        "seeds",
        "balanced vs uniform",
        "95\\% interval",
        "of means",
        "best grid",
        "best vs uniform",
    ]);
    for r in &s.balanced_vs_uniform {
        let best = s
            .best_vs_others
            .iter()
            .find(|b| b.mixture == r.mixture && b.segments == r.segments);
        let (best_name, best_vs_uni) = match best {
            Some(b) => {
                let vu = s
                    .best_vs_others
                    .iter()
                    .find(|x| {
                        x.mixture == r.mixture
                            && x.segments == r.segments
                            && x.baseline == "uniform"
                    })
                    .map(|x| pct(x.log_scale.reduction, digits))
                    .unwrap_or_else(|| "-".into());
                (b.grid.clone(), vu)
            }
            None => ("(all equal)".into(), "-".into()),
        };
        let lr = &r.log_scale;
        tab.push(vec![
            r.mixture.clone(),
            r.segments.to_string(),
            lr.n.to_string(),
            pct(lr.reduction, digits),
            interval_cell(lr, digits),
            pct(r.of_means, digits),
            best_name,
            best_vs_uni,
        ]);
    }
    tab
}

/// The 95% interval of a log-scale reduction as a table cell: `[lo%, hi%]`, or
/// `n/a (k seeds)` below [`MIN_INTERVAL_SEEDS`] paired seeds (never a point shown as an
/// interval).
///
/// ```
/// use flowcert::experiments::stats::LogReduction;
/// let lr = LogReduction { n: 2, reduction: 0.2, interval: None };
/// assert_eq!(flowcert::report::distill::interval_cell(&lr, 3), "n/a (2 seeds)");
/// ```
pub fn interval_cell(lr: &LogReduction, digits: usize) -> String {
    match lr.interval {
        Some((lo, hi)) => format!("[{}, {}]", pct(lo, digits), pct(hi, digits)),
        None => format!("n/a ({} seed{})", lr.n, if lr.n == 1 { "" } else { "s" }),
    }
}

/// A fraction as a percentage with fixed significant digits.
///
/// ```
/// assert_eq!(flowcert::report::distill::pct(0.519, 3), "51.9%");
/// ```
pub fn pct(v: f64, digits: usize) -> String {
    format!("{}%", sig(100.0 * v, digits))
}

/// Intervals are drawn (and reductions get an interval) only from this many seeds on: a
/// Student-t interval from two values has a 12.7 x standard-error half-width.
pub const MIN_INTERVAL_SEEDS: usize = 3;

/// The grids among `names`, in the order of [`GridKind::all`] (unknown names last, in
/// order of appearance), so that a grid has the same colour and marker in every figure.
fn grids_of<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for g in names {
        if !out.contains(&g) {
            out.push(g);
        }
    }
    let rank = |g: &str| {
        GridKind::all()
            .iter()
            .position(|k| k.name() == g)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|g| rank(g));
    out
}

/// Mean relative MSE against N, one series per grid (log-log, integer N ticks), with the
/// 95% Student-t interval of the mean over seeds as bars when there are at least
/// [`MIN_INTERVAL_SEEDS`] seeds, for one mixture.
///
/// ```
/// let s = flowcert::experiments::distill_summary::summarize_rows(&[]);
/// let fig = flowcert::report::distill::mse_vs_n_figure(&s, "m");
/// assert!(fig.panels[0].series.is_empty() && fig.panels[0].x.integer);
/// ```
pub fn mse_vs_n_figure(s: &DistillSummary, mixture: &str) -> Figure {
    let stats: Vec<_> = s.stats.iter().filter(|g| g.mixture == mixture).collect();
    let seeds = stats.iter().map(|g| g.rel_mse.n).min().unwrap_or(0);
    let bars = seeds >= MIN_INTERVAL_SEEDS;
    let series = grids_of(stats.iter().map(|g| g.grid.as_str()))
        .into_iter()
        .map(|grid| {
            let mine: Vec<_> = stats.iter().filter(|g| g.grid == grid).collect();
            let points = mine
                .iter()
                .map(|g| (g.segments as f64, g.rel_mse.mean))
                .collect();
            let line = Series::line_markers(grid, points);
            if bars {
                line.with_intervals(
                    mine.iter()
                        .map(|g| (g.rel_mse.ci_low, g.rel_mse.ci_high))
                        .collect(),
                    IntervalStyle::Bars,
                )
            } else {
                line
            }
        })
        .collect();
    let mut caption = format!(
        "{mixture}: end-to-end relative MSE E|Ψ(x) − Φ(x)|² / E|Φ(x)|² of the composed students against the number of segments N, mean over {seeds} seed{} per grid, at a fixed student budget per segment. {}",
        if seeds == 1 { "" } else { "s" },
        if bars {
            "Bars: 95% Student-t interval of the mean over seeds (slightly offset per grid so they do not hide one another; lower ends below the axis are cut)."
        } else {
            "No interval bars: fewer than 3 seeds."
        }
    );
    if stats.iter().any(|g| g.segments == 1) {
        caption.push_str(" At N = 1 every grid is the same single segment [t_min, T], so all grids share one point.");
    }
    Figure::new(
        &format!("{mixture}: relative MSE against N"),
        &caption,
        vec![Panel::new(
            Axis::log("segments N").integer(),
            Axis::log("relative MSE"),
            series,
        )],
    )
}

/// Each grid's times on the normalised stability axis `Lambda(t_i)/Lambda(T)` against
/// `i/N` (the balanced grid is the diagonal), at one N, for one mixture.
///
/// ```
/// let fig = flowcert::report::distill::grids_on_lambda_figure(&[], "m", 8);
/// assert!(fig.panels[0].series.is_empty());
/// ```
pub fn grids_on_lambda_figure(rows: &[DistillRow], mixture: &str, n: usize) -> Figure {
    let mine: Vec<&DistillRow> = rows
        .iter()
        .filter(|r| r.mixture == mixture && r.segments == n)
        .collect();
    let series = grids_of(mine.iter().map(|r| r.grid.as_str()))
        .into_iter()
        .filter_map(|grid| {
            let r = mine.iter().find(|r| r.grid == grid)?;
            let total = r.lambda[n] - r.lambda[0];
            Some(Series::line_markers(
                grid,
                r.lambda
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (i as f64 / n as f64, (l - r.lambda[0]) / total))
                    .collect(),
            ))
        })
        .collect();
    Figure::new(
        &format!("{mixture}: grids on the Λ axis, N = {n}"),
        &format!(
            "{mixture}: where each grid puts its {n} segments on the normalised stability coordinate Λ(t_i) / Λ(T) (Λ of the two-sided bound L, from t_min). The balanced grid is the diagonal: equal increments of Λ."
        ),
        vec![Panel::new(
            Axis::linear("i / N").range(-0.03, 1.03),
            Axis::linear("Λ(t_i) / Λ(T)").range(-0.03, 1.03),
            series,
        )],
    )
}

/// Local error `eps_i` against the segment's Lambda increment: a scatter, one point per
/// segment of every cell, one series per grid (log-log), for one mixture.
///
/// ```
/// let fig = flowcert::report::distill::local_vs_lambda_figure(&[], "m");
/// assert!(fig.panels[0].series.is_empty());
/// ```
pub fn local_vs_lambda_figure(rows: &[DistillRow], mixture: &str) -> Figure {
    let mine: Vec<&DistillRow> = rows.iter().filter(|r| r.mixture == mixture).collect();
    let series = grids_of(mine.iter().map(|r| r.grid.as_str()))
        .into_iter()
        .map(|grid| {
            let mut pts: Vec<(f64, f64)> = mine
                .iter()
                .filter(|r| r.grid == grid)
                .flat_map(|r| {
                    (1..=r.segments).map(|i| (r.lambda[i] - r.lambda[i - 1], r.local_errors[i - 1]))
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series::scatter(grid, pts)
        })
        .collect();
    let cells = mine.len();
    Figure::new(
        &format!("{mixture}: local error against the segment's ΔΛ"),
        &format!(
            "{mixture}: RMS local error ε_i of each segment's student on its own rollout against the segment's stability increment ΔΛ_i = Λ(t_i) − Λ(t_(i−1)); one point per segment of each of {cells} cells (every N and seed). The balanced grid assumes ε_i grows with ΔΛ_i."
        ),
        vec![Panel::new(
            Axis::log("ΔΛ_i = Λ(t_i) − Λ(t_(i−1))"),
            Axis::log("ε_i, RMS local error"),
            series,
        )],
    )
}
