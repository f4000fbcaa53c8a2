//! Score approximation by ReLU-ReQU networks (theory/06-score-approximation.md): every building
//! block meets its own error budget over its whole input range, the lowering of graphs
//! to layers is exact, the score network meets eps in L^1 and L^2(p_t) on random
//! mixtures, its counts are exact, and its size grows polylogarithmically in 1/eps.

use crate::common;

use flowcert::approx::{
    Activation, Builder, ExpPlan, Lin, Network, RecipPlan, ScoreNetConfig, ScoreNetwork,
    SizeCounts, SoftmaxPlan, TimeFunction, blocks, fit_time_function,
};
use flowcert::model::{ScoreField, builtin};
use flowcert::theorems::score_approx::trained::{DsmConfig, compare_with_dsm, train_dsm};
use flowcert::theorems::score_approx::{self, EPS_LIST, fit_polylog};
use flowcert::tolerance::{APPROX_ROUNDING_SHARE, EXACT, NET_ROUNDING_REL};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Dense grid of `n` points on `[a, b]` plus `m` seeded uniform points.
fn grid_and_random(a: f64, b: f64, n: usize, m: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .chain((0..m).map(|_| a + (b - a) * rng.random::<f64>()))
        .collect()
}

/// A one-input block network `x -> f(x)`.
fn unary(build: impl FnOnce(&mut Builder, &Lin) -> Lin) -> Network {
    let mut b = Builder::new(1);
    let x = b.input(0);
    let out = build(&mut b, &x);
    b.finish(&[out])
}

/// Recount depth, width and non-zero parameters by walking the layers.
fn recount(net: &Network) -> SizeCounts {
    let mut width = 0;
    let mut params = 0;
    let mut prev = net.n_in();
    for l in net.layers() {
        assert_eq!(l.n_in(), prev, "layers chain");
        prev = l.n_out();
        width = width.max(l.n_out());
        for i in 0..l.n_out() {
            let r = l.row(i);
            params += r.weights.iter().filter(|w| **w != 0.0).count();
            params += usize::from(r.bias != 0.0);
        }
        // the dense form agrees
        let (w, b) = l.to_dense();
        let dense =
            w.iter().filter(|v| **v != 0.0).count() + b.iter().filter(|v| **v != 0.0).count();
        assert_eq!(dense, l.parameters());
    }
    SizeCounts {
        depth: net.layers().len(),
        width,
        parameters: params,
    }
}

#[test]
fn square_and_product_are_exact_to_rounding() {
    for (xs, ys) in [(1.0, 1.0), (100.0, 0.01), (5.0, 3.0), (1e3, 40.0)] {
        let mut b = Builder::new(2);
        let (x, y) = (b.input(0), b.input(1));
        let p = blocks::product(&mut b, &x, xs, &y, ys);
        let s = blocks::square(&mut b, &x, xs);
        let net = b.finish(&[p, s]);
        assert_eq!(net.counts().depth, 2);
        let gx = grid_and_random(-xs, xs, 41, 200, 1);
        let gy = grid_and_random(-ys, ys, 41, 200, 2);
        for &u in &gx {
            for &v in gy.iter().step_by(3) {
                let out = net.eval(&[u, v]);
                assert!(
                    (out[0] - u * v).abs() <= NET_ROUNDING_REL * xs * ys,
                    "{u} * {v}"
                );
                assert!(
                    (out[1] - u * u).abs() <= NET_ROUNDING_REL * xs * xs,
                    "{u}^2"
                );
            }
        }
    }
    // the one-neuron forms on their (non-negative) domains
    let net = unary(|b, x| blocks::square_nonneg(b, x, 2.0));
    for u in grid_and_random(0.0, 2.0, 101, 100, 3) {
        assert!((net.eval(&[u])[0] - u * u).abs() <= NET_ROUNDING_REL * 4.0);
    }
}

#[test]
fn chebyshev_and_power_trees_are_exact_to_rounding() {
    let n = 64;
    let mut b = Builder::new(1);
    let u = b.input(0);
    let t = blocks::chebyshev_basis(&mut b, &u, n);
    let net = b.finish(&t);
    assert_eq!(net.counts().depth, blocks::ceil_log2(n) + 1);
    for x in grid_and_random(-1.0, 1.0, 401, 200, 4) {
        let v = net.eval(&[x]);
        for (k, vk) in v.iter().enumerate() {
            let exact = (k as f64 * x.acos()).cos();
            let tol = NET_ROUNDING_REL * ((k * k) as f64).max(1.0);
            assert!((vk - exact).abs() <= tol, "T_{k}({x}): {vk} vs {exact}");
        }
    }
    let q = 29;
    let mut b = Builder::new(1);
    let v = b.input(0);
    let p = blocks::powers(&mut b, &v, q);
    let net = b.finish(&p);
    assert_eq!(net.counts().depth, blocks::ceil_log2(q) + 1);
    for x in grid_and_random(-1.0, 1.0, 401, 200, 5) {
        for (k, vk) in net.eval(&[x]).iter().enumerate() {
            assert!((vk - x.powi(k as i32)).abs() <= NET_ROUNDING_REL * k.max(1) as f64);
        }
    }
}

#[test]
fn range_reduced_exp_meets_its_budget() {
    for (range, target) in [(5.0, 1e-3), (12.0, 1e-6), (20.0, 1e-9), (30.0, 1e-12)] {
        let plan = ExpPlan::new(range, target);
        assert!(plan.rel_bound <= target);
        let net = unary(|b, c| plan.build(b, c));
        assert_eq!(net.counts().depth, plan.depth() + 1);
        // rounding grows by 2 per squaring
        let tol = plan.rel_bound + NET_ROUNDING_REL * (plan.squarings as f64).exp2();
        for c in grid_and_random(-range, 0.0, 2001, 500, 6) {
            let v = net.eval(&[c])[0];
            let rel = (v / c.exp() - 1.0).abs();
            assert!(rel <= tol, "e^{c}: rel error {rel:e} > {tol:e} ({plan:?})");
        }
    }
}

#[test]
fn newton_reciprocal_meets_its_budget() {
    for (lo, hi) in [(0.03, 1.0), (1.0, 3.0), (0.5, 50.0), (0.0199, 1.0)] {
        for target in [1e-3, 1e-8, 1e-13] {
            let plan = RecipPlan::new(lo, hi, target);
            assert!(plan.rel_bound <= target);
            let net = unary(|b, a| plan.build(b, a));
            assert_eq!(net.counts().depth, plan.depth() + 1);
            for a in grid_and_random(lo, hi, 2001, 500, 7) {
                let rel = (net.eval(&[a])[0] * a - 1.0).abs();
                // products are scaled to 1/lo, so rounding is relative to hi/lo
                let tol = plan.rel_bound + NET_ROUNDING_REL * hi / lo;
                assert!(rel <= tol, "1/{a} on [{lo},{hi}]: {rel:e}");
            }
        }
    }
}

#[test]
fn max_tree_and_softmax_meet_their_budgets() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for k in 1..=6 {
        let mut b = Builder::new(k);
        let xs: Vec<Lin> = (0..k).map(|i| b.input(i)).collect();
        let m = blocks::max_tree(&mut b, &xs);
        let net = b.finish(&[m]);
        assert_eq!(net.counts().depth, blocks::ceil_log2(k) + 1);
        for _ in 0..300 {
            let v: Vec<f64> = (0..k).map(|_| rng.random_range(-1e3..1e3)).collect();
            let exact = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            assert!((net.eval(&v)[0] - exact).abs() <= EXACT * 1e3);
        }
    }
    for k in [2usize, 3, 5] {
        for eta in [1e-2, 1e-6, 1e-10] {
            let plan = SoftmaxPlan::new(k, eta);
            assert!(plan.bound <= eta);
            let mut b = Builder::new(k);
            let xs: Vec<Lin> = (0..k).map(|i| b.input(i)).collect();
            let r = plan.build(&mut b, &xs);
            let net = b.finish(&r);
            for trial in 0..400 {
                let spread = [1.0, 10.0, 60.0, 1e4][trial % 4];
                let l: Vec<f64> = (0..k).map(|_| rng.random_range(-spread..spread)).collect();
                let m = l.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = l.iter().map(|v| (v - m).exp()).sum();
                let out = net.eval(&l);
                let err: f64 = l
                    .iter()
                    .zip(&out)
                    .map(|(v, o)| (o - (v - m).exp() / z).abs())
                    .sum();
                assert!(
                    err <= plan.bound + NET_ROUNDING_REL * k as f64,
                    "K={k} eta={eta}: {err:e}"
                );
            }
        }
    }
}

#[test]
fn chebyshev_time_features_meet_their_bounds() {
    let fs = [
        TimeFunction::Exp { rate: 1.0 },
        TimeFunction::Exp { rate: 2.0 },
        TimeFunction::LogDet {
            eigvals: vec![0.01, 0.3, 2.5, 1.0],
        },
        TimeFunction::LogDet {
            eigvals: vec![0.0025],
        },
        TimeFunction::LogDet {
            eigvals: vec![40.0, 1.0],
        },
    ];
    for f in &fs {
        for (a, b) in [(0.01, 1.0), (0.003, 2.0)] {
            for target in [1e-4, 1e-10] {
                let fit = fit_time_function(f, a, b, target).unwrap();
                assert!(fit.bound <= target);
                // the exact interpolant (Clenshaw) and the network through the shared basis
                let n = fit.series.degree();
                let mut bl = Builder::new(1);
                let t = bl.input(0);
                let u = (t * (2.0 / (b - a))) + (-(a + b) / (b - a));
                let basis = blocks::chebyshev_basis(&mut bl, &u, n);
                let mut p = Lin::constant(0.0);
                for (c, tk) in fit.series.coeffs.iter().zip(&basis) {
                    p = p.axpy(*c, tk);
                }
                let net = bl.finish(&[p]);
                let scale: f64 = fit.series.coeffs.iter().map(|c| c.abs()).sum();
                let rounding = NET_ROUNDING_REL * scale * ((n * n) as f64).max(1.0);
                for s in grid_and_random(a, b, 4001, 500, 9) {
                    let exact = f.eval(s);
                    let e1 = (fit.series.eval(s) - exact).abs();
                    assert!(
                        e1 <= fit.bound + NET_ROUNDING_REL * scale,
                        "{f:?} at {s}: {e1:e}"
                    );
                    let e2 = (net.eval(&[s])[0] - exact).abs();
                    assert!(e2 <= fit.bound + rounding, "{f:?} net at {s}: {e2:e}");
                }
            }
        }
    }
}

#[test]
fn combinators_compose_and_pad() {
    let square = unary(|b, x| blocks::square(b, x, 1.0)); // depth 2
    let deep = unary(|b, x| {
        let r = b.relu(x);
        let r2 = b.relu(&r);
        let r3 = b.relu(&r2);
        r3 * 3.0
    }); // depth 4
    let par = square.parallel(&deep).unwrap();
    let (cs, cd, cp) = (square.counts(), deep.counts(), par.counts());
    assert_eq!(cp.depth, 4);
    // padding: two identity layers of one neuron (one weight each) after `square`
    assert_eq!(cp.parameters, cs.parameters + cd.parameters + 2);
    assert_eq!(cp, recount(&par));
    for x in grid_and_random(-2.0, 2.0, 41, 20, 10) {
        assert_eq!(par.eval(&[x]), vec![x * x, 3.0 * x.max(0.0)]);
        let comp = square.compose(&deep).unwrap();
        assert_eq!(comp.eval(&[x]), vec![3.0 * (x * x)]);
        assert_eq!(comp.counts().depth, 6);
    }
    let pure = par.to_relu_requ();
    assert_eq!(
        pure.layers()
            .iter()
            .take(3)
            .map(|l| l.count(Activation::Identity))
            .sum::<usize>(),
        0
    );
    for x in [-1.5, 0.0, 0.3, 2.0] {
        assert_eq!(pure.eval(&[x]), par.eval(&[x]));
    }
    let batch = nalgebra::DMatrix::from_fn(1, 150, |_, c| -2.0 + c as f64 / 40.0);
    let out = par.eval_batch(&batch);
    for c in 0..150 {
        assert_eq!(
            out.column(c).iter().copied().collect::<Vec<_>>(),
            par.eval(&[batch[(0, c)]])
        );
    }
}

/// Neuron specs of a random graph: (activation index, (node index, weight) terms, bias).
type GraphOps = Vec<(u8, Vec<(usize, f64)>, f64)>;

/// A random graph: each step adds a neuron on a random affine form of 1..3 earlier nodes.
fn arb_graph() -> impl Strategy<Value = (usize, GraphOps, Vec<f64>)> {
    (1usize..4).prop_flat_map(|ni| {
        (
            Just(ni),
            proptest::collection::vec(
                (
                    0u8..3,
                    proptest::collection::vec((0usize..1000, -1.0f64..1.0), 1..4),
                    -1.0f64..1.0,
                ),
                1..25,
            ),
            proptest::collection::vec(-2.0f64..2.0, ni),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Lowering (levels, identity carriers, dead-neuron pruning) computes the graph, the
    /// counts are exact, and the pure ReLU-ReQU form computes the same numbers bit for bit.
    #[test]
    fn lowering_matches_the_graph((ni, ops, x) in arb_graph()) {
        let mut b = Builder::new(ni);
        let mut nodes: Vec<Lin> = (0..ni).map(|i| b.input(i)).collect();
        for (act, terms, c) in &ops {
            let mut lin = Lin::constant(*c);
            for &(j, w) in terms {
                lin = lin.axpy(w, &nodes[j % nodes.len()]);
            }
            let act = [Activation::Identity, Activation::Relu, Activation::Requ][*act as usize];
            let h = b.neuron(act, &lin);
            nodes.push(h);
        }
        let outputs = vec![nodes[nodes.len() - 1].clone(), &nodes[0] + &nodes[nodes.len() / 2]];
        let direct = b.eval_direct(&x, &outputs);
        let net = b.finish(&outputs);
        let got = net.eval(&x);
        for (g, d) in got.iter().zip(&direct) {
            prop_assert!((g - d).abs() <= EXACT * (1.0 + d.abs()), "{g} vs {d}");
        }
        prop_assert_eq!(net.counts(), recount(&net));
        let pure = net.to_relu_requ();
        prop_assert_eq!(pure.eval(&x), got);
        prop_assert_eq!(pure.counts(), recount(&pure));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The construction meets eps in L^1 and L^2(p_t) on random mixtures; its proven
    /// budget plus the rounding share is at most eps; its counts are exact.
    #[test]
    fn score_network_meets_eps_on_random_mixtures(
        mix in common::arb_mixture(1..=3, 1..=3, 0.02, 2.0, 2.0, false),
        e in 1usize..=3,
        seed in 0u64..1000,
    ) {
        let eps = 10f64.powi(-(e as i32));
        let p = ScoreNetConfig::new(eps).check().unwrap();
        let net = ScoreNetwork::build(&mix, &p).unwrap();
        let b = net.budget();
        prop_assert!(b.total_bound + APPROX_ROUNDING_SHARE * eps <= eps);
        let rep = score_approx::measure_built(&net, &mix, &[0.01, 0.1, 1.0], 300, seed).unwrap();
        prop_assert!(rep.sup_l2 <= eps, "sup L2 {} > eps {}", rep.sup_l2, eps);
        prop_assert!(rep.sup_l1 <= eps);
        prop_assert!(rep.passed);
        let c = net.network().counts();
        prop_assert_eq!(c, recount(net.network()));
        prop_assert_eq!((rep.depth, rep.width, rep.parameters), (c.depth, c.width, c.parameters));
        let pure = net.network().to_relu_requ();
        prop_assert_eq!(pure.counts(), recount(&pure));
        prop_assert_eq!(pure.counts(), net.sizes().relu_requ);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let xs = mix.sample(0.05, 5, &mut rng);
        for col in 0..5 {
            let mut input: Vec<f64> = xs.column(col).iter().copied().collect();
            input.push(0.05);
            prop_assert_eq!(pure.eval(&input), net.network().eval(&input));
        }
    }
}

#[test]
fn size_grows_polylogarithmically() {
    for mix in [builtin::two_mode(0.1), builtin::hetero3()] {
        let nets: Vec<ScoreNetwork> = EPS_LIST
            .iter()
            .map(|&e| ScoreNetwork::build(&mix, &ScoreNetConfig::new(e).check().unwrap()).unwrap())
            .collect();
        let counts: Vec<SizeCounts> = nets.iter().map(|n| n.network().counts()).collect();
        let eps = EPS_LIST.to_vec();
        let col =
            |f: fn(&SizeCounts) -> usize| counts.iter().map(|c| f(c) as f64).collect::<Vec<_>>();
        // log ratio of the accuracies: ln(1e5)/ln(10) = 5
        let log_ratio = (1.0 / eps[4]).ln() / (1.0 / eps[0]).ln();
        for (name, sizes, max_exp) in [
            ("depth", col(|c| c.depth), 2.0),
            ("width", col(|c| c.width), 3.0),
            ("parameters", col(|c| c.parameters), 3.0),
        ] {
            let fit = fit_polylog(&eps, &sizes);
            assert!(
                fit.exponent.is_finite() && fit.exponent <= max_exp,
                "{name}: {fit:?}"
            );
            assert!(
                sizes[4] / sizes[0] <= log_ratio.powf(max_exp),
                "{name}: {sizes:?}"
            );
        }
        // the budget always leaves the rounding share
        for (n, &e) in nets.iter().zip(&eps) {
            assert!(n.budget().total_bound <= (1.0 - APPROX_ROUNDING_SHARE) * e);
        }
    }
}

/// The closed-form tail bound dominates a Monte Carlo estimate of the quantity it bounds,
/// `E[(eps_in + 2 B mu + 2 B |x|)^2 1{|x|_inf > R}]`, at every time (small R, so that the
/// mass outside is visible).
#[test]
fn tail_bound_dominates_monte_carlo() {
    let (t_min, t_max, eps_in) = (0.01, 1.0, 1e-3);
    for mix in [builtin::two_mode(0.3), builtin::hetero3()] {
        let s_lo = |l: f64| {
            let s = |t: f64| (-2.0 * t).exp() * l - (-2.0 * t).exp_m1();
            s(t_min).min(s(t_max))
        };
        let b = mix
            .components()
            .iter()
            .flat_map(|c| c.eigvals.iter())
            .map(|&l| 1.0 / s_lo(l))
            .fold(0.0, f64::max);
        let mu = f64::exp(-t_min)
            * mix
                .components()
                .iter()
                .map(|c| c.mean.norm())
                .fold(0.0, f64::max);
        for radius in [2.0, 2.5, 3.0] {
            let bound = flowcert::approx::tail_bound(&mix, t_min, t_max, radius, eps_in);
            for (i, t) in [0.01, 0.3, 1.0].into_iter().enumerate() {
                let mut rng = ChaCha8Rng::seed_from_u64(20 + i as u64);
                let xs = mix.sample(t, 20000, &mut rng);
                let mc: f64 = (0..xs.ncols())
                    .map(|c| {
                        let x = xs.column(c);
                        if x.iter().any(|v| v.abs() > radius) {
                            (eps_in + 2.0 * b * (mu + x.norm())).powi(2)
                        } else {
                            0.0
                        }
                    })
                    .sum::<f64>()
                    / xs.ncols() as f64;
                assert!(
                    mc.sqrt() <= bound,
                    "R={radius} t={t}: MC {} > bound {bound}",
                    mc.sqrt()
                );
            }
        }
    }
}

#[test]
fn report_serialises_with_the_contract_fields() {
    let mix = builtin::two_mode(0.3);
    let p = ScoreNetConfig::new(1e-2).check().unwrap();
    let rep = score_approx::measure_network(&mix, &p, &[0.01, 0.5], 200, 3).unwrap();
    assert_eq!(rep.errors.len(), 4);
    for r in &rep.errors {
        assert!(r.ci_low <= r.lp_error && r.lp_error <= r.ci_high);
        assert!((0.0..=1.0).contains(&r.mass_outside));
    }
    let v = serde_json::to_value(&rep).unwrap();
    for key in ["eps", "depth", "width", "parameters", "errors"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["t", "p", "lp_error", "ci_low", "ci_high"] {
        assert!(v["errors"][0].get(key).is_some(), "missing errors[].{key}");
    }
    // the same seed gives the same bytes
    let again = score_approx::measure_network(&mix, &p, &[0.01, 0.5], 200, 3).unwrap();
    assert_eq!(
        serde_json::to_string(&rep).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    let net = ScoreNetwork::build(&mix, &p).unwrap();
    let pts = vec![vec![0.3, -0.1], vec![1.4, 0.2]];
    let out = net.score_points(&pts, 0.2).unwrap();
    for (x, s) in pts.iter().zip(&out) {
        let mut exact = [0.0; 2];
        mix.score_into(x, 0.2, &mut exact);
        assert!(((s[0] - exact[0]).powi(2) + (s[1] - exact[1]).powi(2)).sqrt() <= 1e-2);
    }
}

#[test]
fn dsm_trained_mlp_learns_but_is_not_uniform_like_the_construction() {
    let mix = builtin::two_mode(0.3);
    let p = ScoreNetConfig::new(1e-2).check().unwrap();
    let cfg = DsmConfig {
        steps: 300,
        batch: 32,
        ..Default::default()
    };
    let (mlp, log) = train_dsm(
        &mix,
        &p,
        &DsmConfig {
            parameters: 400,
            ..cfg
        },
    )
    .unwrap();
    assert!(mlp.parameters() <= 400);
    assert!(
        log.losses.last().unwrap() < &log.losses[0],
        "{:?}",
        log.losses
    );
    let c = compare_with_dsm(&mix, &p, &cfg, &[0.01, 1.0], 200, 1).unwrap();
    assert!(c.trained_parameters <= c.constructive_parameters);
    assert!(c.constructive_sup <= 1e-2);
    assert!(c.rows.iter().all(|r| r.trained.lp_error.is_finite()));
    assert!(c.trained_sup > c.constructive_sup);
    assert!(train_dsm(&mix, &p, &DsmConfig { batch: 0, ..cfg }).is_err());
    assert!(
        train_dsm(
            &mix,
            &p,
            &DsmConfig {
                learning_rate: f64::NAN,
                ..cfg
            }
        )
        .is_err()
    );
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 100.0] {
        assert!(ScoreNetConfig::new(eps).check().is_err(), "eps {eps}");
    }
    for (a, b) in [
        (0.0, 1.0),
        (1.0, 1.0),
        (0.5, 0.1),
        (f64::NAN, 1.0),
        (0.1, f64::INFINITY),
    ] {
        let c = ScoreNetConfig {
            eps: 1e-2,
            t_min: a,
            t_max: b,
        };
        assert!(c.check().is_err(), "[{a}, {b}]");
    }
    let mix = builtin::two_mode(0.3);
    let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(0.1).check().unwrap()).unwrap();
    assert!(net.score_points(&[vec![1.0, 2.0, 3.0]], 0.5).is_err());
    assert!(net.score_points(&[vec![1.0, f64::NAN]], 0.5).is_err());
    assert!(net.score_points(&[vec![1.0, 2.0]], 0.0).is_err());
    assert!(score_approx::measure_errors(&net, &mix, &[0.5], 1, 0, None).is_err());
    assert!(score_approx::measure_errors(&net, &mix, &[-0.5], 10, 0, None).is_err());
    let e = ScoreNetConfig::new(0.0).check().unwrap_err().to_string();
    assert!(e.contains("eps"), "{e}");
}

/// The kept mutation of the score-net checker (`construct::Mutation::LogDetSign`, the
/// log-determinant term of the log-weights with the wrong sign) fails the checker's own
/// verdict on heterogeneous covariances, where the real network passes on the same
/// samples. On a shared covariance the term cancels in the softmax: the mutation is
/// invisible there, so a check that only ran two-mode mixtures could not see it.
#[test]
fn score_net_checker_catches_the_log_det_sign_mutation() {
    use flowcert::approx::construct::Mutation;
    let p = ScoreNetConfig::new(1e-2).check().unwrap();
    let times = score_approx::time_grid(0.01, 1.0, 3);
    let measure = |mix: &flowcert::model::Mixture, mutation| {
        let net = ScoreNetwork::build_mutated(mix, &p, mutation).unwrap();
        score_approx::measure_built(&net, mix, &times, 300, 0).unwrap()
    };
    let mix = builtin::hetero3();
    let (good, bad) = (
        measure(&mix, None),
        measure(&mix, Some(Mutation::LogDetSign)),
    );
    assert!(good.passed && good.sup_l2 <= 1e-2, "{}", good.sup_l2);
    assert!(!bad.passed, "mutation passed: sup_t L2 = {}", bad.sup_l2);
    let shared = builtin::two_mode(0.1);
    let (good, bad) = (
        measure(&shared, None),
        measure(&shared, Some(Mutation::LogDetSign)),
    );
    assert!(good.passed && bad.passed);
    assert!((good.sup_l2 - bad.sup_l2).abs() <= 1e-3 * good.sup_l2.max(1e-12));
}
