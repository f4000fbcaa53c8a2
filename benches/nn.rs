//! Training throughput of the students: Adam steps per second for width 64, two hidden
//! layers, batch 256, d = 2 and 8 (`cargo bench --bench nn`). Read the `items/s` column:
//! one item is one training step.
//!
//! `train_mlp` runs each shape three ways in the same run: `reference-f64` (the
//! pre-SIMD path, `ReferenceMlp`: nalgebra/matrixmultiply products, separate bias and
//! activation passes), `f64` and `f32` (the SIMD kernels of `TrainWorkspace` on the
//! widest backend of this CPU); divide their medians for the speed-ups. `train_step`
//! times one loss-and-gradient step alone, without Adam and the minibatch gather.

use divan::{Bencher, counter::ItemsCount};
use flowcert::nn::{
    Activation, LipschitzConfig, LipschitzMlp, Mlp, MlpConfig, Precision, ReferenceMlp,
    TrainConfig, TrainWorkspace, train,
};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() {
    divan::main();
}

const STEPS: usize = 200;
const BATCH: usize = 256;
const WIDTH: usize = 64;
const DATA: usize = 4096;
/// The three ways `train_mlp` trains.
const KERNELS: [&str; 3] = ["reference-f64", "f64", "f32"];

fn data(d: usize) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let x = DMatrix::from_fn(d, DATA, |_, _| rng.random_range(-2.0..2.0));
    let y = x.map(|v: f64| v + 0.5 * v.sin());
    (x, y)
}

fn mlp_config(d: usize) -> MlpConfig {
    MlpConfig::new(d, vec![WIDTH, WIDTH], d, Activation::Silu).with_residual(true)
}

fn precision(kernel: &str) -> Precision {
    if kernel == "f32" {
        Precision::F32
    } else {
        Precision::F64
    }
}

/// Residual SiLU student, `STEPS` steps of `train` (including its final full-data loss).
#[divan::bench(consts = [2, 8], args = KERNELS)]
fn train_mlp<const D: usize>(bencher: Bencher, kernel: &str) {
    let (x, y) = data(D);
    let cfg = mlp_config(D).check().unwrap();
    let tc = TrainConfig {
        precision: precision(kernel),
        ..TrainConfig::new(STEPS, BATCH, 2e-3)
    }
    .check()
    .unwrap();
    let net = || Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(1));
    let rng = || ChaCha8Rng::seed_from_u64(2);
    let b = bencher.counter(ItemsCount::new(STEPS));
    if kernel == "reference-f64" {
        b.with_inputs(|| ReferenceMlp(net()))
            .bench_local_values(|mut n| train(&mut n, &x, &y, &tc, &mut rng()).map(|_| n));
    } else {
        b.with_inputs(net)
            .bench_local_values(|mut n| train(&mut n, &x, &y, &tc, &mut rng()).map(|_| n));
    }
}

/// One minibatch loss and gradient on the SIMD kernels (no optimizer, no gather).
#[divan::bench(consts = [2, 8], args = ["f64", "f32"])]
fn train_step<const D: usize>(bencher: Bencher, kernel: &str) {
    let (x, y) = data(D);
    let (xb, yb) = (
        x.columns(0, BATCH).into_owned(),
        y.columns(0, BATCH).into_owned(),
    );
    let net = Mlp::new(
        &mlp_config(D).check().unwrap(),
        &mut ChaCha8Rng::seed_from_u64(1),
    );
    let mut ws = TrainWorkspace::new(&net, BATCH, precision(kernel));
    bencher
        .counter(ItemsCount::new(1usize))
        .bench_local(|| ws.loss_and_grad(&net, divan::black_box(&xb), &yb));
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

/// `(silu(z), silu'(z))` on 4,096 pre-activations in [-8, 8] (items: evaluations): the
/// scalar f64 activation of the reference path (`flowcert`: the table-driven exp of
/// `nn/engine/silu64.rs`, the bits of the SIMD kernels) against the same two formulas on
/// libm's `exp` (`libm`). The SIMD kernels' SiLU is timed inside `train_step`.
#[divan::bench(args = ["flowcert", "libm"])]
fn silu(bencher: Bencher, which: &str) {
    let z: Vec<f64> = (0..4096).map(|i| (i as f64 - 2048.0) / 256.0).collect();
    let libm = |z: f64| {
        let s = 1.0 / (1.0 + (-z).exp());
        (z * s, s * (1.0 + z * (1.0 - s)))
    };
    bencher.counter(ItemsCount::new(z.len())).bench_local(|| {
        let z = divan::black_box(&z);
        let sum = if which == "flowcert" {
            z.iter()
                .map(|&v| Activation::Silu.eval_with_derivative(v))
                .fold(0.0, |a, (v, d)| a + v + d)
        } else {
            z.iter().map(|&v| libm(v)).fold(0.0, |a, (v, d)| a + v + d)
        };
        divan::black_box(sum)
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
