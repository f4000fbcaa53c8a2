//! `flowcert score-net` against the command-line contract: the JSON fields, the outputs at
//! --points, agreement with the library, and exit status 2 with a fix for every bad input.

use crate::common;

use common::cli::{assert_bad, run, tmp_file};

use flowcert::approx::{ScoreNetConfig, ScoreNetwork};
use flowcert::model::{ScoreField, builtin};

const FAST: [&str; 4] = ["--samples", "100", "--times", "3"];

#[test]
fn json_has_the_contract_fields_and_outputs() {
    let pts = tmp_file(
        "cli-score-net",
        "p.json",
        "[[0.3, -0.1], [1.4, 0.2], [9.0, 9.0]]",
    );
    let mut args = vec![
        "--json",
        "score-net",
        "--mixture",
        "builtin:two-mode-s0.1",
        "--eps",
        "1e-2",
        "--points",
        &pts,
        "--t",
        "0.2",
    ];
    args.extend(FAST);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for key in ["eps", "depth", "width", "parameters", "errors", "outputs"] {
        assert!(v.get(key).is_some(), "missing {key}: {out}");
    }
    assert_eq!(v["eps"], 1e-2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 6);
    for e in errors {
        for key in ["t", "p", "lp_error", "ci_low", "ci_high"] {
            assert!(e.get(key).is_some(), "missing errors[].{key}");
        }
        assert!(e["lp_error"].as_f64().unwrap() <= 1e-2);
    }
    // the outputs are the library network's scores at t, within eps of the exact score
    let mix = builtin::two_mode(0.1);
    let net = ScoreNetwork::build(&mix, &ScoreNetConfig::new(1e-2).check().unwrap()).unwrap();
    let pts = [vec![0.3, -0.1], vec![1.4, 0.2], vec![9.0, 9.0]];
    let lib = net.score_points(&pts, 0.2).unwrap();
    let outputs = v["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3);
    for (j, o) in outputs.iter().enumerate() {
        let o: Vec<f64> = o
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(o, lib[j]);
        if j < 2 {
            let mut s = [0.0; 2];
            mix.score_into(&pts[j], 0.2, &mut s);
            let diff = ((o[0] - s[0]).powi(2) + (o[1] - s[1]).powi(2)).sqrt();
            assert!(diff <= 1e-2, "point {j}: {diff}");
        }
    }
    assert_eq!(v["depth"], net.network().counts().depth);
    assert_eq!(v["parameters"], net.network().counts().parameters);
    // without --points there is no outputs field
    let mut args = vec![
        "--json",
        "score-net",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--eps",
        "0.1",
    ];
    args.extend(FAST);
    let (code, out, _) = run(&args);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("outputs").is_none());
    assert_eq!(v["passed"], true);
}

#[test]
fn human_table_by_default() {
    let mut args = vec!["score-net", "--mixture", "builtin:hetero3", "--eps", "0.1"];
    args.extend(FAST);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("non-zero parameters") && out.contains("within eps"),
        "{out}"
    );
    assert!(out.contains("L^p error"));
}

#[test]
fn bad_inputs_exit_2_with_a_fix() {
    let pts = tmp_file("cli-score-net", "p2.json", "[[0.3, -0.1]]");
    let pts3 = tmp_file("cli-score-net", "p3.json", "[[0.3, -0.1, 1.0]]");
    let m = ["score-net", "--mixture", "builtin:two-mode-s0.1"];
    let with =
        |extra: &[&str]| -> Vec<String> { m.iter().chain(extra).map(|s| s.to_string()).collect() };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (with(&["--eps", "0"]), vec!["--eps", "> 0"]),
        (with(&["--eps", "-1"]), vec!["--eps", "> 0"]),
        (with(&["--eps", "NaN"]), vec!["--eps"]),
        (with(&["--eps", "inf"]), vec!["--eps"]),
        (with(&["--eps", "1e-9"]), vec!["eps", "1e-7"]),
        (with(&["--eps", "abc"]), vec!["--eps"]),
        (with(&[]), vec!["--eps"]),
        (
            with(&["--eps", "0.1", "--points", &pts]),
            vec!["--points needs --t"],
        ),
        (
            with(&["--eps", "0.1", "--t", "0.5"]),
            vec!["--t is only used with --points"],
        ),
        (
            with(&["--eps", "0.1", "--points", &pts, "--t", "2"]),
            vec!["outside", "[0.01, 1]"],
        ),
        (
            with(&["--eps", "0.1", "--points", &pts, "--t", "0.001"]),
            vec!["outside"],
        ),
        (
            with(&["--eps", "0.1", "--points", &pts, "--t", "NaN"]),
            vec!["outside"],
        ),
        (
            with(&["--eps", "0.1", "--points", &pts3, "--t", "0.5"]),
            vec!["3 coordinates", "d = 2"],
        ),
        (
            with(&["--eps", "0.1", "--points", "/no/such.json", "--t", "0.5"]),
            vec!["cannot read"],
        ),
        (with(&["--eps", "0.1", "--t-min", "0"]), vec!["t_min"]),
        (
            with(&["--eps", "0.1", "--t-min", "2", "--t-max", "1"]),
            vec!["t_min"],
        ),
        (with(&["--eps", "0.1", "--samples", "1"]), vec!["--samples"]),
        (with(&["--eps", "0.1", "--times", "0"]), vec!["--times"]),
        (
            with(&["--eps", "0.1", "--samples", "1000000000000"]),
            vec!["--samples", "between 2 and"],
        ),
        (
            vec![
                "score-net".into(),
                "--mixture".into(),
                "builtin:nope".into(),
                "--eps".into(),
                "0.1".into(),
            ],
            vec!["unknown built-in"],
        ),
    ];
    for (args, needles) in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad(&a, needles);
    }
}
