//! Tables and figures of the budget sweep (theory/04-composition-and-grids.md, "Budget
//! sweep"): relative MSE per budget with intervals, paired reductions against uniform and
//! the best peer, the ranking's stability along each ladder of budgets, the local-error
//! exponent per budget, and reductions against the budget with interval bands.

use crate::experiments::budget::Ladder;
use crate::experiments::budget_summary::BudgetSummary;
use crate::experiments::stats::LogReduction;

use super::ReportError;
use super::distill::{MIN_INTERVAL_SEEDS, interval_cell as interval, pct};
use super::output::ReportWriter;
use super::plot::{Axis, Figure, IntervalStyle, Panel, Series};
use super::table::{Table, sig};

fn label(s: &BudgetSummary, k: usize) -> String {
    s.budgets
        .get(k)
        .map_or_else(|| k.to_string(), |b| b.label.clone())
}

/// Relative MSE per (budget, mixture, N, grid): mean over seeds and its 95% interval.
///
/// ```
/// use flowcert::experiments::budget_summary::BudgetSummary;
/// let s: BudgetSummary = serde_json::from_str(r#"{"budgets":[],"ladders":[],"peers":[],"stats":[],"reductions":[],"rankings":[],"winners":[],"exponents":[],"cells":[],"violations":0,"missing":0}"#).unwrap();
/// assert_eq!(flowcert::report::budget::mse_table(&s, 3).headers[0], "budget");
/// ```
pub fn mse_table(s: &BudgetSummary, digits: usize) -> Table {
    let mut t = Table::new(&[
        "budget", "mixture", "N", "grid", "seeds", "rel_mse mean", "95% low", "95% high",
    ])
    .with_caption("Budget sweep: end-to-end relative MSE per student budget (Adam steps x width; d = depth, cos = cosine schedule), mixture, N and grid, mean over seeds with the 95% Student-t interval of the mean.")
    .with_latex_headers(&[
        "budget", "mixture", "$N$", "grid", "seeds", "mean", "95\\% low", "95\\% high",
    ]);
    for (k, g) in &s.stats {
        t.push(vec![
            label(s, *k),
            g.mixture.clone(),
            g.segments.to_string(),
            g.grid.clone(),
            g.rel_mse.n.to_string(),
            sig(g.rel_mse.mean, digits),
            sig(g.rel_mse.ci_low, digits),
            sig(g.rel_mse.ci_high, digits),
        ]);
    }
    t
}

/// Paired reductions per (budget, mixture, N, grid): against uniform and against the best
/// peer at that budget, each with its 95% interval.
pub fn reduction_table(s: &BudgetSummary, digits: usize) -> Table {
    let mut t = Table::new(&[
        "budget",
        "mixture",
        "N",
        "grid",
        "vs uniform",
        "95% interval",
        "best peer",
        "vs best peer",
        "95% interval (peer)",
    ])
    .with_caption(&format!(
        "Budget sweep: reduction of each grid's relative MSE against the uniform grid and against the best peer grid ({}, lowest mean at that budget), paired over seeds: 1 - exp(mean ln(MSE_grid / MSE_baseline)), 95% interval from the Student-t interval of the log ratios (from {MIN_INTERVAL_SEEDS} seeds on). Positive: the grid is better.",
        s.peers.join(", ")
    ))
    .with_latex_headers(&[
        "budget",
        "mixture",
        "$N$",
        "grid",
        "vs uniform",
        "95\\% interval",
        "best peer",
        "vs best peer",
        "95\\% interval",
    ]);
    let mut keys: Vec<(usize, &str, usize, &str)> = Vec::new();
    for r in &s.reductions {
        let k = (r.budget, r.mixture.as_str(), r.segments, r.grid.as_str());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (k, m, n, g) in keys {
        let find = |peer: bool| {
            s.reductions.iter().find(|r| {
                (r.budget, r.mixture.as_str(), r.segments, r.grid.as_str()) == (k, m, n, g)
                    && (r.baseline != "uniform") == peer
            })
        };
        let (u, p) = (find(false), find(true));
        let cells = |r: Option<&crate::experiments::budget_summary::BudgetReduction>| match r {
            Some(r) => (
                pct(r.reduction.reduction, digits),
                interval(&r.reduction, digits),
            ),
            None => ("-".into(), "-".into()),
        };
        let (uv, ui) = cells(u);
        let (pv, pi) = cells(p);
        t.push(vec![
            label(s, k),
            m.to_string(),
            n.to_string(),
            g.to_string(),
            uv,
            ui,
            p.map_or_else(|| "(itself)".into(), |r| r.baseline.clone()),
            pv,
            pi,
        ]);
    }
    t
}

fn tau(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

/// The ranking of the grids at each budget of each ladder, with Kendall's `tau_b` against
/// the previous and the largest budget of the ladder.
pub fn ranking_table(s: &BudgetSummary) -> Table {
    let mut t = Table::new(&[
        "ladder", "mixture", "N", "budget", "winner", "ranking (best first)", "tau vs previous",
        "tau vs largest",
    ])
    .with_caption("Budget sweep: the grids ranked by mean relative MSE at each budget of a ladder (one budget axis varied), and Kendall's tau_b of that ranking against the previous budget's and the largest budget's (1: the same order; -1: reversed; ties counted as tau_b does).")
    .with_latex_headers(&[
        "ladder", "mixture", "$N$", "budget", "winner", "ranking", r"$\tau$ previous",
        r"$\tau$ largest",
    ]);
    for r in &s.rankings {
        t.push(vec![
            r.ladder.clone(),
            r.mixture.clone(),
            r.segments.to_string(),
            label(s, r.budget),
            r.ranking[0].clone(),
            r.ranking.join(" < "),
            tau(r.tau_previous),
            tau(r.tau_largest),
        ]);
    }
    t
}

/// The winner along each ladder: at every budget, where it changes, and the budget from
/// which the winner is that of the largest budget.
pub fn winner_table(s: &BudgetSummary) -> Table {
    let mut t = Table::new(&[
        "ladder", "mixture", "N", "winners (increasing budget)", "winner changes at",
        "settled from",
    ])
    .with_caption("Budget sweep: the best grid (lowest mean relative MSE) at each budget of a ladder, the budgets at which it changes, and the first budget from which every larger budget has the winner of the largest.")
    .with_latex_headers(&[
        "ladder", "mixture", "$N$", "winners", "changes at", "settled from",
    ]);
    for w in &s.winners {
        t.push(vec![
            w.ladder.clone(),
            w.mixture.clone(),
            w.segments.to_string(),
            w.winners.join(", "),
            if w.changes.is_empty() {
                "none".into()
            } else {
                w.changes
                    .iter()
                    .map(|&k| label(s, k))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            label(s, w.settled_from),
        ]);
    }
    t
}

/// The local-error law `eps_i ~ (Delta Lambda_i)^b` per budget and mixture: `b`, its 95%
/// interval, the correlation of the logs and the students fitted.
pub fn exponent_table(s: &BudgetSummary, digits: usize) -> Table {
    let mut t = Table::new(&["budget", "mixture", "b", "95% interval", "correlation", "students"])
        .with_caption("Budget sweep: least-squares fit of ln eps_i = a + b ln(Delta Lambda_i) over the distinct (seed, segment) students of each budget and mixture (eps_i: RMS local error on the student's rollout), with the 95% Student-t interval of b and the correlation of the logs. The balanced grid's premise is that eps_i grows with Delta Lambda_i.")
        .with_latex_headers(&["budget", "mixture", "$b$", "95\\% interval", "correlation", "students"]);
    for e in &s.exponents {
        t.push(vec![
            label(s, e.budget),
            e.mixture.clone(),
            sig(e.fit.slope, digits),
            e.fit.slope_interval.map_or_else(
                || "-".into(),
                |(lo, hi)| format!("[{}, {}]", sig(lo, digits), sig(hi, digits)),
            ),
            sig(e.fit.correlation, digits),
            e.fit.n.to_string(),
        ]);
    }
    t
}

/// The ladders drawn in the figures: those along the first ladder's axis (the Adam steps),
/// in plan order. The default sweep has one (steps at the main width); `--budget-sweep full`
/// has four (steps at width 32, 64, 128, and at width 64 with cosine decay).
fn drawn_ladders(s: &BudgetSummary) -> Vec<&Ladder> {
    let Some(first) = s.ladders.first() else {
        return Vec::new();
    };
    s.ladders.iter().filter(|l| l.axis == first.axis).collect()
}

/// The file-name suffix of a drawn ladder: empty for the first (the figure names of the
/// default sweep), else the ladder's name reduced to `[a-z0-9-]` (`steps (width 64, cosine)`
/// -> `_width-64-cosine`).
fn ladder_suffix(s: &BudgetSummary, ladder: &Ladder) -> String {
    if s.ladders.first().is_some_and(|f| f.name == ladder.name) {
        return String::new();
    }
    let inner = ladder
        .name
        .split_once('(')
        .map_or(ladder.name.as_str(), |(_, rest)| rest);
    let mut slug = String::new();
    for c in inner.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    format!("_{}", slug.trim_end_matches('-'))
}

/// Reduction against uniform along one ladder of `s`, for one mixture: one panel per N, one
/// series per grid with its 95% interval as a band.
pub fn reduction_figure(s: &BudgetSummary, ladder: &Ladder, mixture: &str) -> Figure {
    let mut ns: Vec<usize> = s
        .reductions
        .iter()
        .filter(|r| r.mixture == mixture)
        .map(|r| r.segments)
        .collect();
    ns.sort_unstable();
    ns.dedup();
    let mut grids: Vec<&str> = Vec::new();
    for r in s.reductions.iter().filter(|r| r.baseline == "uniform") {
        if !grids.contains(&r.grid.as_str()) {
            grids.push(&r.grid);
        }
    }
    let mut banded = true;
    let panels = ns
        .iter()
        .map(|&n| {
            let series = grids
                .iter()
                .map(|&g| {
                    let found: Vec<(f64, &LogReduction)> = ladder
                        .points
                        .iter()
                        .filter_map(|&(k, x)| {
                            s.reductions
                                .iter()
                                .find(|r| {
                                    r.budget == k
                                        && r.mixture == mixture
                                        && r.segments == n
                                        && r.grid == g
                                        && r.baseline == "uniform"
                                })
                                .map(|r| (x, &r.reduction))
                        })
                        .collect();
                    let pts = found
                        .iter()
                        .map(|(x, r)| (*x, 100.0 * r.reduction))
                        .collect();
                    let line = Series::line_markers(g, pts);
                    match found
                        .iter()
                        .map(|(_, r)| r.interval.map(|(lo, hi)| (100.0 * lo, 100.0 * hi)))
                        .collect::<Option<Vec<_>>>()
                    {
                        Some(iv) if !iv.is_empty() => line.with_intervals(iv, IntervalStyle::Band),
                        _ => {
                            banded = false;
                            line
                        }
                    }
                })
                .collect();
            Panel::new(
                Axis::log(&ladder.axis),
                Axis::linear("reduction vs uniform (%)"),
                series,
            )
            .titled(&format!("N = {n}"))
        })
        .collect();
    Figure::new(
        &format!("{mixture}: reduction against uniform by budget"),
        &format!(
            "{mixture}: reduction of each grid's end-to-end relative MSE against the uniform grid, 1 − exp(mean ln(MSE_grid / MSE_uniform)) paired over seeds, against the student budget along '{}' (other budget settings fixed), one panel per N. {}",
            ladder.name,
            if banded {
                "Bands: 95% Student-t intervals of the paired log ratios."
            } else {
                "No bands: fewer than 3 paired seeds."
            }
        ),
        panels,
    )
}

/// The local-error exponent `b` against the budget, one panel per drawn ladder (the steps
/// ladders: one in the default sweep, four with `--budget-sweep full`), one series per
/// mixture with its 95% interval as a band.
pub fn exponent_figure(s: &BudgetSummary) -> Figure {
    let ladders = drawn_ladders(s);
    if ladders.is_empty() {
        return Figure::new("b", "No ladder.", Vec::new());
    }
    let mut mixtures: Vec<&str> = Vec::new();
    for e in &s.exponents {
        if !mixtures.contains(&e.mixture.as_str()) {
            mixtures.push(&e.mixture);
        }
    }
    let panels = ladders
        .iter()
        .map(|ladder| exponent_panel(s, ladder, &mixtures, ladders.len() > 1))
        .collect();
    let names: Vec<String> = ladders.iter().map(|l| format!("'{}'", l.name)).collect();
    Figure::new(
        "local-error exponent b by budget",
        &format!(
            "Exponent b of the local-error law ε_i ~ (ΔΛ_i)^b (least squares in logs over the distinct seed-segment students) against the student budget along {}, one series per mixture; bands: 95% Student-t intervals of the slope. The balanced grid's premise is a large b.",
            names.join(", ")
        ),
        panels,
    )
}

/// One ladder's panel of [`exponent_figure`] (titled with the ladder's name when there are
/// several).
fn exponent_panel(s: &BudgetSummary, ladder: &Ladder, mixtures: &[&str], titled: bool) -> Panel {
    let series = mixtures
        .iter()
        .map(|&m| {
            let found: Vec<_> = ladder
                .points
                .iter()
                .filter_map(|&(k, x)| {
                    s.exponents
                        .iter()
                        .find(|e| e.budget == k && e.mixture == m)
                        .map(|e| (x, e.fit))
                })
                .collect();
            let line = Series::line_markers(m, found.iter().map(|(x, f)| (*x, f.slope)).collect());
            match found
                .iter()
                .map(|(_, f)| f.slope_interval)
                .collect::<Option<Vec<_>>>()
            {
                Some(iv) if !iv.is_empty() => line.with_intervals(iv, IntervalStyle::Band),
                _ => line,
            }
        })
        .collect();
    let panel = Panel::new(Axis::log(&ladder.axis), Axis::linear("exponent b"), series);
    if titled {
        panel.titled(&ladder.name)
    } else {
        panel
    }
}

/// Write every table and figure of the budget sweep.
pub fn outputs(w: &mut ReportWriter, s: &BudgetSummary) -> Result<(), ReportError> {
    w.table("budget_rel_mse", &mse_table(s, 3))?;
    w.table("budget_reductions", &reduction_table(s, 3))?;
    w.table("budget_ranking", &ranking_table(s))?;
    w.table("budget_winners", &winner_table(s))?;
    w.table("budget_exponent", &exponent_table(s, 3))?;
    let mut mixtures: Vec<&str> = Vec::new();
    for c in &s.cells {
        if !mixtures.contains(&c.mixture.as_str()) {
            mixtures.push(&c.mixture);
        }
    }
    for ladder in drawn_ladders(s) {
        let suffix = ladder_suffix(s, ladder);
        for &m in &mixtures {
            w.figure(
                &format!("budget_reduction_{m}{suffix}"),
                &reduction_figure(s, ladder, m),
            )?;
        }
    }
    w.figure("budget_exponent", &exponent_figure(s))?;
    Ok(())
}
