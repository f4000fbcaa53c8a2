//! Drives `flowcert lipschitz`, `grid`, `stability` and `check`: the command-line contract
//! (README.md, "Commands") and bad inputs (exit 2, a message naming the field and the
//! fix, no panic).

use crate::common;

use common::cli::{assert_bad, run, run_json, tmp_file};

const TWO_MODE: &str = r#"{"weights":[0.5,0.5],"means":[[-1.5,0],[1.5,0]],"covariances":[[[0.01,0],[0,0.01]],[[0.01,0],[0,0.01]]]}"#;

#[test]
fn lipschitz_follows_the_contract() {
    let m = tmp_file("cli-bounds", "two.json", TWO_MODE);
    let v = run_json(&[
        "lipschitz",
        "--json",
        "--quick",
        "--mixture",
        &m,
        "--times",
        "0.01, 0.1,1",
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, t) in rows.iter().zip([0.01, 0.1, 1.0]) {
        assert_eq!(row["t"], t);
        for key in ["bound", "bound_paper", "one_sided", "empirical_sup"] {
            assert!(row[key].is_number(), "row lacks {key}: {row}");
        }
        // Shared covariance: the bound holds on all of R^d.
        assert!(row.as_object().unwrap().contains_key("region_radius"));
        assert!(row["region_radius"].is_null());
        // Two isotropic modes: the bound is attained.
        let ratio = row["bound"].as_f64().unwrap() / row["empirical_sup"].as_f64().unwrap();
        assert!((ratio - 1.0).abs() < 1e-2, "{row}");
    }
    assert_eq!(v["violations"], 0);

    let v = run_json(&[
        "lipschitz",
        "--json",
        "--quick",
        "--mixture",
        "builtin:hetero3",
        "--times",
        "0.5",
    ]);
    assert!(v["rows"][0]["region_radius"].as_f64().unwrap() > 2.0);

    let svg = std::env::temp_dir().join(format!("flowcert-lip-{}.svg", std::process::id()));
    let svg = svg.display().to_string();
    let (code, out, err) = run(&[
        "lipschitz",
        "--quick",
        "--mixture",
        "builtin:ring8",
        "--times",
        "0.1,1",
        "--svg",
        &svg,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("L/sup") && out.contains("0 of 2 times violate"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[test]
fn grid_follows_the_contract_for_every_kind() {
    for kind in [
        "uniform",
        "balanced",
        "balanced-paper",
        "balanced-one-sided",
        "logsnr",
        "edm",
    ] {
        let v = run_json(&[
            "grid",
            "--json",
            "--mixture",
            "builtin:two-mode-s0.1",
            "--segments",
            "8",
            "--kind",
            kind,
            "--t-min",
            "0.01",
            "--t-max",
            "3",
        ]);
        assert_eq!(v["kind"], kind);
        let times: Vec<f64> = serde_json::from_value(v["times"].clone()).unwrap();
        let lambda: Vec<f64> = serde_json::from_value(v["lambda"].clone()).unwrap();
        assert_eq!((times.len(), lambda.len()), (9, 9));
        assert_eq!((times[0], times[8]), (0.01, 3.0));
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{kind}: {times:?}");
        assert_eq!(lambda[0], 0.0);
        assert!(lambda.windows(2).all(|w| w[0] < w[1]), "{kind}: {lambda:?}");
        if kind == "balanced" {
            let inc = lambda[8] / 8.0;
            for w in lambda.windows(2) {
                assert!(((w[1] - w[0]) / inc - 1.0).abs() < 1e-9, "{lambda:?}");
            }
        }
    }
    let v = run_json(&[
        "grid",
        "--json",
        "--mixture",
        "builtin:ring8",
        "--segments",
        "2",
        "--kind",
        "edm",
        "--rho",
        "3",
        "--t-min",
        "0.01",
        "--t-max",
        "3",
    ]);
    assert_eq!(v["rho"], 3.0);
    let (code, out, _) = run(&[
        "grid",
        "--mixture",
        "builtin:ring8",
        "--segments",
        "2",
        "--kind",
        "uniform",
        "--t-min",
        "1",
        "--t-max",
        "3",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Lambda(t_i)") && out.contains("2.0000000"),
        "{out}"
    );
}

#[test]
fn stability_reports_segments_and_the_whole_interval() {
    let v = run_json(&[
        "stability",
        "--json",
        "--mixture",
        "builtin:two-mode-s0.3",
        "--from",
        "2",
        "--to",
        "0.05",
        "--segments",
        "3",
        "--samples",
        "4",
    ]);
    let segs = v["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 3);
    assert_eq!(v["times"].as_array().unwrap().len(), 4);
    for s in segs.iter().chain([&v["whole"]]) {
        for key in [
            "t_hi",
            "t_lo",
            "measured",
            "bound_one_sided",
            "bound_two_sided",
            "ratio",
        ] {
            assert!(s[key].is_number(), "segment lacks {key}: {s}");
        }
        // Two equal isotropic modes: the midpoint attains exp(int mu).
        assert!((s["ratio"].as_f64().unwrap() - 1.0).abs() < 1e-6, "{s}");
    }
    assert_eq!(v["whole"]["t_hi"], 2.0);
    assert_eq!(v["whole"]["t_lo"], 0.05);
    assert_eq!(v["violations"], 0);
    assert!(v["region_radius"].is_null());

    let (code, out, err) = run(&[
        "stability",
        "--mixture",
        "builtin:hetero3",
        "--from",
        "1",
        "--to",
        "0.1",
        "--grid",
        "uniform",
        "--segments",
        "2",
        "--samples",
        "4",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("may leave B_R") && out.contains("ball"),
        "{out}"
    );
    assert!(out.contains("0 of 3 flow maps exceed"), "{out}");
}

#[test]
fn check_passes_on_the_builtin_suite() {
    let v = run_json(&["check", "--json"]);
    assert_eq!(v["violations"], 0);
    let rows = v["rows"].as_array().unwrap();
    let suite = flowcert::model::builtin::Builtin::ALL.map(|b| b.name());
    let checkers = ["lipschitz", "stability", "composition", "score-net"];
    assert!(rows.len() >= checkers.len() * suite.len() && rows.len().is_multiple_of(suite.len()));
    for name in suite {
        for checker in checkers {
            let row = rows
                .iter()
                .find(|r| r["mixture"] == name && r["checker"] == checker)
                .unwrap_or_else(|| panic!("no row for {name}/{checker}"));
            assert_eq!(row["violations"], 0);
            assert!(row["checked"].as_u64().unwrap() > 0);
            assert!(row["tightest"].as_f64().unwrap() >= 1.0 - 1e-6, "{row}");
        }
    }
}

#[test]
fn bad_inputs_exit_2_with_a_fix() {
    let m = tmp_file("cli-bounds", "good.json", TWO_MODE);
    let bad_mix = tmp_file(
        "cli-bounds",
        "nonpsd.json",
        r#"{"weights":[1],"means":[[0,0]],"covariances":[[[1,2],[2,1]]]}"#,
    );
    let lip = |times: &str| {
        vec!["lipschitz", "--quick", "--mixture", &m, "--times", times]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for (times, needles) in [
        ("", &["--times is empty", "e.g. 0.01,0.1,1"][..]),
        ("0.1,abc", &["--times entry 2 'abc' is not a number"]),
        ("0.1,,1", &["--times entry 2 '' is not a number"]),
        ("NaN", &["--times entry 1 is NaN", "finite and > 0"]),
        ("inf", &["--times entry 1 is inf"]),
        ("0", &["--times entry 1 is 0", "> 0"]),
        ("0.5,-1", &["--times entry 2 is -1"]),
        ("-1", &["--times entry 1 is -1"]),
    ] {
        let args = lip(times);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad(&args, needles);
    }
    assert_bad(
        &["lipschitz", "--mixture", &bad_mix, "--times", "1"],
        &["not positive semi-definite"],
    );
    assert_bad(&["lipschitz", "--mixture", &m], &["--times"]);

    let grid = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec![
            "grid",
            "--mixture",
            "builtin:two-mode-s0.1",
            "--segments",
            "4",
            "--kind",
            "balanced",
            "--t-min",
            "0.01",
            "--t-max",
            "3",
        ];
        // clap rejects a repeated flag, so replace the value in place.
        for pair in extra.chunks(2) {
            let i = v.iter().position(|a| *a == pair[0]).unwrap();
            v[i + 1] = pair[1];
        }
        v
    };
    assert_bad(&grid(&["--segments", "0"]), &["--segments 0", "between 1"]);
    assert_bad(
        &grid(&["--kind", "cosine"]),
        &["unknown grid kind 'cosine'", "balanced-one-sided"],
    );
    assert_bad(
        &grid(&["--t-min", "3", "--t-max", "0.01"]),
        &["--t-min 3 must be smaller than --t-max 0.01", "swap"],
    );
    assert_bad(&grid(&["--t-min", "1", "--t-max", "1"]), &["swap"]);
    assert_bad(
        &grid(&["--t-min", "0"]),
        &["--t-min 0 must be finite and > 0"],
    );
    assert_bad(&grid(&["--t-min", "NaN"]), &["--t-min NaN"]);
    assert_bad(&grid(&["--t-max", "inf"]), &["--t-max inf"]);
    assert_bad(&grid(&["--t-max", "1000"]), &["--t-max 1000", "at most"]);
    assert_bad(&grid(&["--segments", "-3"]), &["--segments"]);
    let mut edm = grid(&["--kind", "edm"]);
    edm.extend(["--rho", "-1"]);
    assert_bad(&edm, &["--rho -1", "must be finite and > 0"]);
    let mut nan_rho = grid(&[]);
    nan_rho.extend(["--rho", "NaN"]);
    assert_bad(&nan_rho, &["--rho NaN"]);

    let stab = |from: &str, to: &str, extra: &[&str]| {
        let mut v = vec![
            "stability",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--from",
            from,
            "--to",
            to,
            "--samples",
            "2",
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    for (args, needles) in [
        (
            stab("0.01", "3", &[]),
            &["--to 3 must be smaller than --from 0.01", "swap"][..],
        ),
        (
            stab("1", "1", &[]),
            &["--to 1 must be smaller than --from 1"],
        ),
        (stab("3", "0", &[]), &["--to 0 is not a valid OU time"]),
        (stab("NaN", "0.1", &[]), &["--from NaN"]),
        (stab("3", "-0.1", &[]), &["--to -0.1"]),
        (stab("500", "0.1", &[]), &["--from 500 must be at most"]),
        (
            stab("3", "0.01", &["--segments", "0"]),
            &["--segments 0", "between 1"],
        ),
        (
            stab("3", "0.01", &["--grid", "karras"]),
            &["unknown grid kind 'karras'"],
        ),
        (stab("3", "0.01", &["--rtol", "-1"]), &["rtol"]),
        (stab("3", "0.01", &["--atol", "NaN"]), &["atol"]),
        (stab("3", "0.01", &["--samples", "-1"]), &["--samples"]),
        (stab("3", "0.01", &["--rho", "0"]), &["--rho 0"]),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad(&args, needles);
    }
    assert_bad(
        &[
            "stability",
            "--mixture",
            &bad_mix,
            "--from",
            "1",
            "--to",
            "0.1",
        ],
        &["not positive semi-definite"],
    );
    assert_bad(&["check", "--seed", "x"], &["--seed"]);
}
