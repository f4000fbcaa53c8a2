//! What the commands write and print: `merge` reads what its directories hold and
//! recomputes nothing; `sample --out` writes the file and one line; `check --mixture` runs
//! every checker on a user's mixture; `--json` errors are JSON on stdout; the documented
//! run times are the same in README and `--help`.

use crate::common::cli::{run, tmp_file};
use flowcert::suite::record::{RunRecord, Source};
use flowcert::suite::timing;

fn dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-outputs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Two shards and a merge give the unsharded summary; the checker sections run once (in
/// shard 0; shard 1 and the merge record them as skipped / stored, never computed); the
/// merge reads the scale from the shards and refuses a different one, and refuses to mix
/// a `reproduce` shard with a `distill` directory.
#[test]
fn merge_computes_nothing_and_reads_what_the_shards_hold() {
    let base = dir("merge");
    let d = |n: &str| base.join(n).display().to_string();
    for (i, name) in ["s0", "s1"].iter().enumerate() {
        let shard = format!("{i}/2");
        let (c, _, e) = run(&[
            "reproduce",
            "--tiny",
            "--out",
            &d(name),
            "--shard",
            &shard,
            "--formats",
            "svg",
        ]);
        assert_eq!(c, 0, "{e}");
    }
    let record = |name: &str| RunRecord::read(&base.join(name)).unwrap().unwrap();
    let s0 = record("s0");
    assert!(
        s0.sections[..4]
            .iter()
            .all(|s| s.source == Source::Computed),
        "{s0:?}"
    );
    let s1 = record("s1");
    assert!(
        s1.sections[..4].iter().all(|s| s.source == Source::Skipped),
        "{s1:?}"
    );
    assert!(
        !base.join("s1/summary.json").exists(),
        "shard 1 writes no report"
    );
    // No --scale: merge reads it from the shards.
    let (c, _, e) = run(&[
        "merge",
        "--out",
        &d("all"),
        "--formats",
        "svg",
        &d("s0"),
        &d("s1"),
    ]);
    assert_eq!(c, 0, "{e}");
    let merged = record("all");
    assert!(
        merged.merged && merged.sections.iter().all(|s| s.source == Source::Stored),
        "{merged:?}"
    );
    assert_eq!(
        (merged.distill_missing, merged.scale),
        (0, Some(flowcert::suite::Scale::Tiny))
    );
    let (c, _, e) = run(&[
        "reproduce",
        "--scale",
        "tiny",
        "--out",
        &d("whole"),
        "--formats",
        "svg",
    ]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(
        std::fs::read(base.join("all/summary.json")).unwrap(),
        std::fs::read(base.join("whole/summary.json")).unwrap(),
        "merged shards must give the summary of one whole run"
    );
    // A scale other than the shards' is refused before anything is written.
    let (c, _, e) = run(&["merge", "--quick", "--out", &d("bad"), &d("s0"), &d("s1")]);
    assert_eq!(c, 2);
    assert!(
        e.contains("--scale quick but the shards ran at tiny"),
        "{e}"
    );
    assert!(!base.join("bad").exists());
    // Without shard 0 there are no sections: a clear error, no silent recomputation.
    let (c, _, e) = run(&["merge", "--out", &d("no0"), &d("s1")]);
    assert_eq!(c, 2);
    assert!(e.contains("include the directory of shard 0"), "{e}");
    // A directory that is not a shard.
    let (c, _, e) = run(&[
        "merge",
        "--out",
        &d("none"),
        &std::env::temp_dir().display().to_string(),
    ]);
    assert_eq!(c, 2);
    assert!(e.contains("no run.json"), "{e}");
    let _ = std::fs::remove_dir_all(&base);
}

/// `distill --shard` directories merge into distillation results (the user's sweep, not
/// the built-in report), equal to the unsharded sweep.
#[test]
fn merging_distill_shards_gives_the_distill_results() {
    let base = dir("distill");
    let d = |n: &str| base.join(n).display().to_string();
    let sweep = [
        "distill",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--segments",
        "1,2",
        "--grids",
        "uniform,balanced",
        "--seeds",
        "2",
        "--steps",
        "10",
        "--samples",
        "32",
        "--batch",
        "16",
        "--eval-samples",
        "32",
        "--width",
        "8",
        "--depth",
        "1",
        "--formats",
        "svg",
    ];
    for (i, name) in ["d0", "d1"].iter().enumerate() {
        let shard = format!("{i}/2");
        let out = d(name);
        let mut args = sweep.to_vec();
        args.extend(["--out", &out, "--shard", &shard]);
        let (c, _, e) = run(&args);
        assert_eq!(c, 0, "{e}");
    }
    let (c, _, e) = run(&["merge", "--out", &d("all"), &d("d0"), &d("d1")]);
    assert_eq!(c, 0, "{e}");
    let whole_out = d("whole");
    let mut whole = sweep.to_vec();
    whole.extend(["--out", &whole_out]);
    let (c, _, e) = run(&whole);
    assert_eq!(c, 0, "{e}");
    let rows = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(base.join(n).join("distill.json")).unwrap())
            .unwrap()
    };
    assert_eq!(rows("all"), rows("whole"));
    assert_eq!(rows("all")["rows"].as_array().unwrap().len(), 8);
    assert!(
        base.join("all/plots/distill_mse_vs_n_two-mode-s0.3.svg")
            .exists()
    );
    assert!(
        !base.join("all/summary.json").exists(),
        "not the built-in report"
    );
    // A distill directory and a reproduce shard do not mix.
    let (c, _, _) = run(&[
        "reproduce",
        "--tiny",
        "--out",
        &d("r0"),
        "--shard",
        "0/2",
        "--formats",
        "svg",
    ]);
    assert_eq!(c, 0);
    let (c, _, e) = run(&["merge", "--out", &d("mixed"), &d("d0"), &d("r0")]);
    assert_eq!(c, 2);
    assert!(e.contains("merge directories of one kind"), "{e}");
    let _ = std::fs::remove_dir_all(&base);
}

/// `sample --out` writes the file (plain decimals, a component column, readable back as a
/// points file) and prints one line, not the rows.
#[test]
fn sample_out_writes_the_file_and_one_line() {
    let base = dir("sample");
    std::fs::create_dir_all(&base).unwrap();
    let csv = base.join("p.csv").display().to_string();
    let (c, out, e) = run(&[
        "sample",
        "--mixture",
        "builtin:two-mode-s0.1",
        "--t",
        "2.5",
        "--n",
        "500",
        "--out",
        &csv,
    ]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("500 samples") && out.contains(&csv), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("x0,x1,component"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 3, "{l}");
        assert!(
            !l.contains('e') && !l.contains('E'),
            "not plain decimal: {l}"
        );
        assert!(f[2] == "0" || f[2] == "1", "{l}");
        // Shortest round trip: re-printing the parsed value gives the same text.
        for x in &f[..2] {
            assert_eq!(x.parse::<f64>().unwrap().to_string(), *x);
        }
    }
    // Readable back as points (the component column is not a coordinate).
    let (c, _, e) = run(&[
        "flow",
        "--mixture",
        "builtin:two-mode-s0.1",
        "--from",
        "2.5",
        "--to",
        "1",
        "--points",
        &csv,
        "--json",
    ]);
    assert_eq!(c, 0, "{e}");
    let _ = std::fs::remove_dir_all(&base);
}

/// `check --mixture` runs every checker on the user's mixture (and only on it).
#[test]
fn check_runs_every_checker_on_a_user_mixture() {
    let m = tmp_file(
        "outputs-check",
        "lopsided.json",
        r#"{"weights": [0.3, 0.7], "means": [[-1.0, 0.5], [1.2, 0.0]],
            "covariances": [[[0.05, 0.0], [0.0, 0.05]], [[0.05, 0.0], [0.0, 0.05]]]}"#,
    );
    let (c, out, e) = run(&["check", "--json", "--mixture", &m]);
    assert_eq!(c, 0, "{e}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), flowcert::suite::CHECKS.len());
    for r in rows {
        assert_eq!(r["mixture"], "lopsided");
        assert!(r["checked"].as_u64().unwrap() > 0, "{r}");
        // bound / measured: at least 1 up to the rounding slack on every checker.
        let t = r["tightest"].as_f64().unwrap();
        assert!(t >= 1.0 - flowcert::tolerance::BOUND_SLACK_REL, "{r}");
    }
}

/// Under --json an error is also a JSON document on stdout, with the exit status.
#[test]
fn json_errors_are_json_on_stdout() {
    for (args, kind) in [
        (
            &[
                "eval",
                "--json",
                "--mixture",
                "/no/such.json",
                "--t",
                "1",
                "--points",
                "x",
            ][..],
            "input",
        ),
        (&["eval", "--json", "--bogus"][..], "usage"),
    ] {
        let (c, out, err) = run(args);
        assert_eq!(c, 2);
        assert!(err.contains("error"), "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["error"]["kind"], kind, "{out}");
        assert_eq!(v["error"]["exit_status"], 2);
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    // Without --json, stdout stays empty.
    let (c, out, _) = run(&[
        "eval",
        "--mixture",
        "/no/such.json",
        "--t",
        "1",
        "--points",
        "x",
    ]);
    assert_eq!((c, out.as_str()), (2, ""));
}

/// README and `--help` quote the run times of `suite::timing` (one place to update).
#[test]
fn documented_run_times_agree() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for m in timing::ALL {
        assert!(
            readme.contains(&format!("| `{}` | {} |", m.command, m.text)),
            "README lacks the row of {}: {}",
            m.command,
            m.text
        );
    }
    assert!(readme.contains(timing::MACHINE), "README lacks the machine");
    let (_, help, _) = run(&["reproduce", "--help"]);
    assert!(
        help.contains(timing::QUICK.text) && help.contains(timing::FULL.text),
        "{help}"
    );
    let (_, help, _) = run(&["--help"]);
    assert!(help.contains(timing::CHECK.text), "{help}");
}
