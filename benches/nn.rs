//! Training throughput of the students: Adam steps per second for width 64, two hidden
//! layers, batch 256, d = 2 and 8 (`cargo bench --bench nn`). Read the `items/s` column:
//! one item is one training step.
//!
//! `train_mlp` runs each shape three ways in the same run: `reference-f64` (the
//! pre-SIMD path, `ReferenceMlp`: nalgebra/matrixmultiply products, separate bias and
//! activation passes), `f64` and `f32` (the SIMD kernels of `TrainWorkspace` on the
//! widest backend of this CPU); divide their medians for the speed-ups. `train_step`
//! times one loss-and-gradient step alone, without Adam and the minibatch gather.
//!
//! The ceiling: `fma_peak` measures this core's fused multiply-add peak in FLOP/s
//! (register-resident, 16 independent chains), and `train_step_flops` times the same step
//! as `train_step` counted in FLOP of its matrix products ([`step_flops`]); their ratio
//! is the fraction of peak the step reaches:
//!
//! ```sh
//! cargo bench --bench nn -- fma_peak train_step_flops
//! ```

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
    step_counted::<D>(bencher, kernel, 1);
}

/// [`train_step`] with one item per FLOP of its products ([`step_flops`]).
#[divan::bench(consts = [2, 8], args = ["f64", "f32"])]
fn train_step_flops<const D: usize>(bencher: Bencher, kernel: &str) {
    step_counted::<D>(bencher, kernel, step_flops(&[D, WIDTH, WIDTH, D], BATCH));
}

fn step_counted<const D: usize>(bencher: Bencher, kernel: &str, items: usize) {
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
        .counter(ItemsCount::new(items))
        .bench_local(|| ws.loss_and_grad(&net, divan::black_box(&xb), &yb));
}

/// FLOP of the matrix products of one training step of an MLP with layer widths
/// `n_0 .. n_L` on a batch of `B` columns (a multiply-add is two):
///
/// ```text
/// forward  z_l = W_l a_{l-1}           2 B sum_{l=1..L} n_{l-1} n_l
/// backward dW_l = delta_l a_{l-1}^T    2 B sum_{l=1..L} n_{l-1} n_l
///          delta_{l-1} = W_l^T delta_l 2 B sum_{l=2..L} n_{l-1} n_l   (none into the input)
/// ```
/// Width 64, two hidden layers, B = 256: d = 2 gives 6.62 MFLOP, d = 8 gives 7.60 MFLOP.
/// Biases, activations, the loss and Adam are not counted (they are O(B n), not
/// O(B n^2)).
fn step_flops(widths: &[usize], batch: usize) -> usize {
    let pairs: Vec<usize> = widths.windows(2).map(|w| w[0] * w[1]).collect();
    let all: usize = pairs.iter().sum();
    2 * batch * (2 * all + (all - pairs[0]))
}

/// Independent accumulator chains of [`fma_peak`]: at least the FMA latency (4 cycles)
/// times the FMA units (2) of a current x86 core, and half its 32 vector registers.
const CHAINS: usize = 16;
/// Multiply-adds per chain per timed call.
const FMA_ROUNDS: usize = 4096;

/// This core's fused multiply-add peak, register-resident, in FLOP/s (items): `CHAINS`
/// independent `acc = acc * a + b` chains on the widest registers (AVX-512: 8 x f64,
/// 16 x f32; AVX2 + FMA: 4 x f64, 8 x f32), two FLOP per lane per multiply-add. The
/// values converge to `b / (1 - a)`, so they stay normal.
#[divan::bench(args = ["f64", "f32"])]
fn fma_peak(bencher: Bencher, precision: &str) {
    let f32 = precision == "f32";
    let Some((lanes, run)) = peak::kernel(f32) else {
        eprintln!("fma_peak: this CPU has neither AVX-512F nor AVX2 + FMA");
        return;
    };
    bencher
        .counter(ItemsCount::new(2 * lanes * CHAINS * FMA_ROUNDS))
        .bench_local(|| run(divan::black_box(FMA_ROUNDS)));
}

/// The register-resident FMA loops of [`fma_peak`], one per instruction set and precision.
mod peak {
    use super::CHAINS;

    /// `rounds` multiply-adds on every chain; returns their sum (kept alive).
    type FmaLoop = fn(usize) -> f64;

    /// Lanes per register and the loop for `f32` or `f64` on the widest backend.
    pub fn kernel(f32: bool) -> Option<(usize, FmaLoop)> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Some(if f32 {
                    (16, avx512_f32)
                } else {
                    (8, avx512_f64)
                });
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Some(if f32 { (8, avx2_f32) } else { (4, avx2_f64) });
            }
        }
        let _ = f32;
        None
    }

    macro_rules! fma_loop {
        ($name:ident, $inner:ident, $features:literal, $set1:ident, $fma:ident, $add:ident,
         $store:ident, $e:ty, $lanes:literal) => {
            #[cfg(target_arch = "x86_64")]
            fn $name(rounds: usize) -> f64 {
                // SAFETY: only returned by `kernel` where the features were detected.
                unsafe { $inner(rounds) }
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = $features)]
            unsafe fn $inner(rounds: usize) -> f64 {
                use std::arch::x86_64::*;
                let (a, b) = ($set1(0.999_999 as $e), $set1(1e-7 as $e));
                let mut acc = [$set1(0.0); CHAINS];
                for _ in 0..rounds {
                    for r in acc.iter_mut() {
                        *r = $fma(*r, a, b);
                    }
                }
                let mut sum = $set1(0.0);
                for r in acc {
                    sum = $add(sum, r);
                }
                let mut out = [0.0 as $e; $lanes];
                // SAFETY: `out` holds one register.
                unsafe { $store(out.as_mut_ptr(), sum) };
                out.iter().map(|&v| v as f64).sum()
            }
        };
    }

    fma_loop!(
        avx512_f64,
        avx512_f64_inner,
        "avx512f",
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        _mm512_storeu_pd,
        f64,
        8
    );
    fma_loop!(
        avx512_f32,
        avx512_f32_inner,
        "avx512f",
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_storeu_ps,
        f32,
        16
    );
    fma_loop!(
        avx2_f64,
        avx2_f64_inner,
        "avx2,fma",
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        _mm256_storeu_pd,
        f64,
        4
    );
    fma_loop!(
        avx2_f32,
        avx2_f32_inner,
        "avx2,fma",
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_storeu_ps,
        f32,
        8
    );
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
