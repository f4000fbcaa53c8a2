//! The hostile-input corpus: every case of `tests/corpus/cases.txt` (a file per hostile
//! input in `tests/corpus/`) run through the binary, checking its exit status, that it did
//! not panic, and that stderr says what the case demands.

use std::path::{Path, PathBuf};

use super::common::cli::run;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// A query directory for the `assess` cases, made once per test run.
fn queries() -> String {
    let dir = std::env::temp_dir().join(format!("flowcert-corpus-{}", std::process::id()));
    let q = dir.join("q");
    if !q.join("queries.json").exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let (code, _, err) = run(&[
            "queries",
            "--mixture",
            "builtin:two-mode-s0.1",
            "--samples",
            "10",
            "--out",
            q.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    q.display().to_string()
}

#[test]
fn every_case_of_the_hostile_input_corpus() {
    let text = std::fs::read_to_string(corpus().join("cases.txt")).unwrap();
    let mut cases = 0;
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        assert_eq!(parts.len(), 3, "cases.txt line {}: {line}", i + 1);
        let status: i32 = parts[0].parse().unwrap();
        let needles: Vec<&str> = parts[1]
            .split(";;")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        let args: Vec<String> = parts[2]
            .split_whitespace()
            .map(|a| match a.strip_prefix('@') {
                Some("queries") => queries(),
                Some(name) => {
                    let p = corpus().join(name);
                    assert!(p.exists(), "cases.txt line {}: no file {name}", i + 1);
                    p.display().to_string()
                }
                None => a.to_string(),
            })
            .collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _out, err) = run(&argv);
        cases += 1;
        let mut wrong = Vec::new();
        if code != status {
            wrong.push(format!("exit {code}, expected {status}"));
        }
        if err.contains("panicked") {
            wrong.push("panicked".into());
        }
        if status == 0 && !err.is_empty() {
            wrong.push("stderr not empty".into());
        }
        for n in &needles {
            if !err.contains(n) {
                wrong.push(format!("stderr lacks {n:?}"));
            }
        }
        // Each message once.
        if let Some(first) = err.lines().next().filter(|l| !l.is_empty())
            && err.matches(first).count() > 1
        {
            wrong.push("message printed twice".into());
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "line {}: {}: {}\n  stderr: {err}",
                i + 1,
                parts[2],
                wrong.join(", ")
            ));
        }
    }
    assert!(cases >= 35, "only {cases} cases read");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
