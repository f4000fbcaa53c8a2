//! Driving the `flowcert` binary from integration tests.
#![allow(dead_code)]

use std::process::Command;

/// Run the binary: (exit status, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flowcert"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run and parse the JSON document on stdout, demanding exit status 0.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "args {args:?}: exit {code}, stderr: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("args {args:?}: bad JSON {e}: {out}"))
}

/// Asserts a bad-input outcome: status 2, every needle in stderr, no panic.
pub fn assert_bad(args: &[&str], needles: &[&str]) {
    let (code, _out, err) = run(args);
    assert_eq!(code, 2, "args {args:?}: expected exit 2, stderr: {err}");
    assert!(!err.contains("panicked"), "args {args:?} panicked: {err}");
    for n in needles {
        assert!(err.contains(n), "args {args:?}: stderr lacks {n:?}: {err}");
    }
}

/// Write `contents` to a file `name` in a per-process temporary directory tagged `tag`;
/// returns its path.
pub fn tmp_file(tag: &str, name: &str, contents: &str) -> String {
    let dir = std::env::temp_dir().join(format!("flowcert-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.display().to_string()
}
