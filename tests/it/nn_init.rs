//! Initialisation of `Mlp`: He / Glorot draws and the read-out initial scale.

use flowcert::nn::{Activation, Init, Mlp, MlpConfig};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

fn gaussian(rows: usize, cols: usize, sd: f64, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| sd * rng.sample::<f64, _>(StandardNormal))
}

#[test]
fn default_initialisation_is_the_plain_draw_in_layer_order() {
    for init in [Init::He, Init::Glorot] {
        let cfg = MlpConfig::new(3, vec![5, 4], 2, Activation::Silu).with_init(init);
        assert_eq!(cfg.readout_scale, 1.0);
        let net = Mlp::new(&cfg.check().unwrap(), &mut ChaCha8Rng::seed_from_u64(8));
        // the same draws, made independently: column-major, layer by layer
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for (w, (fan_in, fan_out)) in net.weights().iter().zip([(3, 5), (5, 4), (4, 2)]) {
            let var = match init {
                Init::He => 2.0 / fan_in as f64,
                _ => 2.0 / (fan_in + fan_out) as f64,
            };
            let want = gaussian(fan_out, fan_in, var.sqrt(), &mut rng);
            assert_eq!(w, &want, "{init:?} layer {fan_in} -> {fan_out}");
        }
        assert!(net.biases().iter().all(|b| b.iter().all(|&v| v == 0.0)));
    }
}

#[test]
fn zero_readout_scale_starts_a_residual_network_exactly_at_the_identity() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (d, hidden, act) in [
        (2, vec![64, 64], Activation::Silu),
        (8, vec![16], Activation::Relu),
        (3, vec![], Activation::Identity),
    ] {
        let cfg = MlpConfig::new(d, hidden.clone(), d, act)
            .with_residual(true)
            .with_readout_scale(0.0);
        let net = Mlp::new(&cfg.check().unwrap(), &mut rng);
        let last = net.weights().last().unwrap();
        assert!(
            last.iter().all(|v| v.to_bits() == 0),
            "read-out weights are +0"
        );
        let x = gaussian(d, 50, 10.0, &mut rng);
        assert_eq!(net.predict(&x), x, "d = {d}, hidden {hidden:?}");
        // a plain network with zero read-out is the zero map
        let plain = MlpConfig::new(d, hidden, d, act).with_readout_scale(0.0);
        let net = Mlp::new(&plain.check().unwrap(), &mut rng);
        assert!(net.predict(&x).iter().all(|&v| v == 0.0));
    }
}

#[test]
fn readout_scale_multiplies_only_the_readout_weights_of_the_same_draw() {
    let build = |s: f64| {
        let cfg = MlpConfig::new(2, vec![16, 16], 2, Activation::Silu)
            .with_residual(true)
            .with_readout_scale(s);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let net = Mlp::new(&cfg.check().unwrap(), &mut rng);
        (net, rng.random::<u64>())
    };
    let (base, after) = build(1.0);
    for s in [0.3, 0.03, 2.5] {
        let (net, next) = build(s);
        assert_eq!(next, after, "the scale must not change the random stream");
        let l = net.depth() - 1;
        assert_eq!(net.weights()[..l], base.weights()[..l]);
        assert_eq!(net.biases(), base.biases());
        assert_eq!(
            net.weights()[l],
            base.weights()[l].map(|v| v * s),
            "s = {s}"
        );
    }
}

#[test]
fn invalid_readout_scales_are_rejected_by_name() {
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        let err = MlpConfig::new(2, vec![4], 2, Activation::Silu)
            .with_readout_scale(bad)
            .check()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("readout_scale") && err.contains(">= 0"),
            "{err}"
        );
    }
    let json =
        r#"{"dim_in":2,"hidden":[4],"dim_out":2,"activation":"Silu","residual":true,"init":"He"}"#;
    let cfg: MlpConfig = serde_json::from_str(json).unwrap();
    assert_eq!(
        cfg.readout_scale, 1.0,
        "configs written before the field default to 1"
    );
}
