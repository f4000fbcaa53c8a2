//! Drives the `flowcert` binary: the command-line contract, and every bad input of
//! README.md ("Inputs") gets exit status 2, a message naming the problem, and no panic.

use crate::common;

use common::cli::{assert_bad, run, tmp_file};

const GOOD: &str = r#"{"weights":[0.5,0.5],"means":[[-1.5,0],[1.5,0]],"covariances":[[[0.01,0],[0,0.01]],[[0.01,0],[0,0.01]]]}"#;

#[test]
fn bad_mixtures_exit_2_with_a_fix() {
    let pts = tmp_file("cli", "p.json", "[[0.0, 0.0]]");
    let cases: &[(&str, &str, &[&str])] = &[
        ("malformed.json", "{\"weights\": [1.0", &["malformed"]),
        ("notjson.json", "hello", &["malformed"]),
        (
            "nonpsd.json",
            r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,2],[2,1]]]}"#,
            &[
                "covariance 0 is not positive semi-definite",
                "smallest eigenvalue",
            ],
        ),
        (
            "asym.json",
            r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0.5],[0.1,1]]]}"#,
            &["covariances[0] is not symmetric"],
        ),
        (
            "weights.json",
            r#"{"weights":[0.5,0.6],"means":[[0],[1]],"covariances":[[[1]],[[1]]]}"#,
            &["weights sum to", "divide each weight by their sum"],
        ),
        (
            "negw.json",
            r#"{"weights":[-0.5,1.5],"means":[[0],[1]],"covariances":[[[1]],[[1]]]}"#,
            &["weights[0]", "not positive"],
        ),
        (
            "inf.json",
            r#"{"weights":[1],"means":[[1e999]],"covariances":[[[1]]]}"#,
            &["malformed"],
        ),
        (
            "dims.json",
            r#"{"weights":[0.5,0.5],"means":[[0,0],[1]],"covariances":[[[1,0],[0,1]],[[1,0],[0,1]]]}"#,
            &["means[1] has length 1", "d = 2"],
        ),
        (
            "covdims.json",
            r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,0,0],[0,1,0]]]}"#,
            &["covariances[0][0] has length 3"],
        ),
        (
            "count.json",
            r#"{"weights":[0.5,0.5],"means":[[0]],"covariances":[[[1]],[[1]]]}"#,
            &["means has 1 entries but weights has 2"],
        ),
        (
            "empty.json",
            r#"{"weights":[],"means":[],"covariances":[]}"#,
            &["weights is empty"],
        ),
        (
            "extra.json",
            r#"{"weights":[1],"means":[[0]],"covariances":[[[1]]],"foo":1}"#,
            &["unknown field"],
        ),
    ];
    for (name, text, needles) in cases {
        let m = tmp_file("cli", name, text);
        assert_bad(
            &["eval", "--mixture", &m, "--t", "0.5", "--points", &pts],
            needles,
        );
        assert_bad(
            &[
                "eval",
                "--json",
                "--mixture",
                &m,
                "--t",
                "0.5",
                "--points",
                &pts,
            ],
            needles,
        );
    }
}

#[test]
fn bad_points_times_and_files_exit_2() {
    let m = tmp_file("cli", "good.json", GOOD);
    let wrong_d = tmp_file("cli", "wrongd.json", "[[0.0, 0.0, 1.0]]");
    let nan_csv = tmp_file("cli", "nan.csv", "x,y\n0,NaN\n");
    let bad_json = tmp_file("cli", "bad.json", "[[0.0, ");
    let text_csv = tmp_file("cli", "text.csv", "1,2\nfoo,bar\n");
    let ok = tmp_file("cli", "ok.csv", "x,y\n0.1,0.2\n");
    assert_bad(
        &["eval", "--mixture", &m, "--t", "0.5", "--points", &wrong_d],
        &["3 coordinates", "d = 2"],
    );
    assert_bad(
        &["eval", "--mixture", &m, "--t", "0.5", "--points", &nan_csv],
        &["NaN", "finite"],
    );
    assert_bad(
        &["eval", "--mixture", &m, "--t", "0.5", "--points", &bad_json],
        &["malformed JSON"],
    );
    assert_bad(
        &["eval", "--mixture", &m, "--t", "0.5", "--points", &text_csv],
        &["not a number"],
    );
    assert_bad(
        &["eval", "--mixture", &m, "--t", "NaN", "--points", &ok],
        &["--t NaN"],
    );
    assert_bad(
        &["eval", "--mixture", &m, "--t", "-1", "--points", &ok],
        &["--t -1", "> 0"],
    );
    assert_bad(
        &[
            "eval",
            "--mixture",
            "/nonexistent/m.json",
            "--t",
            "1",
            "--points",
            &ok,
        ],
        &["cannot read mixture file"],
    );
    assert_bad(
        &[
            "eval",
            "--mixture",
            &m,
            "--t",
            "1",
            "--points",
            "/nonexistent/p.csv",
        ],
        &["cannot read points file"],
    );
    assert_bad(
        &[
            "flow",
            "--mixture",
            &m,
            "--from",
            "0",
            "--to",
            "1",
            "--points",
            &ok,
        ],
        &["--from 0"],
    );
    assert_bad(
        &[
            "flow",
            "--mixture",
            &m,
            "--from",
            "1",
            "--to",
            "inf",
            "--points",
            &ok,
        ],
        &["--to inf"],
    );
    assert_bad(
        &[
            "flow",
            "--mixture",
            &m,
            "--from",
            "1",
            "--to",
            "0.1",
            "--points",
            &ok,
            "--rtol",
            "-1",
        ],
        &["rtol"],
    );
    assert_bad(&["sample", "--mixture", &m, "--n", "0"], &["--n 0"]);
    assert_bad(
        &[
            "eval",
            "--mixture",
            "builtin:nope",
            "--t",
            "1",
            "--points",
            &ok,
        ],
        &["unknown built-in"],
    );
    assert_bad(&["frobnicate"], &["unrecognized subcommand"]);
    assert_bad(&["eval", "--t", "1"], &["--mixture"]);
}

#[test]
fn eval_and_flow_follow_the_contract() {
    let m = tmp_file("cli", "good2.json", GOOD);
    let p = tmp_file("cli", "pts.json", "[[0.1, 0.2], [-1.0, 0.5]]");
    let (code, out, err) = run(&[
        "eval",
        "--json",
        "--mixture",
        &m,
        "--t",
        "0.5",
        "--points",
        &p,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["t"], 0.5);
    let pt = &v["points"][1];
    for key in ["x", "logp", "score", "hessian", "velocity"] {
        assert!(!pt[key].is_null(), "eval point lacks {key}: {pt}");
    }
    assert_eq!(pt["hessian"].as_array().unwrap().len(), 2);
    let (code, out, err) = run(&[
        "flow",
        "--json",
        "--mixture",
        &m,
        "--from",
        "2.5",
        "--to",
        "0.01",
        "--points",
        &p,
        "--jacobian",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["from"].as_f64(), v["to"].as_f64()),
        (Some(2.5), Some(0.01))
    );
    let pt = &v["points"][0];
    for key in ["x", "y", "jacobian", "jacobian_norm"] {
        assert!(!pt[key].is_null(), "flow point lacks {key}: {pt}");
    }
    for key in ["rhs_evals", "steps", "rejected"] {
        assert!(v["stats"][key].as_u64().is_some(), "stats lacks {key}");
    }
    // Without --jacobian the optional fields are absent.
    let (_, out, _) = run(&[
        "flow",
        "--json",
        "--mixture",
        &m,
        "--from",
        "1",
        "--to",
        "0.5",
        "--points",
        &p,
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["points"][0].get("jacobian").is_none());
    // Human-readable tables by default.
    let (code, out, _) = run(&["eval", "--mixture", &m, "--t", "0.5", "--points", &p]);
    assert_eq!(code, 0);
    assert!(out.contains("log p_t"));
    // Sample: deterministic from the seed.
    let a = run(&[
        "sample",
        "--json",
        "--mixture",
        "builtin:ring8",
        "--t",
        "0.2",
        "--n",
        "5",
        "--seed",
        "3",
    ]);
    let b = run(&[
        "sample",
        "--json",
        "--mixture",
        "builtin:ring8",
        "--t",
        "0.2",
        "--n",
        "5",
        "--seed",
        "3",
    ]);
    assert_eq!(a.0, 0);
    assert_eq!(a.1, b.1);
}

/// Typed edges of the command line: an unknown built-in names the valid ones (and is not
/// reported as malformed JSON), a negative shard is a clear usage error, `--method` and grid
/// kinds are checked by their types, and the flag aliases of `grid` and `stability` work.
#[test]
fn typed_arguments_and_aliases() {
    let (code, _, err) = run(&[
        "eval",
        "--mixture",
        "builtin:nope",
        "--t",
        "1",
        "--points",
        "x",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown built-in mixture 'nope'") && err.contains("hetero3"),
        "{err}"
    );
    assert!(!err.contains("malformed"), "{err}");
    assert_bad(
        &["reproduce", "--tiny", "--shard", "-1/2"],
        &["--shard '-1/2' is not of the form i/n"],
    );
    assert_bad(
        &[
            "distill",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--shard",
            "3/2",
        ],
        &["--shard '3/2'"],
    );
    let pts = tmp_file("cli-typed", "p.json", "[[0.1, 0.0]]");
    assert_bad(
        &[
            "flow",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--from",
            "1",
            "--to",
            "0.5",
            "--points",
            &pts,
            "--method",
            "rk4",
        ],
        &["--method", "dopri5", "dop853"],
    );
    assert_bad(
        &[
            "grid",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--segments",
            "2",
            "--kind",
            "zigzag",
            "--t-min",
            "0.1",
            "--t-max",
            "1",
        ],
        &["unknown grid kind 'zigzag'"],
    );
    let grid = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let base = [
        "grid",
        "--json",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--segments",
        "2",
    ];
    let kind = grid(
        &[
            &base[..],
            &["--kind", "balanced", "--t-min", "0.1", "--t-max", "1"],
        ]
        .concat(),
    );
    let alias = grid(
        &[
            &base[..],
            &["--grid", "balanced", "--to", "0.1", "--from", "1"],
        ]
        .concat(),
    );
    assert_eq!(kind, alias);
    let stab = [
        "stability",
        "--json",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--segments",
        "2",
        "--samples",
        "2",
    ];
    let a = grid(
        &[
            &stab[..],
            &["--grid", "uniform", "--from", "1", "--to", "0.1"],
        ]
        .concat(),
    );
    let b = grid(
        &[
            &stab[..],
            &["--kind", "uniform", "--t-max", "1", "--t-min", "0.1"],
        ]
        .concat(),
    );
    assert_eq!(a, b);
}
