//! The SIMD training step (`TrainWorkspace`) against the reference forward/backward
//! pass of `Mlp`: bit-identical in f64 on every backend this CPU has, within f32
//! rounding in f32, and whole training runs bit-identical in f64.

use flowcert::flowmap::FlowMap;
use flowcert::nn::{
    Activation, Mlp, MlpConfig, Precision, ReferenceMlp, SimdBackend, TrainConfig, TrainWorkspace,
    train,
};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const BACKENDS: [SimdBackend; 3] = [
    SimdBackend::Avx512,
    SimdBackend::Avx2,
    SimdBackend::Portable,
];

/// Relative gradient error allowed for f32 steps: a few f32 ulps amplified by the
/// depth and the width of the sums (f32 epsilon is 1.2e-7).
const F32_GRAD_REL: f64 = 1e-4;

fn gaussian(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

/// Network with non-zero biases, so every term of the step matters.
fn net(d_in: usize, hidden: &[usize], d_out: usize, act: Activation, residual: bool) -> Mlp {
    let cfg = MlpConfig::new(d_in, hidden.to_vec(), d_out, act).with_residual(residual);
    let mut rng = ChaCha8Rng::seed_from_u64(d_in as u64 * 31 + hidden.len() as u64);
    let mut net = Mlp::new(&cfg.check().unwrap(), &mut rng);
    let p: Vec<f64> = net
        .params()
        .iter()
        .map(|&v| v + 0.1 * rng.sample::<f64, _>(StandardNormal))
        .collect();
    net.set_params(&p).unwrap();
    net
}

/// Shapes that reach every accumulation order of the reference path: fused (all
/// dimensions > 5, batches over 256 in two blocks), unfused (d <= 5), the four-sum dot
/// (outputs <= 5 from > 5 inputs), plain and residual, every activation, partial vectors,
/// read-outs narrower than a register block (their padded rows, their wide column
/// blocks and those blocks' remainders).
fn cases() -> Vec<(Mlp, usize)> {
    use Activation::*;
    vec![
        (net(2, &[64, 64], 2, Silu, true), 256),
        (net(8, &[64, 64], 8, Silu, true), 128),
        (net(3, &[7, 5], 3, Relu, true), 9),
        (net(1, &[], 1, Identity, false), 4),
        (net(2, &[4], 3, Silu, false), 300),
        (net(6, &[3], 6, Silu, true), 12),
        (net(5, &[70, 9], 2, Relu, false), 33),
        (net(9, &[17], 9, Identity, true), 600),
        // a read-out of more than one register of rows, not a whole number of them,
        // and a batch that ends in a partial block of columns
        (net(20, &[32], 20, Silu, true), 100),
    ]
}

#[test]
fn f64_steps_are_bit_identical_to_the_reference_on_every_backend() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (net, batch) in cases() {
        let (x, y) = (
            gaussian(net.dim_in(), batch, &mut rng),
            gaussian(net.dim_out(), batch, &mut rng),
        );
        let mut reference = net.workspace(batch);
        let loss = net.loss_and_grad(&x, &y, &mut reference);
        for backend in BACKENDS.into_iter().filter(|b| b.is_available()) {
            let mut ws =
                TrainWorkspace::with_backend(&net, batch, Precision::F64, backend).unwrap();
            let shape = format!(
                "{:?} x {batch} on {}",
                net.weights().iter().map(|w| w.shape()).collect::<Vec<_>>(),
                backend.name()
            );
            assert_eq!(
                ws.loss_and_grad(&net, &x, &y).to_bits(),
                loss.to_bits(),
                "loss, {shape}"
            );
            let (got, want) = (ws.gradient().flat(), reference.gradient().flat());
            let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "gradient, {shape}");
        }
    }
}

#[test]
fn f32_steps_agree_with_f64_and_across_backends() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (net, batch) in cases() {
        let (x, y) = (
            gaussian(net.dim_in(), batch, &mut rng),
            gaussian(net.dim_out(), batch, &mut rng),
        );
        let mut reference = net.workspace(batch);
        let loss = net.loss_and_grad(&x, &y, &mut reference);
        let want = reference.gradient().flat();
        let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut bytes: Vec<Vec<u64>> = Vec::new();
        for backend in BACKENDS.into_iter().filter(|b| b.is_available()) {
            let mut ws =
                TrainWorkspace::with_backend(&net, batch, Precision::F32, backend).unwrap();
            let l32 = ws.loss_and_grad(&net, &x, &y);
            assert!(
                (l32 - loss).abs() <= F32_GRAD_REL * loss,
                "{} loss {l32} vs {loss}",
                backend.name()
            );
            let got = ws.gradient().flat();
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= F32_GRAD_REL * scale,
                "{}: gradient error {worst:e} of {scale:e}",
                backend.name()
            );
            bytes.push(got.iter().map(|v| v.to_bits()).collect());
        }
        assert!(
            bytes.windows(2).all(|w| w[0] == w[1]),
            "f32 bytes differ between backends"
        );
    }
}

/// A step on columns read where they are (`loss_and_grad_at`, what `train` calls) gives
/// the bits of a step on the same columns gathered first, on every backend and in both
/// precisions, for dimensions with a fixed-size gather (1, 2, 3, 8) and without (5, 6,
/// 9, 20), repeated columns included. The kept mutation: one column swapped for another
/// must change the bits (so the comparison can fail).
#[test]
fn steps_on_minibatch_columns_match_steps_on_gathered_columns() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for (net, batch) in cases() {
        let n = 2 * batch + 3;
        let (x, y) = (
            gaussian(net.dim_in(), n, &mut rng),
            gaussian(net.dim_out(), n, &mut rng),
        );
        let cols: Vec<usize> = (0..batch).map(|_| rng.random_range(0..n)).collect();
        let mut other = cols.clone();
        other[batch / 2] = (other[batch / 2] + 1) % n;
        for backend in BACKENDS.into_iter().filter(|b| b.is_available()) {
            for precision in [Precision::F64, Precision::F32] {
                let mut ws = TrainWorkspace::with_backend(&net, batch, precision, backend).unwrap();
                let mut bits = |at: Option<&[usize]>| {
                    let loss = match at {
                        Some(c) => ws.loss_and_grad_at(&net, &x, &y, c),
                        None => ws.loss_and_grad(
                            &net,
                            &x.select_columns(&cols),
                            &y.select_columns(&cols),
                        ),
                    };
                    let grad = ws.gradient().flat();
                    (
                        loss.to_bits(),
                        grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    )
                };
                let what = format!(
                    "d = {} on {} in {precision:?}",
                    net.dim_in(),
                    backend.name()
                );
                let gathered = bits(None);
                assert_eq!(bits(Some(&cols)), gathered, "{what}");
                assert_ne!(bits(Some(&other)), gathered, "{what}: the mutation");
            }
        }
    }
}

#[test]
fn workspace_rebuilds_for_another_batch_or_network() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a = net(2, &[8], 2, Activation::Silu, true);
    let b = net(2, &[9], 2, Activation::Silu, true);
    let mut ws = TrainWorkspace::new(&a, 4, Precision::F64);
    for (n, batch) in [(&a, 7), (&b, 7), (&a, 3)] {
        let (x, y) = (gaussian(2, batch, &mut rng), gaussian(2, batch, &mut rng));
        let mut reference = n.workspace(batch);
        assert_eq!(
            ws.loss_and_grad(n, &x, &y),
            n.loss_and_grad(&x, &y, &mut reference)
        );
        assert_eq!(ws.gradient(), reference.gradient());
        assert_eq!(ws.batch(), batch);
    }
}

#[test]
fn f64_training_runs_are_bit_identical_to_the_reference_path_and_f32_runs_fit() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let x = gaussian(2, 512, &mut rng);
    let y = x.map(|v| v + 0.5 * v.sin());
    let cfg = MlpConfig::new(2, vec![32, 32], 2, Activation::Silu).with_residual(true);
    let start = Mlp::new(&cfg.check().unwrap(), &mut rng);
    let tc = TrainConfig::new(200, 64, 3e-3);
    let run = |precision: Precision| {
        let mut net = start.clone();
        let tc = TrainConfig { precision, ..tc }.check().unwrap();
        let rep = train(&mut net, &x, &y, &tc, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        (net, rep)
    };
    let mut reference = ReferenceMlp(start.clone());
    let rep_ref = train(
        &mut reference,
        &x,
        &y,
        &tc.check().unwrap(),
        &mut ChaCha8Rng::seed_from_u64(9),
    )
    .unwrap();
    let (net64, rep64) = run(Precision::F64);
    assert_eq!(net64, reference.0);
    assert_eq!(rep64, rep_ref);
    let (net32, rep32) = run(Precision::F32);
    assert_ne!(net32, net64);
    // f32 steps follow the same trajectory to within rounding drift over 200 steps
    let rel = (rep32.final_loss - rep64.final_loss).abs() / rep64.final_loss;
    assert!(
        rel < 0.05,
        "final loss f32 {} vs f64 {}",
        rep32.final_loss,
        rep64.final_loss
    );
    assert_eq!(run(Precision::F32).0, net32);
}
