//! Tables and plots of the distillation experiment (theory/04-composition-and-grids.md).

use crate::experiments::distill::DistillRow;
use crate::experiments::distill_summary::DistillSummary;

use super::plot::{PlotSpec, Series, line_plot_svg};
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
        rows: Vec::new(),
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

/// Paired reductions: balanced vs uniform, and the best grid vs uniform, at every (mixture, N).
pub fn reduction_table(s: &DistillSummary, digits: usize) -> Table {
    let mut tab = Table::new(&[
        "mixture",
        "N",
        "balanced vs uniform (paired mean)",
        "95% interval",
        "of means",
        "best grid",
        "best vs uniform (of means)",
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
                    .map(|x| pct(x.of_means, digits))
                    .unwrap_or_else(|| "-".into());
                (b.grid.clone(), vu)
            }
            None => ("(all equal)".into(), "-".into()),
        };
        tab.push(vec![
            r.mixture.clone(),
            r.segments.to_string(),
            pct(r.paired.mean, digits),
            format!(
                "[{}, {}]",
                pct(r.paired.ci_low, digits),
                pct(r.paired.ci_high, digits)
            ),
            pct(r.of_means, digits),
            best_name,
            best_vs_uni,
        ]);
    }
    tab
}

/// A fraction as a percentage with fixed significant digits.
///
/// ```
/// assert_eq!(flowcert::report::distill::pct(0.519, 3), "51.9%");
/// ```
pub fn pct(v: f64, digits: usize) -> String {
    format!("{}%", sig(100.0 * v, digits))
}

/// SVG: mean relative MSE against N, one line per grid (log-log), for one mixture.
pub fn plot_mse_vs_n(s: &DistillSummary, mixture: &str) -> String {
    let mut series: Vec<Series> = Vec::new();
    for g in s.stats.iter().filter(|g| g.mixture == mixture) {
        match series.iter_mut().find(|x| x.name == g.grid) {
            Some(x) => x.points.push((g.segments as f64, g.rel_mse.mean)),
            None => series.push(Series {
                name: g.grid.clone(),
                points: vec![(g.segments as f64, g.rel_mse.mean)],
                markers: true,
            }),
        }
    }
    let spec = PlotSpec {
        title: format!("{mixture}: end-to-end relative MSE"),
        x_label: "segments N".into(),
        y_label: "relative MSE".into(),
        log_x: true,
        log_y: true,
    };
    line_plot_svg(&spec, &series)
}

/// SVG: each grid's times drawn on the normalised stability axis `Lambda(t_i)/Lambda(T)`
/// against `i/N` (the balanced grid is the diagonal), at one N, for one mixture.
pub fn plot_grids_on_lambda(rows: &[DistillRow], mixture: &str, n: usize) -> String {
    let mut series = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.mixture == mixture && r.segments == n)
    {
        if seen.contains(&r.grid) {
            continue;
        }
        seen.push(r.grid.clone());
        let total = r.lambda[n] - r.lambda[0];
        series.push(Series {
            name: r.grid.clone(),
            points: r
                .lambda
                .iter()
                .enumerate()
                .map(|(i, l)| (i as f64 / n as f64, (l - r.lambda[0]) / total))
                .collect(),
            markers: true,
        });
    }
    let spec = PlotSpec {
        title: format!("{mixture}: grids on the Lambda axis (N = {n})"),
        x_label: "i / N".into(),
        y_label: "Lambda(t_i) / Lambda(T)".into(),
        log_x: false,
        log_y: false,
    };
    line_plot_svg(&spec, &series)
}

/// SVG: local error eps_i against the segment's Lambda increment, one point per segment
/// of every cell, one series per grid (log-log), for one mixture.
pub fn plot_local_vs_lambda(rows: &[DistillRow], mixture: &str) -> String {
    let mut series: Vec<Series> = Vec::new();
    for r in rows.iter().filter(|r| r.mixture == mixture) {
        let pts = (1..=r.segments).map(|i| (r.lambda[i] - r.lambda[i - 1], r.local_errors[i - 1]));
        match series.iter_mut().find(|x| x.name == r.grid) {
            Some(x) => x.points.extend(pts),
            None => series.push(Series {
                name: r.grid.clone(),
                points: pts.collect(),
                markers: true,
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let spec = PlotSpec {
        title: format!("{mixture}: local error vs segment stability increment"),
        x_label: "Lambda(t_i) - Lambda(t_{i-1})".into(),
        y_label: "eps_i (RMS on rollout)".into(),
        log_x: true,
        log_y: true,
    };
    line_plot_svg(&spec, &series)
}
