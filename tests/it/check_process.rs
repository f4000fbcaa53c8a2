//! `flowcert check --process NAME` (theory/07-gaussian-paths.md): every checker of the
//! suite on another Gaussian path, the plan's OU times mapped to the path's times of equal
//! noise ratio `sigma/alpha` (`Plan::on_process`).
//!
//! - the mapped times have OU's noise ratios, computed here from `alpha`, `sigma^2` directly;
//! - every checker runs and holds on every path (score-net through the OU network composed
//!   with the clock and the scaling of theory/07, within `eps / k(t)`);
//! - on the variance-preserving paths the L(t) bound at the mapped time is `h(t)` times OU's
//!   at the OU time (theory/07, Theorem 6: an independent consequence of the mapping);
//! - kept mutations caught on non-OU paths through the check's own code: OU's scalar
//!   factors (`bounds::Mutation::OuFactors`) in the L(t) and stability checks, the
//!   negated exponent (`composition::Mutation::NegatedExponent`) in the composition bound;
//! - the CLI: `process` in the JSON, the matched times in the table, a cut path refused
//!   naming the plan field and the fix, a stiff case's stability row "not run".

use flowcert::bounds::{Lipschitz, Mutation};
use flowcert::grids::lambda_at;
use flowcert::model::builtin::Builtin;
use flowcert::model::process::Process;
use flowcert::suite::{CHECKS, Case, Plan, Scale, Silent, bounds, run_checks};
use flowcert::theorems::composition::{Mutation as CompMutation, measure_perturbed_mutated};

use crate::common::cli::{assert_bad, run, run_json};
use crate::common::{self, process};

fn others() -> impl Iterator<Item = Process> {
    common::paths_off_ou()
}

/// `sigma/alpha` from the path's own coefficients (not through `noise_ratio`).
fn ratio(p: &Process, t: f64) -> f64 {
    let c = p.coeffs(t);
    (c.sigma2 / c.alpha2).sqrt()
}

#[test]
fn mapped_plan_has_ou_noise_ratios_on_every_path() {
    let ou = Process::default();
    let base = Plan::at(Scale::Tiny);
    for p in others() {
        let plan = Plan::at(Scale::Tiny).on_process(&p).unwrap();
        let pairs = base.bounds.times.iter().zip(&plan.bounds.times).chain([
            (&base.bounds.t_min, &plan.bounds.t_min),
            (&base.bounds.t_max, &plan.bounds.t_max),
            (&base.composition.t_min, &plan.composition.t_min),
            (&base.composition.t_max, &plan.composition.t_max),
            (&base.mismatch.config.t_min, &plan.mismatch.config.t_min),
            (&base.mismatch.config.t_max, &plan.mismatch.config.t_max),
        ]);
        for (&t_ou, &t) in pairs {
            assert!(p.domain().contains(t), "{}: {t} outside", p.label());
            let (want, got) = (ratio(&ou, t_ou), ratio(&p, t));
            assert!(
                (got - want).abs() <= 1e-10 * want,
                "{}: OU t {t_ou} -> {t}: ratio {got} vs {want}",
                p.label()
            );
        }
    }
    // OU: the plan as it was (bit for bit).
    let same = Plan::at(Scale::Tiny)
        .on_process(&Process::default())
        .unwrap();
    assert_eq!(same.bounds.times, base.bounds.times);
    assert_eq!(
        (same.composition.t_min, same.mismatch.config.t_max),
        (base.composition.t_min, base.mismatch.config.t_max)
    );
}

#[test]
fn every_checker_holds_on_every_path() {
    let case = Case::from(Builtin::TwoModeS03);
    for p in others() {
        let plan = Plan::at(Scale::Tiny).on_process(&p).unwrap();
        let s = run_checks(&plan, &[case.clone().on_process(&p)], &CHECKS, &Silent).unwrap();
        assert_eq!(s.violations, 0, "{}: {s:?}", p.label());
        for row in &s.rows {
            assert!(row.outcome.checked > 0, "{}: {row:?}", p.label());
            assert!(row.outcome.tightest.unwrap() >= 1.0 - 1e-6, "{row:?}");
            if row.checker == "score-net" {
                assert!(row.outcome.note.contains("clock and scaling"), "{row:?}");
            }
        }
    }
}

/// Theorem 6 of theory/07: on a variance-preserving path `J^VP(x, t) = h(t) J^OU(x, tau(t))`,
/// so every bound is `h(t)` times OU's at the matched time.
#[test]
fn vp_bounds_are_h_times_ou_at_the_matched_times() {
    let case = Case::from(Builtin::TwoModeS01);
    let ou = Plan::at(Scale::Tiny);
    let l_ou = Lipschitz::auto(&case.mixture);
    for name in ["vp-linear", "vp-cosine"] {
        let p = process(name);
        let plan = Plan::at(Scale::Tiny).on_process(&p).unwrap();
        let mix = case.mixture.clone().with_process(p.clone());
        let l_vp = Lipschitz::auto(&mix);
        for (&t_ou, &t) in ou.bounds.times.iter().zip(&plan.bounds.times) {
            let want = p.coeffs(t).h * l_ou.at(t_ou).unwrap().bound;
            let got = l_vp.at(t).unwrap().bound;
            assert!(
                (got - want).abs() <= 1e-8 * want,
                "{name} t={t}: {got} vs {want}"
            );
        }
    }
}

/// The kept mutations, through the check's own code on non-OU paths.
#[test]
fn ou_factors_in_the_check_are_caught_off_ou() {
    let case = Case::from(Builtin::TwoModeS01);
    for name in ["rectified", "vp-linear"] {
        let p = process(name);
        let mut plan = Plan::at(Scale::Tiny).on_process(&p).unwrap();
        let case = case.clone().on_process(&p);
        let good = bounds::lipschitz(&case, &plan.bounds).unwrap();
        assert_eq!(good.violations, 0, "{name}");
        plan.bounds.mutation = Some(Mutation::OuFactors);
        let bad = bounds::lipschitz(&case, &plan.bounds).unwrap();
        assert!(bad.violations > 0, "{name}: OU factors not caught");
        let s = run_checks(&plan, &[case], &CHECKS[..1], &Silent).unwrap();
        assert!(s.violations > 0, "{name}: the check row misses it");
    }
    // On OU, OU's factors are the right ones: no violation (a mutation only off OU).
    let mut plan = Plan::at(Scale::Tiny);
    plan.bounds.mutation = Some(Mutation::OuFactors);
    let ou = bounds::lipschitz(&case, &plan.bounds).unwrap();
    assert_eq!(ou.violations, 0);
}

#[test]
fn negated_composition_exponent_is_caught_on_rectified() {
    let p = process("rectified");
    let plan = Plan::at(Scale::Tiny).on_process(&p).unwrap().composition;
    let mix = Builtin::TwoModeS01.mixture().with_process(p);
    let flow = plan.teacher.flow(&mix);
    let radius = Lipschitz::auto(&mix).region_radius();
    let times = plan.grids[0]
        .times(&mix, plan.t_min, plan.t_max, plan.segments)
        .unwrap();
    let lambda = lambda_at(&mix, &times).unwrap();
    let eps = vec![plan.eps; plan.segments];
    let run = |m| measure_perturbed_mutated(&flow, &times, &lambda, &eps, radius, plan.probe, m);
    let good = run(None).unwrap();
    assert_eq!(good.violations, 0);
    assert!(good.max_error > 0.0 && good.max_error <= good.bound);
    let bad = run(Some(CompMutation::NegatedExponent)).unwrap();
    assert!(bad.violations > 0, "negated exponent not caught: {bad:?}");
}

#[test]
fn cli_check_names_the_path_and_its_times() {
    let m = "builtin:two-mode-s0.3";
    let v = run_json(&["check", "--json", "--mixture", m, "--process", "rectified"]);
    assert_eq!(v["process"]["name"], "rectified");
    assert_eq!(v["violations"], 0);
    let composition = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["checker"] == "composition")
        .unwrap();
    assert!(composition["checked"].as_u64().unwrap() > 0);
    let (code, out, err) = run(&["check", "--mixture", m, "--process", "vp-linear"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("process vp-linear"), "{out}");
    assert!(!out.contains("not run"), "{out}");
    // OU: the default, the process field as every command has it.
    let (code, out, _) = run(&["check", "--mixture", m]);
    assert_eq!(code, 0);
    assert!(!out.starts_with("process"), "{out}");
    assert!(!out.contains("not run"), "{out}");
}

#[test]
fn cli_check_refuses_a_cut_path_and_reports_stiff_cases() {
    assert_bad(
        &[
            "check",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--process",
            "edm",
            "--sigma-max",
            "10",
        ],
        &["bounds.times[5]", "--sigma-max above 20.06"],
    );
    // hetero3 on EDM: int L ~ 1e6 on the matched interval (the ball B_R does not shrink
    // there): that stability row is "not run" with the number; the rest runs.
    let v = run_json(&[
        "check",
        "--json",
        "--mixture",
        "builtin:hetero3",
        "--process",
        "edm",
    ]);
    let rows = v["rows"].as_array().unwrap();
    let st = rows.iter().find(|r| r["checker"] == "stability").unwrap();
    assert_eq!(st["checked"], 0);
    assert!(
        st["note"].as_str().unwrap().contains("not run: int L"),
        "{st}"
    );
    let lip = rows.iter().find(|r| r["checker"] == "lipschitz").unwrap();
    assert_eq!(lip["violations"], 0);
    assert!(lip["checked"].as_u64().unwrap() > 0);
}
