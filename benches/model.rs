//! Throughput of the exact model and the teacher: `cargo bench --bench model`.
//! Score and Hessian points/s for d in {2, 8, 32}, K in {2, 8}; flow-map trajectories/s
//! (2-D two-mode mixture, sigma0 = 0.1, means 3 apart, T = 2.5 -> t_min = 0.01, rtol 1e-10),
//! one at a time and in lanes (`flow_batch`), in `t` and in the log-SNR (`flow_clock`); teacher pairs of the distillation experiment.

use divan::{Bencher, black_box};
use flowcert::dynamics::{Clock, ExactFlow, Method, SolverOptions, ValidSolverOptions};
use flowcert::model::{Marginal, Mixture, MixtureSpec, builtin};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() {
    divan::main();
}

fn mixture(d: usize, k: usize) -> Mixture {
    let cov = builtin::rotated_covariance(
        &(0..d).map(|i| 0.05 + 0.1 * i as f64).collect::<Vec<_>>(),
        1,
    );
    let rows: Vec<Vec<f64>> = (0..d)
        .map(|r| cov.row(r).iter().copied().collect())
        .collect();
    MixtureSpec {
        weights: vec![1.0 / k as f64; k],
        means: (0..k)
            .map(|j| (0..d).map(|i| ((i + 3 * j) as f64).sin() * 2.0).collect())
            .collect(),
        covariances: vec![rows; k],
    }
    .check()
    .unwrap()
}

const POINTS: usize = 1024;

fn options(method: Method, tol: f64) -> ValidSolverOptions {
    SolverOptions {
        rtol: tol,
        atol: tol,
        method,
        ..SolverOptions::default()
    }
    .check()
    .unwrap()
}

#[divan::bench(args = [(2, 2), (2, 8), (8, 2), (8, 8), (32, 2), (32, 8)])]
fn score(bencher: Bencher, (d, k): (usize, usize)) {
    let mix = mixture(d, k);
    let xs = mix.sample(0.5, POINTS, &mut ChaCha8Rng::seed_from_u64(1));
    let mut p = Marginal::new(&mix, 0.5).unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(POINTS))
        .bench_local(|| black_box(p.score_batch(&xs)));
}

#[divan::bench(args = [(2, 2), (2, 8), (8, 2), (8, 8), (32, 2), (32, 8)])]
fn hessian(bencher: Bencher, (d, k): (usize, usize)) {
    let mix = mixture(d, k);
    let xs = mix.sample(0.5, POINTS, &mut ChaCha8Rng::seed_from_u64(1));
    let mut p = Marginal::new(&mix, 0.5).unwrap();
    let mut h = DMatrix::zeros(d, d);
    let mut s = vec![0.0; d];
    bencher
        .counter(divan::counter::ItemsCount::new(POINTS))
        .bench_local(|| {
            for x in xs.as_slice().chunks(d) {
                p.hessian_into(x, &mut h, &mut s);
                black_box(&h);
            }
        });
}

#[divan::bench(args = ["dopri5", "dop853"])]
fn flow_trajectory(bencher: Bencher, method: &str) {
    let mix = builtin::two_mode(0.1);
    let method = if method == "dop853" {
        Method::Dop853
    } else {
        Method::Dopri5
    };
    let opts = options(method, 1e-10);
    let flow = ExactFlow::new(&mix, opts);
    let xs = mix.sample(2.5, 64, &mut ChaCha8Rng::seed_from_u64(2));
    let cols: Vec<Vec<f64>> = xs
        .column_iter()
        .map(|c| c.iter().copied().collect())
        .collect();
    bencher
        .counter(divan::counter::ItemsCount::new(cols.len()))
        .bench_local(|| {
            for x in &cols {
                black_box(flow.map(x, 2.5, 0.01).unwrap());
            }
        });
}

/// The `flow` figure in process, on one thread: 256 samples of p_T mapped by DOP853 at
/// rtol = atol = 1e-10 (two-mode sigma0 0.1, T = 2.5 -> 0.01), one `ExactFlow::map` call
/// per trajectory against `map_batch_serial` (`LANES` trajectories in flight; bitwise the
/// same results). Compare the two medians of one run.
#[divan::bench(args = ["one_at_a_time", "lanes"])]
fn flow_batch(bencher: Bencher, how: &str) {
    let mix = builtin::two_mode(0.1);
    let opts = options(Method::Dop853, 1e-10);
    let flow = ExactFlow::new(&mix, opts);
    let xs = mix.sample(2.5, 256, &mut ChaCha8Rng::seed_from_u64(4));
    let bench = bencher.counter(divan::counter::ItemsCount::new(xs.ncols()));
    if how == "lanes" {
        bench.bench_local(|| black_box(flow.map_batch_serial(&xs, 2.5, 0.01).unwrap()));
    } else {
        bench.bench_local(|| {
            for x in xs.as_slice().chunks(2) {
                black_box(flow.map(x, 2.5, 0.01).unwrap());
            }
        });
    }
}

/// The `flow` figure's clocks, in process on one thread: the same 256 samples and
/// `map_batch_serial` as `flow_batch` (lanes), integrated in `t` (`time`, the baseline of
/// the same run) or in the log-SNR (`log_snr`, `flow --clock log-snr`) at the tolerance
/// where each meets diffrax's max and median error at 1e-10 (README, "The PF-ODE teacher
/// against diffrax": `t` at 1e-12, log-SNR at 3e-12), and both at 1e-10 (`*_1e-10`).
#[divan::bench(args = ["time", "log_snr", "time_1e-10", "log_snr_1e-10"])]
fn flow_clock(bencher: Bencher, how: &str) {
    let mix = builtin::two_mode(0.1);
    let (clock, tol) = match how {
        "time" => (Clock::Time, 1e-12),
        "log_snr" => (Clock::LogSnr, 3e-12),
        "time_1e-10" => (Clock::Time, 1e-10),
        _ => (Clock::LogSnr, 1e-10),
    };
    let flow = ExactFlow::new(&mix, options(Method::Dop853, tol)).with_clock(clock);
    let xs = mix.sample(2.5, 256, &mut ChaCha8Rng::seed_from_u64(4));
    bencher
        .counter(divan::counter::ItemsCount::new(xs.ncols()))
        .bench_local(|| black_box(flow.map_batch_serial(&xs, 2.5, 0.01).unwrap()));
}

/// Teacher pairs per second as the distillation experiment makes them: 256 samples of
/// p_{t_i} mapped over one segment by DOP853 at rtol = atol = 1e-8 (two-mode sigma0 0.1;
/// the last uniform segment of N = 8 on [1e-3, 3], the hardest one), by
/// `map_batch_serial` (`lanes`, what the experiment calls) and one trajectory at a time
/// (`one_at_a_time`, the baseline of the same run).
#[divan::bench(args = ["one_at_a_time", "lanes"])]
fn teacher_pairs(bencher: Bencher, how: &str) {
    let mix = builtin::two_mode(0.1);
    let opts = options(Method::Dop853, 1e-8);
    let flow = ExactFlow::new(&mix, opts);
    let (t_hi, t_lo) = (0.376, 1e-3);
    let xs = mix.sample(t_hi, 256, &mut ChaCha8Rng::seed_from_u64(3));
    let bench = bencher.counter(divan::counter::ItemsCount::new(xs.ncols()));
    if how == "lanes" {
        bench.bench_local(|| black_box(flow.map_batch_serial(&xs, t_hi, t_lo).unwrap()));
    } else {
        bench.bench_local(|| {
            for x in xs.as_slice().chunks(2) {
                black_box(flow.map(x, t_hi, t_lo).unwrap());
            }
        });
    }
}
