//! The budget sweep (theory/04-composition-and-grids.md, "Budget sweep"): Kendall's tau_b
//! against known permutations, an independent inversion count and a hand computation with
//! ties; the slope interval and the paired reductions against hand computations; the
//! section's summary (winners, settled budget, exponent) on synthetic cells whose answers
//! are known; the section's determinism from the seed and its teacher-pair sharing (bit for
//! bit the students of an unshared sweep); cell keys that differ along every budget axis;
//! the pinned tiny tables.

use flowcert::experiments::budget::{BudgetRow, BudgetRows};
use flowcert::experiments::budget_summary::summarize_budget_sweep;
use flowcert::experiments::distill::{DistillCell, DistillPlan, DistillRow};
use flowcert::experiments::stats::{fit_line, kendall_tau_b};
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, Shard};
use flowcert::nn::StudentBudget;
use flowcert::suite::budget::{self, BudgetSize};
use flowcert::suite::{Plan, Scale};
use flowcert::tolerance::EXACT;
use proptest::prelude::*;

use super::common;

/// Discordant pairs of a permutation counted by bubble sort (one swap per inversion): an
/// independent count for tau without ties, `1 - 4 inv / (n (n - 1))`.
fn inversions(p: &[usize]) -> usize {
    let mut v = p.to_vec();
    let mut swaps = 0;
    for i in 0..v.len() {
        for j in 0..v.len() - 1 - i {
            if v[j] > v[j + 1] {
                v.swap(j, j + 1);
                swaps += 1;
            }
        }
    }
    swaps
}

#[test]
fn kendall_tau_of_known_permutations_and_ties() {
    let id = [0.0, 1.0, 2.0, 3.0];
    assert_eq!(kendall_tau_b(&id, &id), Some(1.0));
    assert_eq!(kendall_tau_b(&id, &[3.0, 2.0, 1.0, 0.0]), Some(-1.0));
    // One adjacent swap among 4: 1 discordant pair of 6, tau = (5 - 1) / 6.
    let t = kendall_tau_b(&id, &[1.0, 0.0, 2.0, 3.0]).unwrap();
    assert!((t - 4.0 / 6.0).abs() < EXACT, "{t}");
    // Ties, by hand: a = [1, 2, 2, 3], b = [1, 3, 2, 4]: 5 concordant, 0 discordant, 1 pair
    // tied in a, none in b, 6 pairs: tau_b = 5 / sqrt(5 * 6).
    let t = kendall_tau_b(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
    assert!((t - 5.0 / 30f64.sqrt()).abs() < EXACT, "{t}");
    // Scale-free: only the orders matter; lower-is-better in both is the same as higher.
    assert_eq!(
        kendall_tau_b(&[0.1, 0.5, 0.2], &[10.0, 50.0, 20.0]),
        Some(1.0)
    );
    assert_eq!(kendall_tau_b(&[1.0], &[1.0]), None);
    assert_eq!(kendall_tau_b(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Random permutations: tau equals the closed form from the bubble-sort inversion count.
    #[test]
    fn kendall_tau_matches_the_inversion_count(p in Just((0..7).collect::<Vec<usize>>()).prop_shuffle()) {
        let n = p.len();
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let b: Vec<f64> = p.iter().map(|&v| v as f64).collect();
        let want = 1.0 - 4.0 * inversions(&p) as f64 / (n * (n - 1)) as f64;
        let got = kendall_tau_b(&a, &b).unwrap();
        prop_assert!((got - want).abs() < EXACT, "{got} {want}");
    }
}

#[test]
fn the_slope_interval_matches_a_hand_computation() {
    // (0, 0), (1, 1), (2, 3): Sxx = 2, Sxy = 3, Syy = 14/3, slope 1.5, SSE = 1/6,
    // se = sqrt(SSE / (1 * Sxx)) = sqrt(1/12), t_{0.975, 1} = 12.706204736174707.
    let f = fit_line(&[(0.0, 0.0), (1.0, 1.0), (2.0, 3.0)]).unwrap();
    let half = 12.706_204_736_174_707 * (1.0f64 / 12.0).sqrt();
    let (lo, hi) = f.slope_interval.unwrap();
    assert!((f.slope - 1.5).abs() < EXACT);
    assert!(
        (lo - (1.5 - half)).abs() < 1e-9 && (hi - (1.5 + half)).abs() < 1e-9,
        "{lo} {hi}"
    );
    assert!((f.correlation - 3.0 / (2.0f64 * 14.0 / 3.0).sqrt()).abs() < EXACT);
    assert!(fit_line(&[(1.0, 0.0), (1.0, 1.0)]).is_none());
}

/// A synthetic cell: rel_mse given; two segments with local errors `c * dL^b`.
fn row(grid: &str, seed: u64, rel_mse: f64, b: f64) -> DistillRow {
    let lambda = vec![0.0, 1.0 + seed as f64, 5.0 + grid.len() as f64];
    let eps = |i: usize| 0.01 * (lambda[i] - lambda[i - 1]).powf(b);
    DistillRow {
        mixture: "two-mode-s0.3".into(),
        grid: grid.into(),
        segments: 2,
        seed,
        times: vec![
            1e-3,
            0.1 + 0.01 * grid.len() as f64 + 0.001 * seed as f64,
            3.0,
        ],
        lambda: lambda.clone(),
        rel_mse,
        local_errors: vec![eps(1), eps(2)],
        train_loss: vec![0.0, 0.0],
        bound: 1e3,
        bound_rigorous: true,
    }
}

/// The summary on synthetic cells (tiny plan: uniform, balanced, logsnr, edm at N = 2,
/// seeds 0-2; budgets 10x8, 20x8, 40x8 on the steps ladder, then 20x4): the winner moves
/// from uniform to logsnr to balanced along the ladder; the reductions, their interval,
/// the taus and the exponent are what a hand computation gives.
#[test]
fn the_summary_of_synthetic_cells_is_what_a_hand_computation_gives() {
    let plan = Plan::at(Scale::Tiny).budget.check().unwrap();
    // Levels per budget of uniform, balanced, logsnr, edm; per seed times 1, 2, 4 (logsnr:
    // 1, 1.5, 3), so means are level * 7/3 (logsnr: level * 11/6).
    let levels = [
        [1.0, 3.0, 2.0, 4.0],
        [3.0, 2.0, 1.0, 4.0],
        [3.0, 1.0, 2.0, 4.0],
        [1.0, 2.0, 3.0, 4.0],
    ];
    let grids = ["uniform", "balanced", "logsnr", "edm"];
    let mult = [1.0, 2.0, 4.0];
    let exps = [0.2, 0.5, 0.8, 0.3];
    let mut rows = Vec::new();
    for (k, lv) in levels.iter().enumerate() {
        for (g, &level) in grids.iter().zip(lv) {
            for seed in 0..3u64 {
                // logsnr's per-seed factors differ, so its log ratios against uniform vary.
                let m = if *g == "logsnr" {
                    [1.0, 1.5, 3.0][seed as usize]
                } else {
                    mult[seed as usize]
                };
                rows.push(BudgetRow {
                    budget: k,
                    row: row(g, seed, level * m, exps[k]),
                });
            }
        }
    }
    let s = summarize_budget_sweep(&plan, &BudgetRows { rows, missing: 0 });
    assert_eq!(s.violations, 0);
    let steps = s
        .winners
        .iter()
        .find(|w| w.ladder.starts_with("steps"))
        .unwrap();
    assert_eq!(steps.winners, vec!["uniform", "logsnr", "balanced"]);
    assert_eq!(steps.changes, vec![1, 2]);
    assert_eq!(steps.settled_from, 2);
    // tau between budgets 0 and 1: means (u, b, l, e) = [7/3, 7, 11/3, 28/3] and
    // [7, 14/3, 11/6, 28/3]: pairs (u,b), (u,l) discordant, the other 4 concordant: 2/6.
    let r1 = s
        .rankings
        .iter()
        .find(|r| r.ladder.starts_with("steps") && r.budget == 1)
        .unwrap();
    assert!(
        (r1.tau_previous.unwrap() - 1.0 / 3.0).abs() < EXACT,
        "{r1:?}"
    );
    // logsnr vs uniform at budget 0: ratios 2 * [1, 1.5, 3] / [1, 2, 4] = [2, 1.5, 1.5].
    let red = s
        .reductions
        .iter()
        .find(|r| r.budget == 0 && r.grid == "logsnr" && r.baseline == "uniform")
        .unwrap();
    let logs = [2f64.ln(), 1.5f64.ln(), 1.5f64.ln()];
    let mean = logs.iter().sum::<f64>() / 3.0;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.302_652_729_749_464 * sd / 3f64.sqrt();
    assert!((red.reduction.reduction - (1.0 - mean.exp())).abs() < EXACT);
    let (lo, hi) = red.reduction.interval.unwrap();
    assert!((lo - (1.0 - (mean + half).exp())).abs() < 1e-9, "{lo}");
    assert!((hi - (1.0 - (mean - half).exp())).abs() < 1e-9, "{hi}");
    // The best peer at budget 0 is logsnr (2 < 4): uniform is compared with it.
    assert!(
        s.reductions
            .iter()
            .any(|r| r.budget == 0 && r.grid == "uniform" && r.baseline == "logsnr")
    );
    // Local errors are exactly c * dL^b: the fit returns b with correlation 1.
    for e in &s.exponents {
        assert!((e.fit.slope - exps[e.budget]).abs() < 1e-9, "{e:?}");
        assert!((e.fit.correlation - 1.0).abs() < 1e-9);
    }
}

/// Every budget axis gives cells keys of their own (a store never mixes budgets), and the
/// full sweep's budgets are all distinct.
#[test]
fn cell_keys_differ_along_every_budget_axis() {
    let plan = Plan::at(Scale::Tiny).distill;
    let base = plan.budget;
    let cell = DistillCell {
        mixture: 0,
        grid: 0,
        segments: 2,
        seed: 0,
    };
    let key = |b: StudentBudget| {
        DistillPlan {
            budget: b,
            ..plan.clone()
        }
        .check()
        .unwrap()
        .key(&cell)
    };
    let mut keys = vec![key(base)];
    for v in common::budget_variants(base) {
        let k = key(v);
        assert!(!keys.contains(&k), "{v:?} shares a key");
        keys.push(k);
    }
    let full = Plan::at(Scale::Full)
        .with_budget_sweep(BudgetSize::Full)
        .budget
        .check()
        .unwrap();
    let mut seen: Vec<String> = Vec::new();
    for k in 0..full.budgets.len() {
        let p = full.at(k).check().unwrap();
        let c = p.key(&p.cells()[0]);
        assert!(!seen.contains(&c), "{}", full.budgets[k].label);
        seen.push(c);
    }
    assert_eq!(seen.len(), 18);
}

/// The tiny section twice from fresh stores gives the same section; its rows at each
/// budget are bit for bit those of an unshared `distill` sweep at that budget; the tables
/// are pinned.
#[test]
fn the_tiny_section_is_deterministic_and_shares_pairs_exactly() {
    let plan = Plan::at(Scale::Tiny);
    let dir = |tag: &str| {
        std::env::temp_dir().join(format!("flowcert-budget-{tag}-{}", std::process::id()))
    };
    let run = |tag: &str| {
        let d = dir(tag);
        let _ = std::fs::remove_dir_all(&d);
        let store = CellStore::open(&d).unwrap();
        budget::section(&plan.budget, BudgetSize::Default, &store, &Silent).unwrap()
    };
    let (a, va) = run("a");
    let (b, _) = run("b");
    assert_eq!(a, b);
    assert_eq!(va, 0);
    let valid = plan.budget.clone().check().unwrap();
    let store = CellStore::open(&dir("c")).unwrap();
    for k in 0..valid.budgets.len() {
        let alone = valid
            .at(k)
            .check()
            .unwrap()
            .sweep(&store, Shard::ALL, &Silent)
            .unwrap();
        let mine: Vec<f64> = a
            .summary
            .cells
            .iter()
            .filter(|c| c.budget == k)
            .map(|c| c.rel_mse)
            .collect();
        let mut theirs: Vec<f64> = Vec::new();
        for m in &valid.cells.mixtures {
            for &seed in &valid.cells.seeds {
                theirs.extend(
                    alone
                        .rows
                        .iter()
                        .filter(|r| r.mixture == m.0 && r.seed == seed)
                        .map(|r| r.rel_mse),
                );
            }
        }
        assert_eq!(mine, theirs, "budget {k}");
    }
    let s = &a.summary;
    common::pinned(|| {
        insta::assert_snapshot!(
            "budget_tiny",
            format!(
                "{}\n{}\n{}\n{}",
                flowcert::report::budget::mse_table(s, 3).to_markdown(),
                flowcert::report::budget::reduction_table(s, 3).to_markdown(),
                flowcert::report::budget::winner_table(s).to_markdown(),
                flowcert::report::budget::exponent_table(s, 3).to_markdown()
            )
        );
    });
    for t in ["a", "b", "c"] {
        let _ = std::fs::remove_dir_all(dir(t));
    }
}
