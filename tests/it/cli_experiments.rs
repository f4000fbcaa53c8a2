//! `distill`, `mismatch`, `reproduce`/`merge`: contract fields and bad input (exit 2, a
//! message naming the flag, no panic).

use crate::common;

use common::cli::{assert_bad, run};

const M: &str = "builtin:two-mode-s0.3";

#[test]
fn distill_follows_the_contract() {
    let (code, out, err) = run(&[
        "distill",
        "--json",
        "--mixture",
        M,
        "--segments",
        "1,2",
        "--grids",
        "uniform,balanced",
        "--seeds",
        "1",
        "--width",
        "8",
        "--depth",
        "1",
        "--steps",
        "10",
        "--samples",
        "64",
        "--batch",
        "16",
        "--eval-samples",
        "32",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        for key in [
            "grid",
            "segments",
            "seed",
            "times",
            "rel_mse",
            "local_errors",
            "bound",
        ] {
            assert!(!r[key].is_null(), "row lacks {key}: {r}");
        }
        let n = r["segments"].as_u64().unwrap() as usize;
        assert_eq!(r["times"].as_array().unwrap().len(), n + 1);
        assert_eq!(r["local_errors"].as_array().unwrap().len(), n);
        // two-mode: a shared covariance, so the proof covers the bound.
        assert_eq!(r["bound_rigorous"], true, "{r}");
    }
    assert_eq!(v["violations"], 0, "{v}");
}

#[test]
fn distill_and_mismatch_reject_bad_input() {
    assert_bad(
        &["distill", "--mixture", M, "--segments", "0"],
        &["--segments"],
    );
    assert_bad(
        &["distill", "--mixture", M, "--segments", "1,x"],
        &["--segments"],
    );
    assert_bad(
        &["distill", "--mixture", M, "--grids", "zigzag"],
        &["unknown grid kind"],
    );
    assert_bad(&["distill", "--mixture", M, "--seeds", "0"], &["--seeds 0"]);
    assert_bad(
        &["distill", "--mixture", M, "--t-min", "3", "--t-max", "1"],
        &["--t-min 3 must be smaller than --t-max 1"],
    );
    assert_bad(&["distill", "--mixture", M, "--width", "0"], &["--width 0"]);
    assert_bad(
        &[
            "distill",
            "--mixture",
            M,
            "--batch",
            "100",
            "--samples",
            "10",
        ],
        &["--batch 100 exceeds --samples 10"],
    );
    assert_bad(&["distill", "--mixture", M, "--lr", "NaN"], &["--lr NaN"]);
    assert_bad(&["distill", "--mixture", M, "--shard", "2/2"], &["--shard"]);
    assert_bad(
        &["mismatch", "--mixture", M, "--budgets", "0.5"],
        &["--budgets"],
    );
    assert_bad(
        &["mismatch", "--mixture", M, "--segments", "0"],
        &["--segments"],
    );
    assert_bad(
        &["mismatch", "--mixture", M, "--t-min", "0"],
        &["--t-min 0"],
    );
    assert_bad(
        &["mismatch", "--mixture", "/no/such.json"],
        &["cannot read mixture file"],
    );
    assert_bad(&["reproduce", "--shard", "x"], &["--shard"]);
}

#[test]
fn mismatch_follows_the_contract() {
    let (code, out, err) = run(&[
        "mismatch",
        "--json",
        "--quick",
        "--mixture",
        M,
        "--budgets",
        "4",
        "--segments",
        "1,2",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["lambda_T"].as_f64().unwrap() > 0.0);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        for key in [
            "budget",
            "segments",
            "lower_bound_sup",
            "lower_bound_lp",
            "certified_lipschitz",
            "error_sup",
            "error_l2",
        ] {
            assert!(r.get(key).is_some(), "row lacks {key}: {r}");
        }
        assert!(r["error_l2"].as_f64().unwrap() >= r["lower_bound_lp"].as_f64().unwrap());
        // Which number is rigorous and which an estimate, with the estimates' intervals.
        assert_eq!(r["lower_bound_sup_kind"], "rigorous", "{r}");
        assert_eq!(r["lower_bound_lp_kind"], "estimate", "{r}");
        let f = |k: &str| {
            r[k].as_f64()
                .unwrap_or_else(|| panic!("row lacks {k}: {r}"))
        };
        assert!(
            f("lower_bound_lp_ci_low") <= f("lower_bound_lp")
                && f("lower_bound_lp") <= f("lower_bound_lp_ci_high")
        );
        assert!(f("error_l2_ci_low") <= f("error_l2") && f("error_l2") <= f("error_l2_ci_high"));
    }
    let (code, text, err) = run(&[
        "mismatch",
        "--quick",
        "--mixture",
        M,
        "--budgets",
        "4",
        "--segments",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("lower bound sup (rigorous)")
            && text.contains("lower bound L2 estimate [95% CI]"),
        "{text}"
    );
}

#[test]
fn reproduce_shards_merge_into_the_whole() {
    let base = std::env::temp_dir().join(format!("flowcert-cli-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let d = |n: &str| base.join(n).display().to_string();
    let (c0, _, e0) = run(&["reproduce", "--tiny", "--out", &d("s0"), "--shard", "0/2"]);
    let (c1, _, e1) = run(&["reproduce", "--tiny", "--out", &d("s1"), "--shard", "1/2"]);
    assert_eq!((c0, c1), (0, 0), "{e0}{e1}");
    let (cm, _, em) = run(&["merge", "--tiny", "--out", &d("all"), &d("s0"), &d("s1")]);
    assert_eq!(cm, 0, "{em}");
    // --scale tiny is the same run as the hidden --tiny.
    let (cw, _, ew) = run(&["reproduce", "--scale", "tiny", "--out", &d("whole")]);
    assert_eq!(cw, 0, "{ew}");
    let a = std::fs::read(base.join("all/summary.json")).unwrap();
    let b = std::fs::read(base.join("whole/summary.json")).unwrap();
    assert_eq!(
        a, b,
        "merged shards must give the same summary as one whole run"
    );
    for f in [
        "distill_rel_mse.md",
        "distill_rel_mse.csv",
        "distill_rel_mse.tex",
        "composition.md",
        "mismatch_regime.md",
        "plots/mismatch_regime.svg",
    ] {
        assert!(base.join("whole").join(f).exists(), "missing {f}");
    }
    let _ = std::fs::remove_dir_all(&base);
}
