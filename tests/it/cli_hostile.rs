//! Hostile and careless input through the binary: exit statuses, closed and full stdout,
//! runaway sizes refused before anything runs, messages said once.

use crate::common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli::{assert_bad, run, tmp_file};

const M: &str = "builtin:two-mode-s0.1";
const TWO: &str = r#"{"weights": [0.5, 0.5], "means": [[-1.5, 0.0], [1.5, 0.0]],
    "covariances": [[[0.01, 0.0], [0.0, 0.01]], [[0.01, 0.0], [0.0, 0.01]]]}"#;

/// Run with stdout into a pipe whose reader stops after the first line.
fn closed_pipe(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowcert"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn closed_stdout_exits_quietly_in_table_and_json_modes() {
    // 50k rows: far more than a pipe buffer, so the write meets the closed pipe.
    for json in [false, true] {
        let mut args = vec!["sample", "--mixture", M, "--n", "50000"];
        if json {
            args.push("--json");
        }
        let (code, err) = closed_pipe(&args);
        assert_eq!(code, 0, "json {json}: {err}");
        assert!(err.is_empty(), "json {json}: {err}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn full_stdout_is_an_error_in_table_and_json_modes() {
    for json in [false, true] {
        let mut args = vec![
            "grid",
            "--mixture",
            M,
            "--segments",
            "4",
            "--kind",
            "uniform",
            "--t-min",
            "0.01",
            "--t-max",
            "1",
        ];
        if json {
            args.push("--json");
        }
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_flowcert"))
            .args(&args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "json {json}: {err}");
        assert!(
            err.contains("cannot write the output to stdout") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn runaway_sizes_are_refused_naming_the_flag() {
    let d = ["--segments", "1", "--grids", "uniform", "--seeds", "1"];
    let distill = |extra: &[&str]| {
        let mut a = vec!["distill", "--mixture", M];
        a.extend_from_slice(&d);
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            ["sample", "--mixture", M, "--n", "18446744073709551615"]
                .map(String::from)
                .to_vec(),
            "--n 18446744073709551615",
        ),
        (
            ["sample", "--mixture", M, "--n", "1000000000000"]
                .map(String::from)
                .to_vec(),
            "--n",
        ),
        (distill(&["--samples", "1000000000"]), "--samples"),
        (distill(&["--width", "1000000000"]), "--width"),
        (distill(&["--eval-samples", "1000000000"]), "--eval-samples"),
        (distill(&["--depth", "1000000"]), "--depth"),
        (distill(&["--steps", "1000000000000"]), "--steps"),
        (
            ["distill", "--mixture", M, "--seeds", "1000000000"]
                .map(String::from)
                .to_vec(),
            "--seeds",
        ),
        (
            [
                "distill",
                "--mixture",
                M,
                "--segments",
                "1000000",
                "--grids",
                "uniform",
            ]
            .map(String::from)
            .to_vec(),
            "--segments",
        ),
        (
            // Within every per-flag limit, but a sweep of ~3e15: shard it.
            distill(&["--steps", "10000000", "--width", "1024"]),
            "--shard",
        ),
        (
            [
                "mismatch",
                "--mixture",
                M,
                "--segments",
                "1000000",
                "--budgets",
                "2",
            ]
            .map(String::from)
            .to_vec(),
            "--segments",
        ),
        (
            [
                "mismatch",
                "--mixture",
                M,
                "--segments",
                "2000",
                "--budgets",
                "2",
            ]
            .map(String::from)
            .to_vec(),
            "overflows f64",
        ),
        (
            [
                "stability",
                "--mixture",
                M,
                "--from",
                "3",
                "--to",
                "0.01",
                "--samples",
                "1000000000",
            ]
            .map(String::from)
            .to_vec(),
            "--samples",
        ),
        (
            [
                "stability",
                "--mixture",
                M,
                "--from",
                "3",
                "--to",
                "0.01",
                "--segments",
                "1000000",
            ]
            .map(String::from)
            .to_vec(),
            "--segments",
        ),
        (
            [
                "score-net",
                "--mixture",
                M,
                "--eps",
                "1e-3",
                "--samples",
                "10000000",
                "--times",
                "10000",
            ]
            .map(String::from)
            .to_vec(),
            "give fewer --times or --samples",
        ),
    ];
    for (args, needle) in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let t = Instant::now();
        assert_bad(&a, &[needle]);
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{a:?} took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn large_mixtures_get_an_estimate_not_hours() {
    let k = 2000;
    let means: Vec<String> = (0..k).map(|i| format!("[{i}.0, 0.0]")).collect();
    let covs = vec!["[[0.01, 0.0], [0.0, 0.01]]"; k].join(",");
    let weights = vec![format!("{}", 1.0 / k as f64); k].join(",");
    let m = tmp_file(
        "hostile",
        "k2000.json",
        &format!(
            "{{\"weights\": [{weights}], \"means\": [{}], \"covariances\": [{covs}]}}",
            means.join(",")
        ),
    );
    assert_bad(
        &["lipschitz", "--mixture", &m, "--times", "0.1"],
        &["K = 2000", "needs an estimated"],
    );
    assert_bad(
        &["stability", "--mixture", &m, "--from", "3", "--to", "0.01"],
        // Refused on its least work, before Lambda (minutes for K = 2000) is integrated.
        &["K = 2000", "needs an estimated", "--samples"],
    );
}

#[cfg(unix)]
#[test]
fn endless_input_files_are_refused() {
    let p = tmp_file("hostile", "p.json", "[[0.1, 0.2]]");
    assert_bad(
        &["eval", "--mixture", "/dev/zero", "--t", "1", "--points", &p],
        &["larger than"],
    );
    assert_bad(
        &["eval", "--mixture", M, "--t", "1", "--points", "/dev/zero"],
        &["larger than"],
    );
}

#[test]
fn magnitudes_beyond_f64_sense_are_refused_with_the_field() {
    let huge = tmp_file(
        "hostile",
        "huge.json",
        r#"{"weights": [0.5, 0.5], "means": [[-1e300, 0.0], [1e300, 0.0]],
            "covariances": [[[0.01, 0.0], [0.0, 0.01]], [[0.01, 0.0], [0.0, 0.01]]]}"#,
    );
    let far = tmp_file(
        "hostile",
        "far.json",
        r#"{"weights": [0.5, 0.5], "means": [[-1e17, 0.0], [1e17, 0.0]],
            "covariances": [[[0.01, 0.0], [0.0, 0.01]], [[0.01, 0.0], [0.0, 0.01]]]}"#,
    );
    let wide = tmp_file(
        "hostile",
        "wide.json",
        r#"{"weights": [0.5, 0.5], "means": [[-1.5, 0.0], [1.5, 0.0]],
            "covariances": [[[1e6, 0.0], [0.0, 1e6]], [[0.01, 0.0], [0.0, 0.01]]]}"#,
    );
    let p = tmp_file("hostile", "p.json", "[[0.1, 0.2]]");
    let far_p = tmp_file("hostile", "farp.json", "[[1e300, 0.0]]");
    assert_bad(
        &["eval", "--mixture", &huge, "--t", "0.5", "--points", &p],
        &["means[0][0]", "rescale"],
    );
    assert_bad(
        &["lipschitz", "--mixture", &huge, "--times", "0.1"],
        &["means[0][0]"],
    );
    assert_bad(
        &["eval", "--mixture", M, "--t", "0.5", "--points", &far_p],
        &["point 0 coordinate 0"],
    );
    assert_bad(
        &[
            "flow",
            "--mixture",
            M,
            "--from",
            "1",
            "--to",
            "0.01",
            "--points",
            &far_p,
        ],
        &["point 0 coordinate 0"],
    );
    let t = Instant::now();
    assert_bad(
        &["score-net", "--mixture", &far, "--eps", "1e-3"],
        &["means[0][0]"],
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_bad(
        &[
            "stability",
            "--mixture",
            &wide,
            "--from",
            "3",
            "--to",
            "0.01",
        ],
        &["Lambda over [0.01, 3]", "covariances[0]"],
    );
    // hetero3 down to t = 1e-3: exp(Lambda) overflows; the advice (raise --to) is right.
    assert_bad(
        &[
            "stability",
            "--mixture",
            "builtin:hetero3",
            "--from",
            "3",
            "--to",
            "0.001",
        ],
        &["exp(Lambda) overflows", "raise --to"],
    );
    assert_bad(
        &["eval", "--mixture", M, "--t", "1e-300", "--points", &p],
        &["--t 1e-300"],
    );
}

#[test]
fn points_files_in_any_delimiter_and_typos() {
    for (name, text) in [
        ("semi.csv", "0.1;0.2\n0.3;0.4\n"),
        ("tab.csv", "0.1\t0.2\n0.3\t0.4\n"),
        ("space.txt", "0.1 0.2\n0.3 0.4\n"),
    ] {
        let p = tmp_file("hostile", name, text);
        let (code, out, err) = run(&[
            "eval",
            "--mixture",
            M,
            "--t",
            "0.5",
            "--points",
            &p,
            "--json",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["points"].as_array().unwrap().len(), 2, "{name}");
    }
    let typo = tmp_file("hostile", "typo.csv", "0.1,0.2x\n0.3,0.4\n");
    assert_bad(
        &["eval", "--mixture", M, "--t", "0.5", "--points", &typo],
        &["line 1 field 2 '0.2x' is not a number", "header"],
    );
}

#[test]
fn messages_are_said_once_and_name_the_problem() {
    let p = tmp_file("hostile", "p.json", "[[0.1, 0.2]]");
    let (code, _, err) = run(&[
        "eval",
        "--mixture",
        "/no/such/m.json",
        "--t",
        "1",
        "--points",
        &p,
    ]);
    assert_eq!(code, 2);
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    let nan = tmp_file(
        "hostile",
        "nan.json",
        r#"{"weights": [1.0], "means": [[NaN, 0]], "covariances": [[[1, 0], [0, 1]]]}"#,
    );
    let (_, _, err) = run(&["eval", "--mixture", &nan, "--t", "1", "--points", &p]);
    assert_eq!(err.matches("expected value").count(), 1, "{err}");
    assert!(
        err.contains("JSON has no NaN or Infinity") && err.contains("finite number"),
        "{err}"
    );
    let bom = tmp_file("hostile", "bom.json", &format!("\u{feff}{TWO}"));
    let (code, _, err) = run(&["eval", "--mixture", &bom, "--t", "1", "--points", &p]);
    assert_eq!(code, 0, "{err}");
    assert_bad(
        &[
            "eval",
            "--mixture",
            "builtin:nope",
            "--t",
            "1",
            "--points",
            &p,
        ],
        &["unknown built-in mixture 'nope'"],
    );
    let (_, _, err) = run(&[
        "eval",
        "--mixture",
        "builtin:nope",
        "--t",
        "1",
        "--points",
        &p,
    ]);
    assert!(!err.contains("JSON"), "{err}");
    assert_bad(
        &["distill", "--mixture", M, "--shard", "-1/2"],
        &["--shard '-1/2' is not of the form i/n"],
    );
    assert_bad(
        &[
            "distill",
            "--mixture",
            M,
            "--seeds",
            "1,1",
            "--segments",
            "1",
            "--grids",
            "uniform",
        ],
        &["--seeds lists 1 twice"],
    );
}

#[test]
fn edited_queries_and_huge_answers_exit_2_without_a_baseline() {
    let dir = std::env::temp_dir().join(format!("flowcert-hostile-q-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let q = dir.join("q");
    let qs = q.to_str().unwrap();
    let (code, _, err) = run(&[
        "queries",
        "--mixture",
        M,
        "--out",
        qs,
        "--samples",
        "5",
        "--segments",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = 5 * 8;
    let huge = dir.join("huge.npy");
    std::fs::write(
        &huge,
        flowcert::theorems::assess::npy::to_npy(rows, 2, &vec![1e300; 2 * rows]),
    )
    .unwrap();
    let base = dir.join("b.json");
    assert_bad(
        &[
            "assess",
            "score",
            "--queries",
            qs,
            "--answers",
            huge.to_str().unwrap(),
            "--save-baseline",
            base.to_str().unwrap(),
        ],
        &["row 0", "1e100"],
    );
    assert!(!base.exists());
    let manifest = q.join("queries.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("\"samples_per_time\": 5", "\"samples_per_time\": 4", 1),
    )
    .unwrap();
    let ok = dir.join("ok.npy");
    std::fs::write(
        &ok,
        flowcert::theorems::assess::npy::to_npy(rows, 2, &vec![0.0; 2 * rows]),
    )
    .unwrap();
    assert_bad(
        &[
            "assess",
            "score",
            "--queries",
            qs,
            "--answers",
            ok.to_str().unwrap(),
        ],
        &["manifest_fingerprint", "regenerate"],
    );
}

#[test]
fn a_cell_copied_over_another_is_recomputed_and_said_so() {
    let dir = std::env::temp_dir().join(format!("flowcert-hostile-cells-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let args = [
        "distill",
        "--mixture",
        M,
        "--segments",
        "1,2",
        "--grids",
        "uniform",
        "--seeds",
        "1",
        "--steps",
        "5",
        "--samples",
        "64",
        "--batch",
        "8",
        "--eval-samples",
        "16",
        "--out",
        out,
        "--json",
    ];
    let (code, first, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let cells = dir.join("cells");
    let find = |n: &str| {
        std::fs::read_dir(&cells)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let s = p.file_name().unwrap().to_string_lossy().into_owned();
                s.starts_with("distill_") && s.contains(n)
            })
            .unwrap()
    };
    std::fs::copy(find("_N1_"), find("_N2_")).unwrap();
    let (code, again, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not used; recomputing"), "{err}");
    assert_eq!(first, again);
}
