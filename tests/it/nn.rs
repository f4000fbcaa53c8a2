//! Tests of the neural-network students (`flowcert::nn`): analytic gradients
//! against finite differences, Adam training, determinism, the Lipschitz
//! certificate against empirical ratios, and the exact spectral norm.

use flowcert::flowmap::{Compose, FlowMap};
use flowcert::nn::{
    Activation, LipschitzConfig, LipschitzMlp, LrSchedule, Mlp, MlpConfig, NnError, TrainConfig,
    spectral_norm, train,
};
use flowcert::tolerance::{
    BOUND_SLACK_REL, EXACT, FINITE_DIFF_ABS, FINITE_DIFF_REL, FINITE_DIFF_STEP, STUDENT_FIT_REL,
};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const ACTIVATIONS: [Activation; 3] = [Activation::Silu, Activation::Relu, Activation::Identity];

fn gaussian_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.sample::<f64, _>(StandardNormal))
}

fn uniform_matrix(rows: usize, cols: usize, half_width: f64, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-half_width..half_width))
}

/// Smallest |pre-activation| over all hidden units and columns of `x`.
fn min_abs_preactivation(net: &Mlp, x: &DMatrix<f64>) -> f64 {
    let mut min = f64::INFINITY;
    for l in 0..net.depth() - 1 {
        let trunc = Mlp::from_layers(
            net.weights()[..=l].to_vec(),
            net.biases()[..=l].to_vec(),
            net.activation(),
            false,
        )
        .unwrap();
        min = trunc.predict(x).iter().fold(min, |m, z| m.min(z.abs()));
    }
    min
}

/// Random network with non-zero biases (so bias gradients are exercised).
fn random_net(cfg: MlpConfig, rng: &mut ChaCha8Rng) -> Mlp {
    let mut net = Mlp::new(&cfg.check().unwrap(), rng);
    let p: Vec<f64> = net
        .params()
        .iter()
        .map(|&v| {
            if v == 0.0 {
                0.3 * rng.sample::<f64, _>(StandardNormal)
            } else {
                v
            }
        })
        .collect();
    net.set_params(&p).unwrap();
    net
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// dMSE/dtheta from backprop equals central finite differences, for every parameter.
    #[test]
    fn gradient_matches_finite_differences(
        seed in any::<u64>(),
        act in 0..ACTIVATIONS.len(),
        residual in any::<bool>(),
        d in 1usize..4,
        hidden in prop::collection::vec(1usize..6, 0..3),
        batch in 1usize..5,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let activation = ACTIVATIONS[act];
        let d_out = if residual { d } else { d % 3 + 1 };
        let cfg = MlpConfig::new(d, hidden, d_out, activation).with_residual(residual);
        let mut net = random_net(cfg, &mut rng);
        let x = gaussian_matrix(d, batch, &mut rng);
        let y = gaussian_matrix(d_out, batch, &mut rng);
        if activation == Activation::Relu {
            // a finite difference across a kink is not a derivative
            prop_assume!(min_abs_preactivation(&net, &x) > 1e3 * FINITE_DIFF_STEP);
        }
        let mut ws = net.workspace(batch);
        let loss = net.loss_and_grad(&x, &y, &mut ws);
        prop_assert!((loss - net.mse(&x, &y)).abs() <= EXACT * loss.max(1.0));
        let grad = ws.gradient().flat();
        let p0 = net.params();
        prop_assert_eq!(grad.len(), p0.len());
        for i in 0..p0.len() {
            let h = FINITE_DIFF_STEP * p0[i].abs().max(1.0);
            let mut p = p0.clone();
            p[i] = p0[i] + h;
            net.set_params(&p).unwrap();
            let up = net.mse(&x, &y);
            p[i] = p0[i] - h;
            net.set_params(&p).unwrap();
            let down = net.mse(&x, &y);
            let fd = (up - down) / (2.0 * h);
            let err = (grad[i] - fd).abs();
            prop_assert!(
                err <= FINITE_DIFF_REL * grad[i].abs().max(fd.abs()) + FINITE_DIFF_ABS,
                "param {i}: backprop {} vs finite difference {fd}", grad[i]
            );
        }
    }

    /// The exact spectral norm bounds every Rayleigh-type estimate from above
    /// and agrees with sqrt(lambda_max(W^T W)).
    #[test]
    fn spectral_norm_dominates_estimates(
        rows in 1usize..9,
        cols in 1usize..9,
        entries in prop::collection::vec(-10.0f64..10.0, 64),
        probe in prop::collection::vec(-1.0f64..1.0, 8),
        seed in any::<u64>(),
    ) {
        let w = DMatrix::from_iterator(rows, cols, entries.iter().copied().take(rows * cols));
        let exact = spectral_norm(&w);
        let v = DVector::from_iterator(cols, probe.iter().copied().take(cols));
        if v.norm() > 0.0 {
            prop_assert!(exact >= (&w * &v).norm() / v.norm());
        }
        // power iteration on W^T W from a random start approaches ||W|| from below
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut u = gaussian_matrix(cols, 1, &mut rng);
        let wt = w.transpose();
        for _ in 0..100 {
            let next = &wt * (&w * &u);
            let n = next.norm();
            if n == 0.0 {
                break;
            }
            u = next / n;
            let estimate = (&w * &u).norm() / u.norm();
            prop_assert!(exact >= estimate, "exact {exact} < power iteration {estimate}");
        }
        prop_assert!(exact <= w.norm() * (1.0 + BOUND_SLACK_REL));
        let gram = &wt * &w;
        let lambda_max = SymmetricEigen::new(gram).eigenvalues.max().max(0.0);
        prop_assert!((exact - lambda_max.sqrt()).abs() <= BOUND_SLACK_REL * exact.max(1.0));
    }
}

/// Regression problem with its own answer: y = A x + sin(x), x in [-2, 2]^2.
fn regression_data(n: usize, rng: &mut ChaCha8Rng) -> (DMatrix<f64>, DMatrix<f64>) {
    let a = DMatrix::from_row_slice(2, 2, &[0.8, -0.5, 0.3, 1.1]);
    let x = uniform_matrix(2, n, 2.0, rng);
    let y = &a * &x + x.map(f64::sin);
    (x, y)
}

fn regression_config() -> TrainConfig {
    TrainConfig {
        schedule: LrSchedule::Cosine {
            final_fraction: 0.05,
        },
        ..TrainConfig::new(1500, 64, 1e-2)
    }
}

fn variance(y: &DMatrix<f64>) -> f64 {
    let mean = y.column_mean();
    y.column_iter()
        .map(|c| (c - &mean).norm_squared())
        .sum::<f64>()
        / y.ncols() as f64
}

#[test]
fn adam_fits_linear_plus_sine() {
    for residual in [false, true] {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (x, y) = regression_data(512, &mut rng);
        let cfg = MlpConfig::new(2, vec![32, 32], 2, Activation::Silu).with_residual(residual);
        let mut net = Mlp::new(&cfg.check().unwrap(), &mut rng);
        let initial = net.mse(&x, &y);
        let report = train(
            &mut net,
            &x,
            &y,
            &regression_config().check().unwrap(),
            &mut rng,
        )
        .unwrap();
        let rel = report.final_loss / variance(&y);
        assert!(
            rel < STUDENT_FIT_REL,
            "residual {residual}: relative MSE {rel:.3e}"
        );
        assert!(report.final_loss < initial);
        assert_eq!(report.final_loss, net.mse(&x, &y));
        let (first, last) = (report.loss_history[0], *report.loss_history.last().unwrap());
        assert_eq!(last.step, report.steps);
        assert!(last.loss < first.loss);
        assert_eq!(report.loss_history.len(), 100);
    }
}

#[test]
fn training_is_bit_identical_for_equal_seeds() {
    let run = |seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (x, y) = regression_data(100, &mut rng);
        let cfg = MlpConfig::new(2, vec![8, 8], 2, Activation::Silu).with_residual(true);
        let mut net = Mlp::new(&cfg.check().unwrap(), &mut rng);
        let tc = TrainConfig::new(200, 16, 3e-3).check().unwrap();
        let report = train(&mut net, &x, &y, &tc, &mut rng).unwrap();
        let bits: Vec<u64> = net.params().iter().map(|p| p.to_bits()).collect();
        (bits, report)
    };
    let (a, ra) = run(5);
    let (b, rb) = run(5);
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    assert_ne!(a, run(6).0);
}

#[test]
fn batched_and_single_point_evaluation_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for act in ACTIVATIONS {
        let cfg = MlpConfig::new(3, vec![7, 5], 3, act).with_residual(true);
        let net = random_net(cfg, &mut rng);
        let x = gaussian_matrix(3, 9, &mut rng);
        let batch = net.map_batch(&x).unwrap();
        let mut ws = net.workspace(4);
        net.forward(&x, &mut ws); // resizes the workspace to 9 columns
        assert_eq!(ws.output(), &batch);
        assert_eq!(ws.batch(), 9);
        for j in 0..x.ncols() {
            let col: Vec<f64> = x.column(j).iter().copied().collect();
            let single = net.map_point(&col).unwrap();
            for (s, b) in single.iter().zip(batch.column(j).iter()) {
                assert!((s - b).abs() <= EXACT * b.abs().max(1.0));
            }
        }
    }
}

#[test]
fn residual_form_adds_the_identity() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let plain = random_net(MlpConfig::new(2, vec![6], 2, Activation::Silu), &mut rng);
    let res = Mlp::from_layers(
        plain.weights().to_vec(),
        plain.biases().to_vec(),
        Activation::Silu,
        true,
    )
    .unwrap();
    let x = gaussian_matrix(2, 5, &mut rng);
    let diff = res.predict(&x) - plain.predict(&x) - &x;
    assert!(diff.amax() <= EXACT);
}

#[test]
fn backward_with_mse_seed_matches_loss_and_grad() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let net = random_net(MlpConfig::new(3, vec![4, 4], 2, Activation::Silu), &mut rng);
    let (x, y) = (
        gaussian_matrix(3, 6, &mut rng),
        gaussian_matrix(2, 6, &mut rng),
    );
    let mut ws = net.workspace(6);
    net.loss_and_grad(&x, &y, &mut ws);
    let expected = ws.gradient().clone();
    net.forward(&x, &mut ws);
    let dout = (ws.output() - &y) * (2.0 / 6.0);
    net.backward(&x, &dout, &mut ws);
    let (a, b) = (ws.gradient().flat(), expected.flat());
    for (g, e) in a.iter().zip(&b) {
        assert!((g - e).abs() <= EXACT * e.abs().max(1.0));
    }
}

/// Same architecture and parameters up to rounding (serde_json's default float
/// parser is not always correctly rounded, so JSON round trips may move the last bit).
fn assert_close(a: &Mlp, b: &Mlp) {
    assert_eq!(a.weights().len(), b.weights().len());
    assert_eq!(
        (a.activation(), a.is_residual()),
        (b.activation(), b.is_residual())
    );
    for (x, y) in a.params().iter().zip(&b.params()) {
        assert!((x - y).abs() <= EXACT * y.abs(), "{x} vs {y}");
    }
}

#[test]
fn parameter_count_and_roundtrip() {
    let cfg = MlpConfig::new(4, vec![64, 64], 4, Activation::Relu)
        .check()
        .unwrap();
    let mut net = Mlp::new(&cfg, &mut ChaCha8Rng::seed_from_u64(0));
    assert_eq!(
        net.param_count(),
        (4 * 64 + 64) + (64 * 64 + 64) + (64 * 4 + 4)
    );
    let p: Vec<f64> = (0..net.param_count()).map(|i| i as f64).collect();
    net.set_params(&p).unwrap();
    assert_eq!(net.params(), p);
    let err = net.set_params(&p[1..]).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }));
    let json = serde_json::to_string(&net).unwrap();
    assert_close(&serde_json::from_str::<Mlp>(&json).unwrap(), &net);
    let bad_dims = MlpConfig::new(4, vec![3], 2, Activation::Relu)
        .check()
        .unwrap();
    let bad_net = Mlp::new(&bad_dims, &mut ChaCha8Rng::seed_from_u64(0));
    let bad_json = serde_json::to_string(&bad_net).unwrap().replacen(
        "\"residual\":false",
        "\"residual\":true",
        1,
    );
    assert!(serde_json::from_str::<Mlp>(&bad_json).is_err());
}

#[test]
fn invalid_settings_are_rejected_with_a_fix() {
    let zero_width = MlpConfig::new(2, vec![4, 0], 2, Activation::Relu).check();
    assert!(zero_width.unwrap_err().to_string().contains("at least 1"));
    let residual = MlpConfig::new(2, vec![4], 3, Activation::Relu)
        .with_residual(true)
        .check();
    assert!(matches!(
        residual,
        Err(NnError::ResidualDims {
            dim_in: 2,
            dim_out: 3
        })
    ));
    for bad in [
        TrainConfig::new(0, 8, 1e-3),
        TrainConfig::new(10, 8, -1.0),
        TrainConfig::new(10, 8, f64::NAN),
        TrainConfig {
            beta1: 1.0,
            ..TrainConfig::new(10, 8, 1e-3)
        },
        TrainConfig {
            eps: 0.0,
            ..TrainConfig::new(10, 8, 1e-3)
        },
        TrainConfig {
            log_every: 0,
            ..TrainConfig::new(10, 8, 1e-3)
        },
        TrainConfig {
            schedule: LrSchedule::Cosine {
                final_fraction: 2.0,
            },
            ..TrainConfig::new(10, 8, 1e-3)
        },
        TrainConfig {
            schedule: LrSchedule::Step {
                every: 0,
                factor: 0.5,
            },
            ..TrainConfig::new(10, 8, 1e-3)
        },
    ] {
        let msg = bad.check().unwrap_err().to_string();
        assert!(msg.contains("use"), "message without a fix: {msg}");
    }
    let mlp = MlpConfig::new(2, vec![4], 2, Activation::Relu);
    assert!(
        LipschitzConfig {
            mlp: mlp.clone(),
            budget: 0.0
        }
        .check()
        .is_err()
    );
    assert!(
        LipschitzConfig {
            mlp: mlp.clone(),
            budget: f64::INFINITY
        }
        .check()
        .is_err()
    );
    let residual = LipschitzConfig {
        mlp: mlp.with_residual(true),
        budget: 1.0,
    };
    assert!(residual.check().unwrap_err().to_string().contains("M > 1"));
}

#[test]
fn train_rejects_bad_data_and_reports_divergence() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let cfg = MlpConfig::new(2, vec![4], 2, Activation::Silu)
        .check()
        .unwrap();
    let mut net = Mlp::new(&cfg, &mut rng);
    let tc = TrainConfig::new(50, 8, 1e-3).check().unwrap();
    let x = gaussian_matrix(2, 10, &mut rng);
    let wrong_rows = gaussian_matrix(3, 10, &mut rng);
    let wrong_cols = gaussian_matrix(2, 9, &mut rng);
    let empty = DMatrix::zeros(2, 0);
    let mut nan = x.clone();
    nan[(1, 7)] = f64::NAN;
    let shape = |r: Result<_, NnError>| matches!(r, Err(NnError::ShapeMismatch { .. }));
    assert!(shape(train(&mut net, &wrong_rows, &x, &tc, &mut rng)));
    assert!(shape(train(&mut net, &x, &wrong_rows, &tc, &mut rng)));
    assert!(shape(train(&mut net, &x, &wrong_cols, &tc, &mut rng)));
    assert!(shape(train(&mut net, &empty, &empty, &tc, &mut rng)));
    let nan_err = train(&mut net, &x, &nan, &tc, &mut rng).unwrap_err();
    assert_eq!(
        nan_err,
        NnError::NonFiniteData {
            what: "targets",
            column: 7
        }
    );
    let huge = TrainConfig::new(50, 8, 1e300).check().unwrap();
    let err = train(&mut net, &x, &(&x * 1e3), &huge, &mut rng).unwrap_err();
    assert!(matches!(err, NnError::Diverged { .. }), "{err}");
    assert!(err.to_string().contains("lower lr"));
}

#[test]
fn compose_checks_dimensions() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let a = Mlp::new(
        &MlpConfig::new(2, vec![3], 3, Activation::Relu)
            .check()
            .unwrap(),
        &mut rng,
    );
    let b = Mlp::new(
        &MlpConfig::new(2, vec![3], 2, Activation::Relu)
            .check()
            .unwrap(),
        &mut rng,
    );
    assert!(Compose::new(&a, &b).is_err());
    let ba = Compose::new(&b, &a).unwrap();
    assert_eq!((ba.dim_in(), ba.dim_out()), (2, 3));
    let boxed: Vec<Box<dyn FlowMap>> = vec![Box::new(b.clone()), Box::new(ba)];
    assert!(boxed.iter().all(|m| m.dim_in() == 2));
}

#[test]
fn silu_lipschitz_bound_dominates_its_derivative() {
    let grid = (0..20_000).map(|i| -10.0 + i as f64 * 1e-3);
    let sup = grid
        .map(|z| Activation::Silu.derivative(z).abs())
        .fold(0.0, f64::max);
    assert!(sup <= Activation::Silu.lipschitz_bound());
    assert!(sup >= 1.0);
}

/// Steep target (Lipschitz about 6 per coordinate) that pushes any student to the budget.
fn steep_data(d: usize, n: usize, rng: &mut ChaCha8Rng) -> (DMatrix<f64>, DMatrix<f64>) {
    let x = uniform_matrix(d, n, 2.0, rng);
    let y = x.map(|v| 3.0 * (2.0 * v).sin());
    (x, y)
}

/// Largest |f(x) - f(y)| / |x - y| over far pairs and near pairs (|x - y| ~ 1e-3).
fn empirical_lipschitz(map: &impl FlowMap, pairs: usize, rng: &mut ChaCha8Rng) -> f64 {
    let d = map.dim_in();
    let x = uniform_matrix(d, pairs, 3.0, rng);
    let far = uniform_matrix(d, pairs, 3.0, rng);
    let near = &x + uniform_matrix(d, pairs, 1e-3, rng);
    let fx = map.map_batch(&x).unwrap();
    let mut best: f64 = 0.0;
    for y in [far, near] {
        let fy = map.map_batch(&y).unwrap();
        for j in 0..pairs {
            let dx = (x.column(j) - y.column(j)).norm();
            if dx > 0.0 {
                best = best.max((fx.column(j) - fy.column(j)).norm() / dx);
            }
        }
    }
    best
}

fn train_lipschitz(
    act: Activation,
    residual: bool,
    budget: f64,
    seed: u64,
    steps: usize,
) -> LipschitzMlp {
    let d = 2;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (x, y) = steep_data(d, 256, &mut rng);
    let mlp = MlpConfig::new(d, vec![16, 16], d, act).with_residual(residual);
    let cfg = LipschitzConfig { mlp, budget }.check().unwrap();
    let mut net = LipschitzMlp::new(&cfg, &mut rng);
    let tc = TrainConfig::new(steps, 32, 1e-2).check().unwrap();
    train(&mut net, &x, &y, &tc, &mut rng).unwrap();
    net
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// After training, certificate <= M and no pair of points beats the certificate.
    #[test]
    fn lipschitz_certificate_holds_after_training(
        budget in 0.2f64..4.0,
        seed in any::<u64>(),
        relu in any::<bool>(),
        residual in any::<bool>(),
    ) {
        let act = if relu { Activation::Relu } else { Activation::Silu };
        let budget = if residual { 1.0 + budget } else { budget };
        let net = train_lipschitz(act, residual, budget, seed, 100);
        let cert = net.certified_lipschitz();
        prop_assert!(cert <= budget, "certificate {cert} above budget {budget}");
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 1);
        let emp = empirical_lipschitz(&net, 200, &mut rng);
        prop_assert!(emp <= cert * (1.0 + BOUND_SLACK_REL), "empirical {emp} > certificate {cert}");
    }
}

#[test]
fn lipschitz_projection_binds_on_a_steep_target() {
    let budget = 1.5;
    let net = train_lipschitz(Activation::Relu, false, budget, 9, 300);
    let cert = net.certified_lipschitz();
    assert!(cert <= budget);
    assert!(
        cert >= budget * (1.0 - BOUND_SLACK_REL),
        "projection never bound: {cert}"
    );
    let norms = net.layer_norms();
    let product: f64 = norms.iter().product();
    assert!((product - cert).abs() <= EXACT);
    let free = Mlp::from_layers(
        net.network().weights().to_vec(),
        net.network().biases().to_vec(),
        Activation::Relu,
        false,
    )
    .unwrap();
    assert_eq!(free, *net.network());
    let json = serde_json::to_string(&net).unwrap();
    assert_close(
        serde_json::from_str::<LipschitzMlp>(&json)
            .unwrap()
            .network(),
        net.network(),
    );
    let loose = json.replace("\"budget\":1.5", "\"budget\":0.5");
    let reloaded: LipschitzMlp = serde_json::from_str(&loose).unwrap();
    assert!(
        reloaded.certified_lipschitz() <= 0.5,
        "loading projects into the new budget"
    );
    assert_eq!(net.into_network(), free);
}
