//! Training throughput of the students: Adam steps per second for width 64,
//! two hidden layers, batch 256, d = 2 and 8 (`cargo bench --bench nn`).
//! Read the `items/s` column: one item is one training step.

use divan::{Bencher, counter::ItemsCount};
use flowcert::nn::{Activation, LipschitzConfig, LipschitzMlp, Mlp, MlpConfig, TrainConfig, train};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    divan::main();
}

const STEPS: usize = 50;
const BATCH: usize = 256;
const WIDTH: usize = 64;
const DATA: usize = 4096;

fn data(d: usize) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = DMatrix::from_fn(d, DATA, |_, _| rng.random_range(-2.0..2.0));
    let y = x.map(|v: f64| v + 0.5 * v.sin());
    (x, y)
}

fn mlp_config(d: usize) -> MlpConfig {
    MlpConfig::new(d, vec![WIDTH, WIDTH], d, Activation::Silu).with_residual(true)
}

/// Plain residual SiLU student.
#[divan::bench(args = [2, 8])]
fn train_mlp(bencher: Bencher, d: usize) {
    let (x, y) = data(d);
    let cfg = mlp_config(d).check().unwrap();
    let tc = TrainConfig::new(STEPS, BATCH, 1e-3).check().unwrap();
    bencher
        .counter(ItemsCount::new(STEPS))
        .with_inputs(|| Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(1)))
        .bench_local_values(|mut net| {
            train(&mut net, &x, &y, &tc, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
            net
        });
}

/// Lipschitz-budgeted ReLU student: one exact SVD per layer after every step.
#[divan::bench(args = [2, 8])]
fn train_lipschitz(bencher: Bencher, d: usize) {
    let (x, y) = data(d);
    let mlp = MlpConfig::new(d, vec![WIDTH, WIDTH], d, Activation::Relu);
    let cfg = LipschitzConfig { mlp, budget: 2.0 }.check().unwrap();
    let tc = TrainConfig::new(STEPS, BATCH, 1e-3).check().unwrap();
    bencher
        .counter(ItemsCount::new(STEPS))
        .with_inputs(|| LipschitzMlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(1)))
        .bench_local_values(|mut net| {
            train(&mut net, &x, &y, &tc, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
            net
        });
}

/// Inference on the whole data set (points per second).
#[divan::bench(args = [2, 8])]
fn predict(bencher: Bencher, d: usize) {
    let (x, _) = data(d);
    let net = Mlp::new(
        &mlp_config(d).check().unwrap(),
        &mut ChaCha8Rng::seed_from_u64(1),
    );
    bencher
        .counter(ItemsCount::new(DATA))
        .bench_local(|| net.predict(divan::black_box(&x)));
}
