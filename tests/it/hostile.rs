//! Hostile and careless input at the library level: each case of the hardening issue
//! (crafted `.npy` headers, hand-edited query manifests, CSV typos, magnitudes beyond f64,
//! cells copied over other cells, planted symlinks, runaway sizes) is refused with an
//! error that names the field, and nothing panics, hangs or allocates without bound.

use std::path::{Path, PathBuf};

use flowcert::experiments::{CellKey, CellStore};
use flowcert::grids::GridKind;
use flowcert::io::{check_finite, parse_points, write_atomic};
use flowcert::limits::{self, Estimate, read_limited};
use flowcert::model::{MixtureSpec, ModelError, builtin};
use flowcert::theorems::assess::npy::{from_npy, to_npy};
use flowcert::theorems::assess::{QueryConfig, QuerySet, assess_flowmap, assess_score};
use flowcert::theorems::stability::{StabilityConfig, StabilityError, measure_segments};
use nalgebra::DMatrix;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An NPY v1 file with this header text and data bytes.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    h.push_str(&" ".repeat((64 - (10 + h.len() + 1) % 64) % 64));
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn crafted_npy_headers_are_refused_before_allocating() {
    // The issue's case: fortran order, shape (2^61, 2), no data. 2^62 elements x 8 bytes
    // wrapped to 0 and passed the size check.
    let e = from_npy(&npy(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (2305843009213693952, 2), }",
        &[],
    ))
    .unwrap_err();
    assert!(e.message.contains("more than"), "{e}");
    // An element count within the limit whose byte count overflows cannot exist (the
    // limit keeps it small); a byte count that does not match the file is refused.
    let e = from_npy(&npy(
        "{'descr': '<f8', 'fortran_order': True, 'shape': (1000, 2), }",
        &[0u8; 16],
    ))
    .unwrap_err();
    assert!(e.message.contains("16000 data bytes"), "{e}");
    // Shape entries that overflow usize, negative or non-integer.
    for shape in ["(99999999999999999999999, 2)", "(-1, 2)", "(2.5, 2)"] {
        let h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
        assert!(from_npy(&npy(&h, &[])).is_err(), "{shape}");
    }
    // A v2 header that claims 2^31 bytes.
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&(1u32 << 31).to_le_bytes());
    v2.push(b'{');
    let e = from_npy(&v2).unwrap_err();
    assert!(e.message.contains("header is 2147483648 bytes"), "{e}");
    // The honest file still reads.
    let ok = to_npy(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(from_npy(&ok).unwrap().data, vec![1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn csv_headers_typos_and_delimiters() {
    let comma = parse_points("0.1,0.2\n0.3,0.4\n", 2, "p").unwrap();
    // The first row with a typo is an error naming the line and field, not a header.
    let e = parse_points("0.1,0.2x\n0.3,0.4\n", 2, "p")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("line 1 field 2 '0.2x'") && e.contains("header"),
        "{e}"
    );
    // A header is a first row with no number at all.
    assert_eq!(
        parse_points("x0,x1\n0.1,0.2\n0.3,0.4\n", 2, "p").unwrap(),
        comma
    );
    assert!(parse_points("x0,1\n0.1,0.2\n", 2, "p").is_err());
    // Semicolons, tabs, runs of spaces; quotes; a byte-order mark; comments and blanks.
    for text in [
        "0.1;0.2\n0.3;0.4\n",
        "0.1\t0.2\n0.3\t0.4\n",
        "0.1   0.2\n  0.3 0.4  \n",
        "\"0.1\",\"0.2\"\n\"0.3\",\"0.4\"\n",
        "\u{feff}x;y\n0.1;0.2\n\n# note\n0.3;0.4\n",
    ] {
        assert_eq!(parse_points(text, 2, "p").unwrap(), comma, "{text:?}");
    }
    // A row in another delimiter explains the accepted ones.
    let e = parse_points("0.1,0.2\n0.3 0.4\n", 2, "p")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("semicolons, tabs or spaces") && e.contains("line 2"),
        "{e}"
    );
    // Magnitudes beyond f64 sense, NaN, wrong lengths (JSON and CSV).
    for (text, needle) in [
        ("[[1e300, 0]]", "beyond the limit"),
        ("1e300,0\n", "beyond the limit"),
        ("[[1, NaN]]", "JSON has no NaN"),
        ("nan,0\n", "finite"),
        ("[[1, 2, 3]]", "point 0 has 3 coordinates"),
        ("[[1]]", "1 coordinates"),
        ("1,2,3\n", "3 coordinates"),
        ("", "no points"),
        ("[]", "no points"),
    ] {
        let e = parse_points(text, 2, "p").unwrap_err().to_string();
        assert!(e.contains(needle), "{text:?}: {e}");
    }
}

#[test]
fn mixtures_beyond_f64_sense_are_refused_naming_the_field() {
    let spec = |means: Vec<Vec<f64>>, var: [f64; 2]| MixtureSpec {
        weights: vec![0.5, 0.5],
        means,
        covariances: var
            .iter()
            .map(|&v| vec![vec![v, 0.0], vec![0.0, v]])
            .collect(),
    };
    let far = spec(vec![vec![-1e300, 0.0], vec![1e300, 0.0]], [0.01, 0.01]);
    match far.check().unwrap_err() {
        ModelError::OutOfRange { field, .. } => assert_eq!(field, "means[0][0]"),
        e => panic!("{e}"),
    }
    // Beyond 1e16 the box radius of score-net could not grow (R + 1 == R).
    assert!(
        spec(vec![vec![-1e17, 0.0], vec![1e17, 0.0]], [0.01, 0.01])
            .check()
            .is_err()
    );
    let wide = spec(vec![vec![-1.5, 0.0], vec![1.5, 0.0]], [1e20, 0.01]);
    let e = wide.check().unwrap_err().to_string();
    assert!(
        e.contains("covariances[0][0][0]") && e.contains("rescale"),
        "{e}"
    );
    // At the limits the mixture is valid.
    let edge = spec(vec![vec![-1e8, 0.0], vec![1e8, 0.0]], [1e16, 0.01]);
    assert!(edge.check().is_ok());
    // Sizes are checked before the eigendecompositions.
    let d = limits::MAX_DIM + 1;
    let big = MixtureSpec {
        weights: vec![1.0],
        means: vec![vec![0.0; d]],
        covariances: vec![vec![]],
    };
    assert!(matches!(big.check(), Err(ModelError::TooLarge { .. })));
}

#[test]
fn mixture_json_messages_name_nan_and_accept_a_byte_order_mark() {
    let nan = r#"{"weights":[1.0],"means":[[NaN]],"covariances":[[[1.0]]]}"#;
    let e = MixtureSpec::from_json(nan).unwrap_err().to_string();
    assert!(
        e.contains("JSON has no NaN or Infinity") && e.contains("finite number"),
        "{e}"
    );
    let inf = r#"{"weights":[1.0],"means":[[-Infinity]],"covariances":[[[1.0]]]}"#;
    let e = MixtureSpec::from_json(inf).unwrap_err().to_string();
    assert!(e.contains("'-Infinity'"), "{e}");
    let bom = "\u{feff}{\"weights\":[1.0],\"means\":[[0.0]],\"covariances\":[[[1.0]]]}";
    assert!(MixtureSpec::from_json(bom).unwrap().check().is_ok());
    // A syntax error that is not NaN gets no NaN hint.
    let e = MixtureSpec::from_json("{").unwrap_err().to_string();
    assert!(!e.contains("NaN"), "{e}");
}

#[test]
fn box_radius_stops_instead_of_looping() {
    let mix = builtin::two_mode(0.1);
    // A bound that is not a number would never drop below the budget: an error, at once.
    assert!(flowcert::approx::box_radius(&mix, 0.01, 1.0, f64::NAN, 1e-3).is_err());
    // Means at the coordinate limit still get a radius.
    let far = MixtureSpec {
        weights: vec![0.5, 0.5],
        means: vec![vec![-1e8, 0.0], vec![1e8, 0.0]],
        covariances: vec![vec![vec![0.01, 0.0], vec![0.0, 0.01]]; 2],
    }
    .check()
    .unwrap();
    let r = flowcert::approx::box_radius(&far, 0.01, 1.0, 1e-3, 1e-3).unwrap();
    assert!(r >= 1e8 * (-0.01f64).exp(), "{r}");
}

#[test]
fn stability_refuses_stiff_mixtures_before_allocating_pieces() {
    // Covariance 1e10 I next to 0.01 I: int L ~ 2e12, which tried to allocate 1.66 TB.
    let stiff = MixtureSpec {
        weights: vec![0.5, 0.5],
        means: vec![vec![-1.5, 0.0], vec![1.5, 0.0]],
        covariances: vec![
            vec![vec![1e10, 0.0], vec![0.0, 1e10]],
            vec![vec![0.01, 0.0], vec![0.0, 0.01]],
        ],
    }
    .check()
    .unwrap();
    let e = measure_segments(&stiff, &[0.01, 3.0], &StabilityConfig::quick()).unwrap_err();
    assert!(matches!(e, StabilityError::TooManyPieces { .. }), "{e}");
    assert!(e.to_string().contains("raise t_min"), "{e}");
}

fn query_set(segments: usize) -> QuerySet {
    let mix = builtin::two_mode(0.3);
    let cfg = QueryConfig {
        times: vec![0.05, 0.5],
        samples: 6,
        seed: 3,
        grid: GridKind::Uniform,
        segments,
        t_min: 0.05,
        t_max: 1.0,
    }
    .check()
    .unwrap();
    QuerySet::generate(&mix, &cfg).unwrap()
}

/// Edit the manifest of a written query set with `f`, optionally re-fingerprinting it (a
/// deliberate, consistent edit), and load it back.
fn load_edited(
    name: &str,
    refingerprint: bool,
    f: impl FnOnce(&mut serde_json::Value),
) -> Result<QuerySet, String> {
    let d = dir(name);
    query_set(3).write(&d).unwrap();
    let p = d.join("queries.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut v);
    if refingerprint
        && let Ok(mut m) =
            serde_json::from_value::<flowcert::theorems::assess::QueryManifest>(v.clone())
    {
        m.manifest_fingerprint = m.fingerprint();
        v = serde_json::to_value(&m).unwrap();
    }
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    QuerySet::load(&d).map_err(|e| e.to_string())
}

#[test]
fn edited_query_manifests_are_refused_not_indexed() {
    use serde_json::json;
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 8] = [
        ("samples_per_time", |v| {
            v["score"]["samples_per_time"] = json!(5)
        }),
        ("extra_time", |v| {
            v["score"]["times"].as_array_mut().unwrap().push(json!(0.7))
        }),
        ("empty_times", |v| v["score"]["times"] = json!([])),
        ("lambda_short", |v| {
            v["flowmap"]["lambda"].as_array_mut().unwrap().pop();
        }),
        ("lambda_empty", |v| v["flowmap"]["lambda"] = json!([])),
        ("samples_per_segment", |v| {
            v["flowmap"]["samples_per_segment"] = json!(2)
        }),
        ("flowmap_times", |v| v["flowmap"]["times"][1] = json!(0.33)),
        ("segments", |v| {
            v["flowmap"]["segments"] = json!(1_000_000_000_000u64)
        }),
    ];
    for (name, edit) in edits {
        // A careless edit: the fingerprint no longer matches.
        let e = load_edited(&format!("care-{name}"), false, edit).unwrap_err();
        assert!(e.contains("manifest_fingerprint"), "{name}: {e}");
        // A deliberate edit with a recomputed fingerprint: the contents disagree with the
        // query files, and validation says where (no slicing panic).
        let e = load_edited(&format!("bold-{name}"), true, edit).unwrap_err();
        assert!(e.contains("regenerate"), "{name}: {e}");
    }
    // An unedited set loads, and `score.times: []` in memory is refused by the
    // assessment itself rather than giving sup_l2 = 0.
    let mut q = load_edited("none", false, |_| {}).unwrap();
    let zeros = DMatrix::zeros(2, q.score.ncols());
    assert!(assess_score(&q, &zeros).is_ok());
    q.manifest.score.times.clear();
    let e = assess_score(&q, &zeros).unwrap_err().to_string();
    assert!(e.contains("score.times is empty"), "{e}");
    let mut q = load_edited("none2", false, |_| {}).unwrap();
    q.manifest.flowmap.lambda.pop();
    let z = DMatrix::zeros(2, q.flowmap.ncols());
    assert!(assess_flowmap(&q, &z, None).is_err());
}

#[test]
fn huge_answers_are_refused_before_they_become_inf() {
    let d = dir("answers");
    let q = query_set(2);
    let rows = q.score.ncols();
    let p = d.join("a.npy");
    std::fs::write(&p, to_npy(rows, 2, &vec![1e300; 2 * rows])).unwrap();
    let e = flowcert::theorems::assess::load_answers(&p, rows, 2, "score_queries")
        .unwrap_err()
        .to_string();
    assert!(e.contains("1e100") && e.contains("row 0"), "{e}");
    let csv = d.join("a.csv");
    std::fs::write(&csv, "1e300,0\n").unwrap();
    assert!(flowcert::theorems::assess::load_answers(&csv, 1, 2, "score_queries").is_err());
    // A large but finite answer yields finite metrics that pass the final guard.
    std::fs::write(&p, to_npy(rows, 2, &vec![1e90; 2 * rows])).unwrap();
    let a = flowcert::theorems::assess::load_answers(&p, rows, 2, "score_queries").unwrap();
    let res = assess_score(&q, &a).unwrap();
    assert!(check_finite(&res).is_ok() && res.sup_l2 > 1e89);
}

#[test]
fn cells_carry_their_key_and_checksum() {
    let d = dir("cells");
    let store = CellStore::open(&d).unwrap();
    let n8 = CellKey {
        name: "distill/m/uniform/N8/seed0/abc".into(),
        config: "grid=uniform|N=8|seed=0|...".into(),
    };
    let n1 = CellKey {
        name: "distill/m/uniform/N1/seed0/abc".into(),
        config: "grid=uniform|N=1|seed=0|...".into(),
    };
    store.put_cell(&n8, &vec![8.0, 8.0]).unwrap();
    store.put_cell(&n1, &vec![1.0]).unwrap();
    assert_eq!(store.get_cell::<Vec<f64>>(&n8), Some(vec![8.0, 8.0]));
    assert!(store.take_notes().is_empty());
    let file = |k: &CellKey| {
        std::fs::read_dir(store.cells_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(&k.name.replace('/', "_")))
            .unwrap()
    };
    // An N = 1 cell copied over the N = 8 cell is not used.
    std::fs::copy(file(&n1), file(&n8)).unwrap();
    assert_eq!(store.get_cell::<Vec<f64>>(&n8), None);
    let notes = store.take_notes();
    assert!(
        notes.len() == 1 && notes[0].contains("holds cell") && notes[0].contains("N1"),
        "{notes:?}"
    );
    // Edited numbers fail the checksum.
    let text = std::fs::read_to_string(file(&n1)).unwrap();
    std::fs::write(file(&n1), text.replacen("1.0", "0.5", 1)).unwrap();
    assert_eq!(store.get_cell::<Vec<f64>>(&n1), None);
    assert!(store.take_notes()[0].contains("checksum"));
    // The right key with another configuration, a bare old-style value, garbage.
    store.put_cell(&n1, &vec![1.0]).unwrap();
    let other = CellKey {
        config: "grid=uniform|N=1|seed=0|other".into(),
        ..n1.clone()
    };
    assert_eq!(store.get_cell::<Vec<f64>>(&other), None);
    std::fs::write(file(&n1), "[1.0]").unwrap();
    assert_eq!(store.get_cell::<Vec<f64>>(&n1), None);
    std::fs::write(file(&n1), "\u{0}\u{0}").unwrap();
    assert_eq!(store.get_cell::<Vec<f64>>(&n1), None);
    assert_eq!(store.take_notes().len(), 3);
    // Merging skips cells that are not what their file name says.
    let other_dir = dir("cells-other");
    let src = CellStore::open(&other_dir).unwrap();
    src.put_cell(&n8, &vec![8.0]).unwrap();
    src.put_cell(&n1, &vec![1.0]).unwrap();
    let f1 = std::fs::read_dir(src.cells_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("N1"))
        .unwrap();
    let f8 = std::fs::read_dir(src.cells_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("N8"))
        .unwrap();
    std::fs::copy(&f1, &f8).unwrap();
    let target = CellStore::open(&dir("cells-merged")).unwrap();
    assert_eq!(target.absorb(&other_dir).unwrap(), 1);
    assert!(target.take_notes()[0].contains("not merged"));
}

fn leftovers(d: &Path) -> Vec<String> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect()
}

#[cfg(unix)]
#[test]
fn atomic_writes_follow_no_symlink_and_leave_nothing_behind() {
    let d = dir("atomic");
    let victim = d.join("victim");
    std::fs::write(&victim, "secret").unwrap();
    // A symlink planted at the old predictable temporary names (`.NAME.tmpPID-N`).
    for n in 0..8 {
        let planted = d.join(format!(".out.csv.tmp{}-{n}", std::process::id()));
        std::os::unix::fs::symlink(&victim, planted).unwrap();
    }
    // A symlink at the target itself is replaced, not followed.
    let target = d.join("out.csv");
    std::os::unix::fs::symlink(&victim, &target).unwrap();
    write_atomic(&target, b"data").unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "data");
    assert!(
        !std::fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Only the planted links carry "tmp": the write left no file of its own.
    assert_eq!(leftovers(&d).len(), 8);
    // A failed rename (the target is a non-empty directory) leaves no temporary file.
    let clean = dir("atomic-fail");
    let blocked = clean.join("blocked");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    assert!(write_atomic(&blocked, b"x").is_err());
    assert!(leftovers(&clean).is_empty(), "{:?}", leftovers(&clean));
    // A directory that does not exist: an error, nothing created.
    assert!(write_atomic(&clean.join("no/such/dir/f"), b"x").is_err());
}

#[cfg(unix)]
#[test]
fn endless_and_oversized_files_are_refused_quickly() {
    let e = read_limited(Path::new("/dev/zero"), "points", 1 << 20).unwrap_err();
    assert!(e.to_string().contains("larger than 1048576 bytes"), "{e}");
    let e = flowcert::io::load_mixture("/dev/zero")
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than"), "{e}");
    let e = flowcert::io::load_points("/dev/zero", 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than"), "{e}");
    let e = flowcert::theorems::assess::load_answers(Path::new("/dev/zero"), 10, 2, "q")
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than"), "{e}");
    assert!(flowcert::io::load_mixture(std::env::temp_dir().to_str().unwrap()).is_err());
}

#[test]
fn sizes_and_estimates() {
    assert!(limits::product("rows", &[usize::MAX, 2], "fewer").is_err());
    assert!(limits::check_count("--n", usize::MAX, 1, limits::MAX_POINTS, "fewer").is_err());
    let e = Estimate::new("this sweep", 1e18, 1e3)
        .check("split it with --shard i/n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("this sweep") && e.contains("--shard") && e.contains("years"),
        "{e}"
    );
    let e = Estimate::new("this sweep", 1.0, 1e15)
        .check("fewer")
        .unwrap_err()
        .to_string();
    assert!(e.contains("GB of memory"), "{e}");
    assert!(Estimate::new("nan", f64::NAN, 0.0).check("").is_err());
}

#[test]
fn the_final_guard_names_the_quantity() {
    #[derive(serde::Serialize)]
    struct Row {
        t: f64,
        bound: f64,
        ratio: Option<f64>,
    }
    #[derive(serde::Serialize)]
    struct Report {
        rows: Vec<Row>,
        metrics: std::collections::BTreeMap<String, f64>,
    }
    let ok = Report {
        rows: vec![Row {
            t: 0.1,
            bound: 2.0,
            ratio: None,
        }],
        metrics: [("sup_l2".to_string(), 1.0)].into(),
    };
    assert!(check_finite(&ok).is_ok());
    let bad = Report {
        rows: vec![
            Row {
                t: 0.1,
                bound: 2.0,
                ratio: None,
            },
            Row {
                t: 1.0,
                bound: 3.0,
                ratio: Some(f64::NAN),
            },
        ],
        ..ok
    };
    let e = check_finite(&bad).unwrap_err();
    assert_eq!(e.path, "rows[1].ratio");
    let metrics = Report {
        rows: vec![],
        metrics: [("l2@t=0.5".to_string(), f64::INFINITY)].into(),
    };
    let e = check_finite(&metrics).unwrap_err();
    assert_eq!(e.path, "metrics.l2@t=0.5");
    assert!(e.to_string().contains("inf"), "{e}");
}

#[test]
fn duplicate_seeds_segments_and_grids_are_refused() {
    use flowcert::suite::{Plan, Scale};
    let p = Plan::at(Scale::Tiny).distill;
    for (setting, plan) in [
        ("--seeds", {
            let mut q = p.clone();
            q.seeds = vec![1, 1];
            q
        }),
        ("--segments", {
            let mut q = p.clone();
            q.segments = vec![2, 2];
            q
        }),
        ("--grids", {
            let mut q = p.clone();
            q.grids = vec![GridKind::Uniform, GridKind::Uniform];
            q
        }),
    ] {
        let e = plan.check().unwrap_err().to_string();
        assert!(e.starts_with(setting) && e.contains("twice"), "{e}");
    }
}
