//! The score-approximation checker on every Gaussian path (theory/07-gaussian-paths.md,
//! "Score approximation"; theory/06): the OU network composed with the clock `tau(t)` and
//! the scaling `k(t)` (`PathScoreNetwork`), measured against the *exact* score of the
//! mixture on the path, with exact samples of the path's `p_t`.
//!
//! - the identity behind the transfer, `s_P(x, t) = s_OU(x / k, tau) / k`, on the exact
//!   scores of both mixtures (computed independently, each from its own `alpha`, `sigma`);
//! - on every path the measured `L^1`, `L^2(p_t)` errors are within `eps / k(t)`, the
//!   network's sizes are the OU network's on `[tau(t_min), tau(T)]`, and bound/error equals
//!   the OU network's eps/error at the matched times (same seeded draws);
//! - kept mutations (`PathMutation::NoOutputScale`: the `1/k` forgotten;
//!   `PathMutation::PathTime`: `t` read instead of `tau(t)`) are caught on `edm` and
//!   `rectified` (the first is invisible on the VP paths, where `k = 1`);
//! - on OU the wrapper is the OU network bit for bit and the report has no `path`;
//! - the CLI: `score-net --process edm` (exit 0, JSON names the process), a time outside
//!   the path refused with exit 2.

use flowcert::approx::on_path::PathMutation;
use flowcert::approx::{PathScoreNetwork, ScoreNetConfig, ScoreNetwork};
use flowcert::model::process::Process;
use flowcert::model::{ScoreField, builtin};
use flowcert::suite::on_path::matched;
use flowcert::theorems::score_approx::{
    measure_built, measure_network, measure_path_built, time_grid,
};
use nalgebra::DMatrix;

use crate::common::cli::{assert_bad, run};
use crate::common::{self, process};

fn others() -> impl Iterator<Item = Process> {
    common::paths_off_ou()
}

/// The path's times matched to OU's `[0.01, 1]` (`eps` as given).
fn config_on(p: &Process, eps: f64) -> ScoreNetConfig {
    ScoreNetConfig {
        eps,
        t_min: matched(p, "t_min", 0.01).unwrap(),
        t_max: matched(p, "t_max", 1.0).unwrap(),
    }
}

#[test]
fn exact_path_score_is_the_scaled_ou_score_at_the_matched_time() {
    let base = builtin::hetero3();
    for p in others() {
        let mix = base.clone().with_process(p.clone());
        let cfg = config_on(&p, 0.1);
        for t in time_grid(cfg.t_min, cfg.t_max, 4) {
            let c = p.coeffs(t);
            // sigma/alpha from the path's coefficients; OU's tau with that ratio in closed form.
            let r2 = c.sigma2 / c.alpha2;
            let tau = 0.5 * r2.ln_1p();
            let k = c.alpha * tau.exp();
            let d = base.dim();
            for x in [[0.3, -0.7, 1.1], [2.5, 1.0, -0.4], [-4.0, 0.2, 3.0]] {
                let x = &x[..d];
                let y: Vec<f64> = x.iter().map(|v| v / k).collect();
                let (mut sp, mut so) = (vec![0.0; d], vec![0.0; d]);
                mix.score_into(x, t, &mut sp);
                base.score_into(&y, tau, &mut so);
                for i in 0..d {
                    let want = so[i] / k;
                    assert!(
                        (sp[i] - want).abs() <= 1e-9 * (1.0 + want.abs()),
                        "{} t {t}: {sp:?} vs {want}",
                        p.label()
                    );
                }
            }
            let net = PathScoreNetwork::build(&mix, &cfg).unwrap();
            assert!(
                (net.clock(t) - tau).abs() <= 1e-12 * (1.0 + tau),
                "{}",
                p.label()
            );
            assert!((net.scale(t) - k).abs() <= 1e-12 * k, "{}", p.label());
        }
    }
}

#[test]
fn the_wrapped_network_is_within_the_transferred_bound_on_every_path() {
    let base = builtin::two_mode(0.3);
    let eps = 1e-2;
    for p in others() {
        let mix = base.clone().with_process(p.clone());
        let cfg = config_on(&p, eps);
        let net = PathScoreNetwork::build(&mix, &cfg).unwrap();
        // The size is the OU network's on the matched interval.
        let ou_cfg = ScoreNetConfig {
            eps,
            t_min: net.clock(cfg.t_min),
            t_max: net.clock(cfg.t_max),
        };
        let ou_net = ScoreNetwork::build(&base, &ou_cfg.check().unwrap()).unwrap();
        assert_eq!(net.ou_network().sizes(), ou_net.sizes(), "{}", p.label());
        let times = time_grid(cfg.t_min, cfg.t_max, 4);
        let rep = measure_path_built(&net, &mix, &times, 300, 3).unwrap();
        let path = rep.path.as_ref().unwrap();
        assert_eq!(path.process, p.label());
        assert!(rep.passed, "{}: {rep:?}", p.label());
        for (e, b) in rep
            .errors
            .iter()
            .zip(path.bounds.iter().flat_map(|b| [b, b]))
        {
            assert_eq!(e.t, b.t);
            assert!(
                e.lp_error > 0.0 && e.lp_error <= b.bound,
                "{}: {e:?} {b:?}",
                p.label()
            );
            // k from alpha and sigma: sqrt(alpha^2 + sigma^2).
            let c = p.coeffs(b.t);
            let k = (c.alpha2 + c.sigma2).sqrt();
            assert!((b.k - k).abs() <= 1e-12 * k && (b.bound - eps / k).abs() <= 1e-12 * eps / k);
        }
        assert!(rep.margin() >= 1.0, "{}", p.label());
        // Corollary 6a in the measurement: the same seeded draws give x = k y with
        // y ~ p^OU_tau, so bound/error is the OU network's eps/error at the matched times.
        let taus: Vec<f64> = path.bounds.iter().map(|b| b.tau).collect();
        let on_ou = measure_built(net.ou_network(), &base, &taus, 300, 3).unwrap();
        assert!(
            (rep.margin() / on_ou.margin() - 1.0).abs() < 1e-6,
            "{}: {} vs OU {}",
            p.label(),
            rep.margin(),
            on_ou.margin()
        );
        // measure_network takes the same route.
        let again = measure_network(&mix, &cfg.check().unwrap(), &times, 300, 3).unwrap();
        assert_eq!(again, rep);
    }
}

#[test]
fn forgetting_the_scaling_or_the_clock_is_caught() {
    let base = builtin::two_mode(0.3);
    for name in ["edm", "rectified"] {
        let p = process(name);
        let mix = base.clone().with_process(p.clone());
        let cfg = config_on(&p, 1e-2);
        let times = time_grid(cfg.t_min, cfg.t_max, 4);
        for m in [PathMutation::NoOutputScale, PathMutation::PathTime] {
            let net = PathScoreNetwork::build_mutated(&mix, &cfg, Some(m)).unwrap();
            let rep = measure_path_built(&net, &mix, &times, 300, 3).unwrap();
            assert!(!rep.passed && rep.margin() < 1.0, "{name} {m:?}: {rep:?}");
        }
    }
}

#[test]
fn on_ou_the_wrapper_is_the_ou_network_bit_for_bit() {
    let mix = builtin::two_mode(0.1);
    let cfg = ScoreNetConfig::new(1e-2);
    let params = cfg.check().unwrap();
    let net = ScoreNetwork::build(&mix, &params).unwrap();
    let wrapped = PathScoreNetwork::build(&mix, &cfg).unwrap();
    let xs = DMatrix::from_column_slice(2, 3, &[0.3, -0.1, 1.4, 0.2, 9.0, 9.0]);
    for t in [0.01, 0.2, 1.0] {
        assert_eq!(net.score_batch(&xs, t), wrapped.score_batch(&xs, t));
        assert_eq!((wrapped.clock(t), wrapped.scale(t)), (t, 1.0));
    }
    let times = [0.01, 1.0];
    let rep = measure_path_built(&wrapped, &mix, &times, 200, 1).unwrap();
    assert!(rep.path.is_none());
    assert_eq!(rep, measure_network(&mix, &params, &times, 200, 1).unwrap());
}

#[test]
fn cli_score_net_runs_on_edm_and_refuses_times_off_the_path() {
    let args = [
        "--json",
        "score-net",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--process",
        "edm",
        "--eps",
        "1e-2",
        "--samples",
        "200",
        "--times",
        "3",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["process"]["name"], "edm");
    assert_eq!(v["path"]["process"], "edm");
    assert_eq!(v["path"]["bounds"].as_array().unwrap().len(), 3);
    assert!(v["parameters"].as_u64().unwrap() > 0);
    let (code, out, err) = run(&args[1..]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("on the edm path") && out.contains("eps / k(t)"),
        "{out}"
    );
    assert_bad(
        &[
            "score-net",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--process",
            "rectified",
            "--eps",
            "1e-2",
        ],
        &["--t-max"],
    );
}
