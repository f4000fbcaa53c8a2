//! The distillation experiment: determinism, resumability, shards and merge, the
//! byte-identical summary.json, and that the per-segment local errors and the
//! composition bound relate as the theorem says.

use flowcert::experiments::distill::{DistillPlan, DistillRow, ValidDistillPlan};
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, Shard};
use flowcert::nn::{LrSchedule, Precision, StudentBudget};
use flowcert::suite::{Plan, Scale};

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
    let variants = [
        StudentBudget {
            width: b.width + 1,
            ..b
        },
        StudentBudget {
            depth: b.depth + 1,
            ..b
        },
        StudentBudget {
            batch: b.batch - 1,
            ..b
        },
        StudentBudget {
            samples: b.samples + 1,
            ..b
        },
        StudentBudget {
            lr: b.lr * 0.5,
            ..b
        },
        StudentBudget {
            readout_scale: 1.0,
            ..b
        },
        StudentBudget {
            readout_scale: 0.0,
            ..b
        },
        StudentBudget {
            schedule: LrSchedule::Cosine {
                final_fraction: 0.01,
            },
            ..b
        },
    ];
    for budget in variants {
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

#[test]
fn rows_obey_the_composition_bound_in_rms_form() {
    let plan = Plan::at(Scale::Tiny).distill.check().unwrap();
    let store = CellStore::open(&tmp("bound")).unwrap();
    let (rows, _) = sweep(&plan, &store, Shard::ALL);
    for r in &rows {
        assert_eq!(r.times.len(), r.segments + 1);
        assert_eq!(r.local_errors.len(), r.segments);
        assert!(r.rel_mse.is_finite() && r.rel_mse > 0.0);
        // two-mode mixtures have a shared covariance, so Lambda is a global bound and
        // sqrt(MSE) <= sum eps_i Lip(Phi_{t_{i-1} -> t_min}) <= sum eps_i e^{Lambda(t_{i-1})}.
        assert!(
            r.rel_mse <= r.bound * (1.0 + 1e-9),
            "{}: rel_mse {} > bound {}",
            r.grid,
            r.rel_mse,
            r.bound
        );
        // N = 1: the bound is eps_1^2 / E|Phi|^2, which *is* the relative MSE.
        if r.segments == 1 {
            assert!((r.rel_mse - r.bound).abs() <= 1e-9 * r.bound);
        }
    }
}
