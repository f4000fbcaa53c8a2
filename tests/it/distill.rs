//! The distillation experiment: determinism, resumability, shards and merge; the rows'
//! metrics recomputed by independent code; the RMS composition bound on each sample, and
//! its labelling where the proof does not cover it.

use flowcert::bounds::{Bound, IsotropicShared};
use flowcert::dynamics::{Method, Teacher};
use flowcert::experiments::distill::{
    DistillPlan, DistillRow, ValidDistillPlan, eval_points, train_students,
};
use flowcert::experiments::distill_summary::summarize_rows;
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, Shard};
use flowcert::flowmap::FlowMap;
use flowcert::nn::{Precision, StudentBudget};
use flowcert::report::distill::mse_long_table;
use flowcert::suite::{Plan, Scale};
use flowcert::tolerance::ODE_GLOBAL_FACTOR;

use super::common;

/// The finished rows of a sweep and the cells left to other shards.
fn sweep(plan: &ValidDistillPlan, store: &CellStore, shard: Shard) -> (Vec<DistillRow>, usize) {
    let sweep = plan.sweep(store, shard, &Silent).unwrap();
    (sweep.rows, sweep.missing)
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn cells_are_deterministic_resumable_and_shardable() {
    let plan = Plan::at(Scale::Tiny).distill.check().unwrap();
    let a = CellStore::open(&tmp("a")).unwrap();
    let (rows_a, missing) = sweep(&plan, &a, Shard::ALL);
    assert_eq!(missing, 0);
    assert_eq!(rows_a.len(), plan.cells().len());
    // Same plan, fresh store: identical rows (bits).
    let b = CellStore::open(&tmp("b")).unwrap();
    let (rows_b, _) = sweep(&plan, &b, Shard::ALL);
    assert_eq!(rows_a, rows_b);
    // Shards: two halves, then merged, equal the whole.
    let s0 = tmp("s0");
    let s1 = tmp("s1");
    let (r0, m0) = sweep(
        &plan,
        &CellStore::open(&s0).unwrap(),
        "0/2".parse().unwrap(),
    );
    let (r1, m1) = sweep(
        &plan,
        &CellStore::open(&s1).unwrap(),
        "1/2".parse().unwrap(),
    );
    assert_eq!(r0.len() + r1.len(), rows_a.len());
    assert_eq!(m0 + m1, rows_a.len());
    let merged = CellStore::open(&tmp("merged")).unwrap();
    merged.absorb(&s0).unwrap();
    merged.absorb(&s1).unwrap();
    // Everything is resumed from the store: nothing is recomputed (the compute fn would
    // produce the same values anyway, so check the store count too).
    let (rm, mm) = sweep(&plan, &merged, Shard::ALL);
    assert_eq!((rm, mm), (rows_a.clone(), 0));
    // Changing the budget changes every key: no stale reuse.
    let mut other = DistillPlan::clone(&plan);
    other.budget = StudentBudget {
        steps: 21,
        ..plan.budget
    };
    let other = other.check().unwrap();
    assert!(plan.cells().iter().all(|c| plan.key(c) != other.key(c)));
    // So does the precision of the training steps: resumed cells never mix precisions.
    let mut other = DistillPlan::clone(&plan);
    other.budget = StudentBudget {
        precision: match plan.budget.precision {
            Precision::F32 => Precision::F64,
            _ => Precision::F32,
        },
        ..plan.budget
    };
    let other = other.check().unwrap();
    assert!(plan.cells().iter().all(|c| plan.key(c) != other.key(c)));
    // And every other setting of the student budget (each a `distill` flag).
    let b = plan.budget;
    for budget in common::budget_variants(b) {
        if budget == b {
            continue;
        }
        let mut other = DistillPlan::clone(&plan);
        other.budget = budget;
        let other = other.check().unwrap();
        assert!(
            plan.cells().iter().all(|c| plan.key(c) != other.key(c)),
            "{budget:?} shares keys with {b:?}"
        );
    }
}

#[test]
fn shared_students_give_the_rows_of_cells_computed_alone() {
    // The sweep trains each distinct segment once per (mixture, seed) and shares it across
    // grids and N; computing every cell on its own must give the same bits.
    let plan = Plan::at(Scale::Tiny).distill.check().unwrap();
    let (rows, _) = sweep(&plan, &CellStore::open(&tmp("shared")).unwrap(), Shard::ALL);
    for (c, row) in plan.cells().iter().zip(&rows) {
        assert_eq!(&plan.run(c).unwrap(), row, "cell {c:?}");
    }
}

/// Every cell's `rel_mse`, local errors and bound, recomputed by independent code: the
/// cell's students (retrained from their streams: the same training losses, bit for bit),
/// rolled out by hand on the cell's evaluation points, measured against a teacher 1e4 times
/// more accurate (DOP853 at 1e-12 instead of 1e-8), with `Lambda` from the isotropic closed
/// form instead of quadrature. Then the theorem, on that sample: `rel_mse <= bound`, with
/// equality for N = 1 (one segment: the local error *is* the end-to-end error).
#[test]
fn rows_match_an_independent_evaluation_and_obey_the_rms_bound() {
    let plan = Plan::at(Scale::Tiny).distill.check().unwrap();
    let store = CellStore::open(&tmp("bound")).unwrap();
    let (rows, _) = sweep(&plan, &store, Shard::ALL);
    let (_, mix) = &plan.mixtures[0];
    let iso = IsotropicShared::from_mixture(mix).expect("two-mode: isotropic shared");
    let budget = plan.budget.check().unwrap();
    let teacher = plan.teacher.flow(mix);
    let precise = Teacher::new(Method::Dop853, 1e-12, 1e-12)
        .unwrap()
        .flow(mix);
    for r in rows.iter().filter(|r| r.seed == plan.seeds[0]) {
        let n = r.segments;
        assert!(r.bound_rigorous, "shared covariance: {r:?}");
        let (students, loss) = train_students(&teacher, &r.times, r.seed, &budget).unwrap();
        assert_eq!(loss, r.train_loss, "{}: not the cell's students", r.grid);
        let x = eval_points(mix, r.times[n], r.seed, plan.eval_samples);
        let (phi, _) = precise
            .map_batch_serial(&x, r.times[n], r.times[0])
            .unwrap();
        let mut z = x.clone();
        let mut local = vec![0.0; n];
        for i in (1..=n).rev() {
            let mut next = z.clone();
            let mut sq = 0.0;
            for c in 0..z.ncols() {
                let zc: Vec<f64> = z.column(c).iter().copied().collect();
                let psi = students[i - 1].map_point(&zc).unwrap();
                let exact = precise.map(&zc, r.times[i], r.times[i - 1]).unwrap().y;
                sq += (&psi - exact).norm_squared();
                next.set_column(c, &psi);
            }
            local[i - 1] = (sq / z.ncols() as f64).sqrt();
            z = next;
        }
        let m = x.ncols() as f64;
        let phi2 = phi.column_iter().map(|c| c.norm_squared()).sum::<f64>() / m;
        let mse = (0..x.ncols())
            .map(|c| (z.column(c) - phi.column(c)).norm_squared())
            .sum::<f64>()
            / m;
        let rel_mse = mse / phi2;
        let amp: f64 = (1..=n)
            .map(|i| {
                local[i - 1]
                    * iso
                        .integral(Bound::TwoSided, r.times[0], r.times[i - 1])
                        .exp()
            })
            .sum();
        let bound = amp * amp / phi2;
        // The cell's teacher is accurate to ~ODE_GLOBAL_FACTOR 1e-8 of |Phi|; an error e
        // moves by that much, so e^2 by twice that relative to e.
        let teacher_err = ODE_GLOBAL_FACTOR * plan.teacher.rtol() * phi2.sqrt();
        let close = |a: f64, b: f64, e: f64| (a / b - 1.0).abs() <= 4.0 * teacher_err / e;
        assert!(
            close(r.rel_mse, rel_mse, mse.sqrt()),
            "{} N={n}: rel_mse {} vs independent {rel_mse}",
            r.grid,
            r.rel_mse
        );
        assert_eq!(r.local_errors.len(), n);
        for (i, (&got, &want)) in r.local_errors.iter().zip(&local).enumerate() {
            assert!(
                close(got, want, want),
                "{} N={n}: eps_{} {got} vs {want}",
                r.grid,
                i + 1,
            );
        }
        // Each term eps_i e^{Lambda_i} carries eps_i's relative error: the amplification's
        // relative error is at most the largest of them (plus the quadrature's, ~1e-13).
        let smallest = local.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            close(r.bound, bound, smallest),
            "{} N={n}: bound {} vs independent {bound}",
            r.grid,
            r.bound
        );
        // The theorem on this sample (Minkowski over the empirical measure).
        assert!(
            rel_mse <= bound * (1.0 + 1e-12),
            "{} N={n}: {rel_mse} > {bound}",
            r.grid
        );
        assert!(r.rel_mse <= r.bound * (1.0 + 1e-12));
        if n == 1 {
            assert!(
                (rel_mse / bound - 1.0).abs() <= 1e-12,
                "N = 1: {rel_mse} vs {bound}"
            );
        }
    }
}

/// Heterogeneous covariances: `Lambda` integrates a bound local to a ball that neither the
/// samples nor the students' states are confined to, so the rows, their summary and the
/// long table say the bound is not rigorous (also for rows resumed from the store).
#[test]
fn heterogeneous_rows_are_labelled_not_rigorous() {
    let mut plan = Plan::at(Scale::Tiny).distill;
    plan.mixtures = vec![("hetero3".into(), flowcert::model::builtin::hetero3())];
    plan.segments = vec![2];
    plan.seeds = vec![0];
    plan.budget = StudentBudget {
        steps: 10,
        samples: 64,
        ..plan.budget
    };
    plan.eval_samples = 32;
    let plan = plan.check().unwrap();
    let store = CellStore::open(&tmp("hetero")).unwrap();
    for _ in 0..2 {
        // computed, then resumed
        let (rows, _) = sweep(&plan, &store, Shard::ALL);
        assert!(
            !rows.is_empty() && rows.iter().all(|r| !r.bound_rigorous),
            "{rows:?}"
        );
        let s = summarize_rows(&rows);
        assert!(s.stats.iter().all(|g| !g.bound_rigorous));
        let table = mse_long_table(&s, 3);
        assert!(table.rows.iter().all(|row| row[9] == "no"), "{table:?}");
    }
}

/// The distillation check reports violations, and can fail: the kept mutation
/// (`Mutation::ReferencedToT`, the amplification `exp(Lambda(t_{i-1}) - Lambda(T))` referenced
/// to the wrong end of the grid) lowers every bound by `exp(Lambda(T) - Lambda(t_min))`, so on
/// the same students (the same `rel_mse`, bit for bit) every cell violates it; at `N = 1`
/// the real bound *equals* the relative MSE, so any bound that is too low by more than the
/// slack is caught there. The real check reports none.
#[test]
fn distill_check_reports_the_mutated_bound() {
    use flowcert::experiments::distill::Mutation;
    use flowcert::experiments::distill_summary::bound_violations;
    let mut raw = Plan::at(Scale::Tiny).distill;
    raw.mixtures.truncate(1);
    raw.grids.truncate(1);
    raw.segments = vec![1, 2];
    raw.seeds = vec![0];
    let plan = raw.check().unwrap();
    let store = CellStore::open(&tmp("mutation")).unwrap();
    let (real, _) = sweep(&plan, &store, Shard::ALL);
    let (bad, _) = sweep(
        &plan.clone().mutated(Mutation::ReferencedToT),
        &store,
        Shard::ALL,
    );
    assert_eq!(real.len(), 2);
    assert!(real.iter().all(|r| r.bound_rigorous));
    assert_eq!(
        (bound_violations(&real), summarize_rows(&real).violations),
        (0, 0)
    );
    assert_eq!(
        (bound_violations(&bad), summarize_rows(&bad).violations),
        (2, 2),
        "{bad:?}"
    );
    for (r, b) in real.iter().zip(&bad) {
        assert_eq!(r.rel_mse, b.rel_mse, "same students");
        assert!(b.bound < r.bound, "{b:?}");
    }
    let s = summarize_rows(&bad);
    assert!(s.stats.iter().all(|g| g.exceeded == 1), "{:?}", s.stats);
}
