//! Regression checks for outside models: query sets round-trip through
//! their files, exact answers give zero error, a known perturbation gives exactly its size,
//! CSV and .npy answers agree, and a regression against a saved baseline exits 1.

use crate::common;

use common::cli::{assert_bad, run};

use std::path::{Path, PathBuf};

use flowcert::grids::GridKind;
use flowcert::model::{ScoreField, builtin};
use flowcert::theorems::assess::npy::{from_npy, to_npy};
use flowcert::theorems::assess::{QueryConfig, QuerySet, assess_flowmap, assess_score};
use flowcert::tolerance::EXACT;
use nalgebra::DMatrix;

const MIXTURE: &str = "builtin:two-mode-s0.3";
/// The perturbation added to exact answers: |SHIFT| = 0.05.
const SHIFT: [f64; 2] = [0.03, -0.04];

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-assess-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Queries through the CLI (3 times, 3 balanced segments, 40 points each).
fn queries(d: &Path) -> QuerySet {
    let q = d.join("q");
    let (code, _, err) = run(&[
        "queries",
        "--mixture",
        MIXTURE,
        "--out",
        s(&q),
        "--times",
        "0.01,0.1,1",
        "--samples",
        "40",
        "--segments",
        "3",
        "--seed",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    QuerySet::load(&q).unwrap()
}

/// Exact answers (plus `shift`): scores at the score queries, flows at the segment and
/// rollout queries, each as `d x M`.
fn answers(q: &QuerySet, shift: [f64; 2]) -> (DMatrix<f64>, DMatrix<f64>, DMatrix<f64>) {
    let mix = &q.mixture;
    let mut score = DMatrix::zeros(2, q.score.ncols());
    for c in 0..q.score.ncols() {
        let x = [q.score[(1, c)], q.score[(2, c)]];
        let mut out = [0.0; 2];
        mix.score_into(&x, q.score[(0, c)], &mut out);
        score.set_column(c, &nalgebra::Vector2::from(out));
    }
    let flow = flowcert::dynamics::Teacher::PRECISE.flow(mix);
    let m = &q.manifest.flowmap;
    let n = m.samples_per_segment;
    let mut seg = DMatrix::zeros(2, q.flowmap.ncols());
    for i in 1..m.times.len() {
        let xs = q.flowmap.columns((i - 1) * n, n).rows(3, 2).into_owned();
        let (y, _) = flow.map_batch(&xs, m.times[i], m.times[i - 1]).unwrap();
        seg.columns_mut((i - 1) * n, n).copy_from(&y);
    }
    let xs = q.rollout.rows(2, 2).into_owned();
    let (roll, _) = flow
        .map_batch(&xs, m.times[m.times.len() - 1], m.times[0])
        .unwrap();
    let add = |mut a: DMatrix<f64>| {
        for mut c in a.column_iter_mut() {
            c[0] += shift[0];
            c[1] += shift[1];
        }
        a
    };
    (add(score), add(seg), add(roll))
}

fn save_npy(p: &Path, a: &DMatrix<f64>) {
    // columns of a are the rows of the file
    std::fs::write(p, to_npy(a.ncols(), a.nrows(), a.as_slice())).unwrap();
}

fn save_csv(p: &Path, a: &DMatrix<f64>) {
    let mut t = String::from("s0,s1\n");
    for c in a.column_iter() {
        t.push_str(&format!("{:?},{:?}\n", c[0], c[1]));
    }
    std::fs::write(p, t).unwrap();
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `assess KIND --queries Q --answers A EXTRA...` as arguments.
fn assess_args<'a>(
    kind: &'a str,
    q: &'a Path,
    answers: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["assess", kind, "--queries", s(q), "--answers", s(answers)];
    args.extend_from_slice(extra);
    args
}

/// Run `flowcert [--json] assess ...`: (exit status, stdout, stderr).
fn assess(
    json: bool,
    kind: &str,
    q: &Path,
    answers: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args = if json { vec!["--json"] } else { vec![] };
    args.extend(assess_args(kind, q, answers, extra));
    run(&args)
}

#[test]
fn exact_answers_have_zero_error_and_a_shift_has_exactly_its_size() {
    let d = dir("exact");
    let q = queries(&d);
    let (sc, seg, roll) = answers(&q, [0.0, 0.0]);
    let a = assess_score(&q, &sc).unwrap();
    assert_eq!(a.rows.len(), 3);
    assert!(a.sup_l2 <= EXACT && a.sup_l1 <= EXACT, "{}", a.sup_l2);
    let f = assess_flowmap(&q, &seg, Some(&roll)).unwrap();
    assert_eq!(f.segments.len(), 3);
    assert!(f.bound_max <= EXACT && f.end_to_end.as_ref().unwrap().max <= EXACT);

    let size = (SHIFT[0] * SHIFT[0] + SHIFT[1] * SHIFT[1]).sqrt();
    let (sc, seg, roll) = answers(&q, SHIFT);
    let a = assess_score(&q, &sc).unwrap();
    for r in &a.rows {
        assert!(
            (r.l1 - size).abs() <= EXACT && (r.l2 - size).abs() <= EXACT,
            "{r:?}"
        );
        assert!((r.relative_l2 - size / r.score_l2).abs() <= EXACT);
    }
    let f = assess_flowmap(&q, &seg, Some(&roll)).unwrap();
    let weights: f64 = f.segments.iter().map(|s| s.weight).sum();
    for sg in &f.segments {
        assert!((sg.rms - size).abs() <= EXACT && (sg.max - size).abs() <= EXACT);
    }
    assert!((f.bound_rms - size * weights).abs() <= EXACT * weights);
    assert_eq!(f.segments[0].weight, 1.0);
    assert!(f.segments[2].weight > f.segments[1].weight);
    let e = f.end_to_end.unwrap();
    assert!((e.rms - size).abs() <= EXACT && (e.max - size).abs() <= EXACT);
    assert!(e.rms_over_bound <= 1.0);
}

#[test]
fn cli_round_trip_csv_and_npy_and_baseline_regression() {
    let d = dir("cli");
    let q = queries(&d);
    let qd = d.join("q");
    let (sc, seg, roll) = answers(&q, [0.0, 0.0]);
    let (sa, fa, ra) = (d.join("s.npy"), d.join("f.npy"), d.join("r.npy"));
    save_npy(&sa, &sc);
    save_npy(&fa, &seg);
    save_npy(&ra, &roll);
    let (sb, fb) = (d.join("score-base.json"), d.join("flow-base.json"));
    let (code, out, err) = assess(
        true,
        "score",
        &qd,
        &sa,
        &["--save-baseline", s(&sb), "--mixture", MIXTURE],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert!(v["sup_l2"].as_f64().unwrap() <= EXACT);
    assert_eq!(v["kind"], "score");
    assert!(sb.exists());
    let (code, _, err) = assess(
        false,
        "flowmap",
        &qd,
        &fa,
        &["--rollout", s(&ra), "--save-baseline", s(&fb)],
    );
    assert_eq!(code, 0, "{err}");

    // CSV answers give the same metrics as .npy (shortest round-trip decimal)
    let sc_csv = d.join("s.csv");
    save_csv(&sc_csv, &sc);
    let (code, out2, err) = assess(true, "score", &qd, &sc_csv, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out2)["metrics"], v["metrics"]);

    // the same answers against their own baseline: exit 0, nothing regressed
    let (code, out, err) = assess(true, "score", &qd, &sa, &["--baseline", s(&sb)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["comparison"]["regressions"], 0);

    // perturbed answers: every metric regresses, exit 1, the baseline is not overwritten
    let (sc, seg, roll) = answers(&q, SHIFT);
    save_npy(&sa, &sc);
    save_npy(&fa, &seg);
    save_npy(&ra, &roll);
    let before = std::fs::read(&sb).unwrap();
    let (code, out, err) = assess(
        true,
        "score",
        &qd,
        &sa,
        &["--baseline", s(&sb), "--save-baseline", s(&sb)],
    );
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    let n = v["metrics"].as_object().unwrap().len() as u64;
    assert_eq!(v["comparison"]["regressions"].as_u64().unwrap(), n);
    assert!(err.contains("not saving"), "{err}");
    assert_eq!(std::fs::read(&sb).unwrap(), before);
    let (code, out, err) = assess(
        false,
        "flowmap",
        &qd,
        &fa,
        &["--rollout", s(&ra), "--baseline", s(&fb)],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("regressed"), "{out}");
    // a tolerance above the change accepts it only where the baseline is not ~0: still 1
    let (code, _, _) = assess(
        false,
        "score",
        &qd,
        &sa,
        &["--baseline", s(&sb), "--tolerance", "1000"],
    );
    assert_eq!(code, 1);
}

#[test]
fn a_small_change_within_tolerance_passes_and_a_larger_one_fails() {
    let d = dir("tol");
    let q = queries(&d);
    let qd = d.join("q");
    let (sa, sb) = (d.join("s.npy"), d.join("base.json"));
    let (sc, _, _) = answers(&q, SHIFT);
    save_npy(&sa, &sc);
    let (code, _, err) = assess(false, "score", &qd, &sa, &["--save-baseline", s(&sb)]);
    assert_eq!(code, 0, "{err}");
    for (scale, tol, expected) in [
        (1.05, "0.1", 0),
        (1.2, "0.1", 1),
        (1.2, "0.25", 0),
        (0.5, "0.1", 0),
    ] {
        let (sc, _, _) = answers(&q, [SHIFT[0] * scale, SHIFT[1] * scale]);
        save_npy(&sa, &sc);
        let (code, out, err) = assess(
            true,
            "score",
            &qd,
            &sa,
            &["--baseline", s(&sb), "--tolerance", tol],
        );
        assert_eq!(code, expected, "scale {scale} tol {tol}: {err}");
        if scale < 1.0 {
            let v = json(&out);
            let improved = v["comparison"]["changes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["status"] == "improved")
                .count();
            assert!(improved > 0);
        }
    }
}

#[test]
fn queries_are_deterministic_and_tampering_is_detected() {
    let d = dir("det");
    let mix = builtin::two_mode(0.3);
    let cfg = QueryConfig {
        times: vec![0.05, 0.5],
        samples: 7,
        seed: 3,
        grid: GridKind::Edm { rho: 7.0 },
        segments: 2,
        t_min: 0.01,
        t_max: 2.0,
    }
    .check()
    .unwrap();
    let a = QuerySet::generate(&mix, &cfg).unwrap();
    let b = QuerySet::generate(&mix, &cfg).unwrap();
    assert_eq!(a.score, b.score);
    assert_eq!(a.manifest, b.manifest);
    assert_eq!(a.manifest.flowmap.rho, Some(7.0));
    a.write(&d).unwrap();
    let bytes = std::fs::read(d.join("score_queries.npy")).unwrap();
    let arr = from_npy(&bytes).unwrap();
    assert_eq!(arr.shape, vec![14, 3]);
    assert_eq!(arr.data[0], 0.05);
    assert_eq!(arr.data[3 * 7], 0.5);
    // tamper with a query file: load refuses it
    let mut bad = bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(d.join("score_queries.npy"), bad).unwrap();
    let e = QuerySet::load(&d).unwrap_err().to_string();
    assert!(e.contains("fingerprint"), "{e}");
}

#[test]
fn npy_reader_accepts_float32_big_endian_and_fortran_order() {
    let head = |descr: &str, fortran: &str, shape: &str| {
        let mut h =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b
    };
    let mut b = head("<f4", "False", "(2, 2)");
    for v in [1.0f32, 2.0, 3.0, 4.0] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!(from_npy(&b).unwrap().data, vec![1.0, 2.0, 3.0, 4.0]);
    let mut b = head(">f8", "True", "(2, 2)");
    for v in [1.0f64, 3.0, 2.0, 4.0] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    assert_eq!(from_npy(&b).unwrap().data, vec![1.0, 2.0, 3.0, 4.0]);
    let mut b = head("<i8", "False", "(1,)");
    b.extend_from_slice(&[0; 8]);
    assert!(from_npy(&b).unwrap_err().to_string().contains("'<i8'"));
    let b = head("<f8", "False", "(3,)");
    assert!(from_npy(&b).unwrap_err().to_string().contains("data bytes"));
}

#[test]
fn bad_inputs_exit_2_with_a_fix() {
    let d = dir("bad");
    let q = queries(&d);
    let qd = d.join("q");
    let (sc, _, _) = answers(&q, [0.0, 0.0]);
    let sa = d.join("s.npy");
    save_npy(&sa, &sc);
    let short = d.join("short.npy");
    save_npy(&short, &sc.columns(0, 5).into_owned());
    let mut nan = sc.clone();
    nan[(1, 7)] = f64::NAN;
    let nan_p = d.join("nan.npy");
    save_npy(&nan_p, &nan);
    let csv3 = d.join("three.csv");
    std::fs::write(&csv3, "1,2,3\n").unwrap();
    let fb = d.join("flow-base.json");
    std::fs::write(
        &fb,
        r#"{"kind": "flowmap", "queries": {"mixture_hash": "x", "seed": 0, "fingerprint": "y"}, "metrics": {}}"#,
    )
    .unwrap();
    let out = d.join("out");
    let queries = |extra: &[&'static str]| {
        let mut args = vec![
            "queries".to_string(),
            "--mixture".into(),
            MIXTURE.into(),
            "--out".into(),
        ];
        args.push(s(&out).into());
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    let score = |answers: &Path, extra: &[&str]| owned(assess_args("score", &qd, answers, extra));
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (
            owned(assess_args("score", Path::new("/no/such/dir"), &sa, &[])),
            vec!["queries.json"],
        ),
        (score(&short, &[]), vec!["5 rows", "120"]),
        (score(&nan_p, &[]), vec!["row 7", "NaN"]),
        (score(&csv3, &[]), vec!["3 coordinates", "d = 2"]),
        (
            score(&sa, &["--baseline", s(&fb)]),
            vec!["flowmap baseline", "assess score"],
        ),
        (
            score(&sa, &["--tolerance", "-1"]),
            vec!["--tolerance", ">= 0"],
        ),
        (
            score(&sa, &["--mixture", "builtin:ring8"]),
            vec!["not the mixture"],
        ),
        (
            owned(assess_args("flowmap", &qd, &short, &[])),
            vec!["5 rows", "flowmap_queries"],
        ),
        (queries(&["--times", "0.1,-1"]), vec!["--times", "> 0"]),
        (queries(&["--times", "0.1,abc"]), vec!["--times", "abc"]),
        (
            queries(&["--samples", "1"]),
            vec!["--samples", "at least 2"],
        ),
        (
            queries(&["--samples", "100000000000"]),
            vec!["--samples", "rows per file"],
        ),
        (queries(&["--segments", "0"]), vec!["--segments"]),
        (queries(&["--grid", "nope"]), vec!["unknown grid kind"]),
        (queries(&["--t-min", "0"]), vec!["--t-min"]),
        (queries(&["--t-min", "2", "--t-max", "1"]), vec!["--t-min"]),
        (
            owned(vec![
                "queries",
                "--mixture",
                "builtin:nope",
                "--out",
                s(&out),
            ]),
            vec!["unknown built-in"],
        ),
        (
            owned(vec![
                "queries",
                "--mixture",
                MIXTURE,
                "--out",
                "/proc/flowcert-no",
            ]),
            vec!["cannot write"],
        ),
    ];
    for (args, needles) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad(&args, needles);
    }
}

/// The kept mutation of the assess verdict (`baseline::Mutation::FlippedDirection`, "lower
/// is better" read the wrong way round) flips the verdict on the answers of the test
/// above: the real comparison flags the worse model and passes the better one, the mutated
/// one does the opposite.
#[test]
fn assess_verdict_catches_the_flipped_direction_mutation() {
    use flowcert::theorems::assess::baseline::{Mutation, compare_mutated};
    use flowcert::theorems::assess::{Baseline, compare};
    let d = dir("mutation");
    let q = queries(&d);
    let base = assess_score(&q, &answers(&q, SHIFT).0).unwrap();
    let baseline = Baseline {
        kind: base.kind.clone(),
        queries: base.queries.clone(),
        metrics: base.metrics.clone(),
    };
    for (scale, worse) in [(1.2, true), (0.5, false)] {
        let a = assess_score(&q, &answers(&q, [SHIFT[0] * scale, SHIFT[1] * scale]).0).unwrap();
        let real = compare("score", &a.queries, &a.metrics, &baseline, 0.1).unwrap();
        let bad = compare_mutated(
            "score",
            &a.queries,
            &a.metrics,
            &baseline,
            0.1,
            Some(Mutation::FlippedDirection),
        )
        .unwrap();
        assert_eq!(real.regressions > 0, worse, "scale {scale}: {real:?}");
        assert_eq!(
            bad.regressions > 0,
            !worse,
            "scale {scale}: mutation not caught"
        );
    }
}
