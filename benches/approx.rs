//! Evaluation throughput of the explicit ReLU-ReQU score networks (`cargo bench --bench
//! approx`): batched evaluation of 4096 points at t = 0.1 for target accuracies 1e-3 and
//! 1e-5, on two-mode-s0.1 (K = 2, d = 2) and hetero3 (K = 3, d = 3), next to the exact
//! mixture score. Read the `items/s` column: one item is one point.

use divan::{Bencher, counter::ItemsCount};
use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
use flowcert::model::{Mixture, ScoreField, builtin};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() {
    divan::main();
}

const POINTS: usize = 4096;
const T: f64 = 0.1;

fn setup(mix: &Mixture, eps: f64) -> (ScoreNetwork, DMatrix<f64>) {
    let net = ScoreNetwork::build(mix, &ScoreNetConfig::new(eps).check().unwrap()).unwrap();
    let xs = mix.sample(T, POINTS, &mut ChaCha8Rng::seed_from_u64(0));
    (net, xs)
}

/// The network on two-mode-s0.1.
#[divan::bench(args = [1e-3, 1e-5])]
fn network_two_mode(bencher: Bencher, eps: f64) {
    let (net, xs) = setup(&builtin::two_mode(0.1), eps);
    bencher
        .counter(ItemsCount::new(POINTS))
        .bench_local(|| net.score_batch(divan::black_box(&xs), T));
}

/// The network on hetero3.
#[divan::bench(args = [1e-3, 1e-5])]
fn network_hetero3(bencher: Bencher, eps: f64) {
    let (net, xs) = setup(&builtin::hetero3(), eps);
    bencher
        .counter(ItemsCount::new(POINTS))
        .bench_local(|| net.score_batch(divan::black_box(&xs), T));
}

/// The exact mixture score, for reference.
#[divan::bench(args = ["two-mode-s0.1", "hetero3"])]
fn exact_score(bencher: Bencher, name: &str) {
    let mix = name.parse::<builtin::Builtin>().unwrap().mixture();
    let xs = mix.sample(T, POINTS, &mut ChaCha8Rng::seed_from_u64(0));
    bencher
        .counter(ItemsCount::new(POINTS))
        .bench_local(|| mix.score_batch(divan::black_box(&xs), T));
}
