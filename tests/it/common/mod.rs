//! Shared proptest strategies: random mixtures with covariances `Q diag(lambda) Q^T`,
//! built from proptest's own draws so that failures shrink and replay.
#![allow(dead_code)]

pub mod cli;

use flowcert::model::process::{PROCESS_NAMES, Process, ProcessSpec};

/// The built-in path `name` with its default parameters.
pub fn process(name: &str) -> Process {
    ProcessSpec::named(name).check().expect("built-in path")
}

/// Every built-in path but OU.
pub fn paths_off_ou() -> impl Iterator<Item = Process> {
    PROCESS_NAMES
        .iter()
        .filter(|&&n| n != "ou")
        .map(|n| process(n))
}

use flowcert::dynamics::{Method, SolverOptions, ValidSolverOptions};
use flowcert::model::{Mixture, MixtureSpec};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;

/// Orthogonal matrix from the QR of a proptest-drawn matrix (signs fixed).
pub fn orthogonal_from(entries: &[f64], d: usize) -> DMatrix<f64> {
    let g = DMatrix::from_fn(d, d, |r, c| {
        entries[r * d + c] + if r == c { 1e-3 } else { 0.0 }
    });
    let qr = g.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..d {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    q
}

fn covariance(entries: &[f64], spectrum: &[f64]) -> Vec<Vec<f64>> {
    let d = spectrum.len();
    let q = orthogonal_from(entries, d);
    let c = &q * DMatrix::from_diagonal(&DVector::from_column_slice(spectrum)) * q.transpose();
    let c = (&c + c.transpose()) * 0.5;
    (0..d).map(|r| c.row(r).iter().copied().collect()).collect()
}

/// Random mixtures: K in `k`, d in `d`, eigenvalues in `[lo, hi]`, means in a box of
/// half-width `spread`; `shared` forces one covariance for every component.
pub fn arb_mixture(
    k: std::ops::RangeInclusive<usize>,
    d: std::ops::RangeInclusive<usize>,
    lo: f64,
    hi: f64,
    spread: f64,
    shared: bool,
) -> impl Strategy<Value = Mixture> {
    (k, d).prop_flat_map(move |(k, d)| {
        let ncov = if shared { 1 } else { k };
        (
            proptest::collection::vec(0.2f64..1.0, k),
            proptest::collection::vec(proptest::collection::vec(-spread..spread, d), k),
            proptest::collection::vec(proptest::collection::vec(-1.0f64..1.0, d * d), ncov),
            proptest::collection::vec(proptest::collection::vec(lo..hi, d), ncov),
        )
            .prop_map(move |(w, means, qs, specs)| {
                let total: f64 = w.iter().sum();
                let weights = w.iter().map(|v| v / total).collect();
                let covs: Vec<_> = (0..k)
                    .map(|i| {
                        let j = if shared { 0 } else { i };
                        covariance(&qs[j], &specs[j])
                    })
                    .collect();
                MixtureSpec {
                    weights,
                    means,
                    covariances: covs,
                }
                .check()
                .expect("strategy builds valid mixtures")
            })
    })
}

/// The default random mixture of the property tests: K 1..6, d 1..8, lambda in [1e-3, 4].
pub fn any_mixture() -> impl Strategy<Value = Mixture> {
    arb_mixture(1..=6, 1..=8, 1e-3, 4.0, 3.0, false)
}

/// Run `assertions` under the settings of every pinned table: snapshot files in the
/// top-level `snapshots/` directory, named without a module prefix (`distill_quick.snap`).
pub fn pinned(assertions: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(assertions);
}

/// Validated solver options with `rtol = atol = tol`.
pub fn solver_options(method: Method, tol: f64) -> ValidSolverOptions {
    SolverOptions {
        rtol: tol,
        atol: tol,
        method,
        ..SolverOptions::default()
    }
    .check()
    .expect("valid solver options")
}

/// The one-component mixture `N(mean, cov)` (`cov` symmetric positive definite).
pub fn single_gaussian(mean: &[f64], cov: &DMatrix<f64>) -> Mixture {
    let d = mean.len();
    MixtureSpec {
        weights: vec![1.0],
        means: vec![mean.to_vec()],
        covariances: vec![
            (0..d)
                .map(|r| cov.row(r).iter().copied().collect())
                .collect(),
        ],
    }
    .check()
    .unwrap()
}

/// One change along each student-budget axis (each a `distill` flag and a field of the cell
/// key), in both directions where the axis has them: the cell-key tests of `distill` and of
/// the budget sweep walk this one list.
pub fn budget_variants(b: flowcert::nn::StudentBudget) -> Vec<flowcert::nn::StudentBudget> {
    use flowcert::nn::{LrSchedule, StudentBudget};
    let cosine = |final_fraction| StudentBudget {
        schedule: LrSchedule::Cosine { final_fraction },
        ..b
    };
    vec![
        StudentBudget {
            steps: b.steps + 1,
            ..b
        },
        StudentBudget {
            width: b.width + 1,
            ..b
        },
        StudentBudget {
            depth: b.depth + 1,
            ..b
        },
        StudentBudget {
            batch: b.batch + 1,
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
            lr: b.lr * 2.0,
            ..b
        },
        StudentBudget {
            lr: b.lr * 0.5,
            ..b
        },
        StudentBudget {
            readout_scale: 0.5,
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
        cosine(0.01),
        cosine(0.1),
    ]
}
