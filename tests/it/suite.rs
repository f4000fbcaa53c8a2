//! The suite as a library: one plan per scale shared by `check` and `reproduce`, the
//! reproduce pipeline (byte-identical summary.json, the right sections at each scale), and
//! the check registry.

use flowcert::experiments::{CellStore, Shard};
use flowcert::model::builtin::Builtin;
use flowcert::suite::{CHECKS, Case, Plan, Scale, Silent, Summary, run_checks};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-suite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Run the plan of `scale` into a fresh directory and write its report there.
fn reproduce(scale: Scale, name: &str) -> (Summary, std::path::PathBuf) {
    let out = tmp(name);
    let store = CellStore::open(&out).unwrap();
    let s = flowcert::suite::reproduce::run(&Plan::at(scale), &store, Shard::ALL, &Silent)
        .unwrap()
        .summary
        .expect("an unsharded run holds every section");
    flowcert::report::reproduce::write(&out, &s, &"svg".parse().unwrap()).unwrap();
    (s, out)
}

/// The score-net section follows the scale: only the full plan has the dependence table
/// and the DSM comparison (a reproduce once ran the full section at --quick/--tiny and the
/// quick one at full scale: this test fails on that code), and a tiny run writes neither.
#[test]
fn score_net_extras_belong_to_the_full_plan_only() {
    for scale in Scale::ALL {
        let p = Plan::at(scale).score_net;
        let full = scale == Scale::Full;
        assert_eq!(p.dsm.is_some(), full, "{scale}");
        assert_eq!(p.dependence.is_some(), full, "{scale}");
    }
    let full = Plan::at(Scale::Full).score_net;
    let quick = Plan::at(Scale::Quick).score_net;
    assert!(full.sweep.eps_list.len() > quick.sweep.eps_list.len());
    assert!(full.mixtures.len() > quick.mixtures.len());
    let (s, out) = reproduce(Scale::Tiny, "tiny-sections");
    assert_eq!(s.violations, 0);
    assert!(s.score_net.dsm.is_none() && s.score_net.dependence.is_none());
    assert_eq!(s.score_net.config, Plan::at(Scale::Tiny).score_net.sweep);
    assert!(out.join("score_net_sizes.md").exists());
    assert!(!out.join("score_net_dsm.md").exists());
    assert!(!out.join("score_net_dependence.md").exists());
    let again = std::fs::read(out.join("summary.json")).unwrap();
    let (_, out_b) = reproduce(Scale::Tiny, "tiny-again");
    assert_eq!(
        again,
        std::fs::read(out_b.join("summary.json")).unwrap(),
        "two runs with the same seeds must write the same bytes"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&out_b);
}

/// `check` runs the checkers at a plan's configuration: its seed override reaches every
/// checker, and every check reports on every case.
#[test]
fn checks_run_every_checker_on_every_case_at_the_plan() {
    let plan = Plan::at(Scale::Tiny).with_seed(3);
    assert_eq!(
        (
            plan.bounds.search.seed,
            plan.bounds.stability.seed,
            plan.composition.probe.seed,
            plan.mismatch.config.seed,
            plan.score_net.sweep.seed
        ),
        (3, 3, 3, 3, 3)
    );
    let cases = [Case::from(Builtin::TwoModeS03)];
    let quick: Vec<_> = CHECKS
        .into_iter()
        .filter(|c| c.name != "mismatch")
        .collect();
    let s = run_checks(&plan, &cases, &quick, &Silent).unwrap();
    assert_eq!(s.rows.len(), quick.len());
    assert_eq!(s.violations, 0);
    for r in &s.rows {
        assert!(r.outcome.checked > 0, "{}", r.checker);
        let slack = flowcert::tolerance::BOUND_SLACK_REL;
        assert!(
            r.outcome.tightest.is_some_and(|t| t >= 1.0 - slack),
            "{r:?}"
        );
    }
}

/// The full score-net section alone, as `reproduce` runs it at full scale; prints the
/// tables quoted in theory/06-score-approximation.md (release, a minute or two):
/// `cargo test --release --test it -- --ignored --nocapture suite::score_net_full_section`.
#[test]
#[ignore]
fn score_net_full_section() {
    use flowcert::report::score_net::section_tables;
    let t0 = std::time::Instant::now();
    let s = flowcert::suite::score_net::section(&Plan::at(Scale::Full).score_net, &Silent).unwrap();
    println!("elapsed {:?}", t0.elapsed());
    assert_eq!(s.violations, 0);
    for (stem, table) in section_tables(&s) {
        println!("{stem}\n\n{}", table.to_markdown());
    }
}
