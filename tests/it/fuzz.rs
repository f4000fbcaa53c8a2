//! Property-based fuzzing of every input parser and the library entry points behind the
//! commands: valid mixture files, points files (JSON and delimited), `.npy` files, query
//! manifests, cell files and baselines are mutated (bytes flipped, ranges cut or
//! repeated, tokens such as `NaN`, `1e308`, `-1`, `[]` or a byte-order mark spliced in,
//! numbers replaced by extreme ones) and fed to the parsers; whatever parses is driven
//! through the model, the grids, the bounds, the flow and the assessments. Every case must
//! end in a valid result or an error with a message: never a panic (caught with
//! `catch_unwind`), never a non-finite number in a result that passed the final guard.
//!
//! `cargo test` runs `FUZZ_DEFAULT` cases per target (seconds); set
//! `FLOWCERT_FUZZ_CASES=N` for N per target, e.g.
//! `FLOWCERT_FUZZ_CASES=2000 cargo test --release --test it fuzz::` (README.md records a
//! run of more than 10,000 inputs).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use flowcert::bounds::{Lipschitz, SearchConfig};
use flowcert::dynamics::{Teacher, flow_point};
use flowcert::experiments::{CellKey, CellStore};
use flowcert::grids::{GridKind, lambda_at};
use flowcert::io::{check_finite, parse_points};
use flowcert::model::{Marginal, MixtureSpec, builtin};
use flowcert::theorems::assess::baseline::load_baseline;
use flowcert::theorems::assess::npy::{from_npy, to_npy};
use flowcert::theorems::assess::{QueryConfig, QuerySet, assess_flowmap, assess_score, compare};
use nalgebra::DMatrix;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per target under plain `cargo test`.
const FUZZ_DEFAULT: u32 = 48;

fn cases() -> u32 {
    std::env::var("FLOWCERT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FUZZ_DEFAULT)
}

/// Inputs driven, over all targets (reported by the longer run).
static DRIVEN: AtomicUsize = AtomicUsize::new(0);

/// Tokens spliced into documents: what a careless editor or a hostile one writes.
const TOKENS: &[&str] = &[
    "NaN",
    "-Infinity",
    "Infinity",
    "1e308",
    "-1e308",
    "1e300",
    "1e-320",
    "1e17",
    "-1",
    "0",
    "-0",
    "2",
    "18446744073709551616",
    "4294967296",
    "[]",
    "{}",
    "[[",
    "]]",
    "null",
    "true",
    "\"\"",
    ",",
    ";",
    "\t",
    " ",
    "\n",
    "\u{feff}",
    "\"x\"",
    "0.2x",
    "1,2",
    "[1e300, 0]",
    "[[0, 0], [0, 0]]",
    ":",
    "\"times\": []",
];

/// One mutation of a document.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite the byte at a position.
    Byte(usize, u8),
    /// Delete a range.
    Cut(usize, usize),
    /// Repeat a range.
    Repeat(usize, usize),
    /// Insert a token at a position.
    Insert(usize, usize),
    /// Replace the k-th number with a token.
    Number(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
        (any::<usize>(), 1usize..16).prop_map(|(p, n)| Mutation::Cut(p, n)),
        (any::<usize>(), 1usize..32).prop_map(|(p, n)| Mutation::Repeat(p, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(k, t)| Mutation::Number(k, t)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(k, t)| Mutation::Number(k, t)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 0..4)
}

/// Apply mutations to bytes.
fn mutate(seed: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in ms {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
        match *m {
            Mutation::Byte(p, v) if !b.is_empty() => {
                let i = p % b.len();
                b[i] = v;
            }
            Mutation::Byte(..) => {}
            Mutation::Cut(p, n) => {
                let i = at(p, b.len());
                let j = (i + n).min(b.len());
                b.drain(i..j);
            }
            Mutation::Repeat(p, n) => {
                let i = at(p, b.len());
                let j = (i + n).min(b.len());
                let piece = b[i..j].to_vec();
                b.splice(j..j, piece);
            }
            Mutation::Insert(p, t) => {
                let i = at(p, b.len());
                b.splice(i..i, TOKENS[t].bytes());
            }
            Mutation::Number(k, t) => {
                // The k-th maximal run of number characters (mod the count).
                let runs: Vec<(usize, usize)> = {
                    let mut out = Vec::new();
                    let mut i = 0;
                    while i < b.len() {
                        if b[i].is_ascii_digit() {
                            let s = i;
                            while i < b.len() && (b[i].is_ascii_digit() || b"+-.eE".contains(&b[i]))
                            {
                                i += 1;
                            }
                            out.push((s, i));
                        } else {
                            i += 1;
                        }
                    }
                    out
                };
                if !runs.is_empty() {
                    let (s, e) = runs[k % runs.len()];
                    b.splice(s..e, TOKENS[t].bytes());
                }
            }
        }
    }
    b
}

/// Run `f` on one input: a panic fails the property with the input shown.
fn no_panic(what: &str, input: &[u8], f: impl FnOnce()) -> Result<(), TestCaseError> {
    DRIVEN.fetch_add(1, Ordering::Relaxed);
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!(
            "{what} panicked ({msg}) on input {:?}",
            String::from_utf8_lossy(input)
        ))
    })
}

/// An error must say something.
fn said<E: std::fmt::Display>(e: E) {
    assert!(
        !e.to_string().trim().is_empty(),
        "an error without a message"
    );
}

fn run<S: Strategy>(name: &str, strategy: S, f: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let t = std::time::Instant::now();
    runner
        .run(&strategy, f)
        .unwrap_or_else(|e| panic!("fuzz target {name}: {e}"));
    if std::env::var("FLOWCERT_FUZZ_CASES").is_ok() {
        eprintln!(
            "fuzz {name}: {} cases in {:.1} s ({} inputs driven so far, 0 panics)",
            cases(),
            t.elapsed().as_secs_f64(),
            DRIVEN.load(Ordering::Relaxed)
        );
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowcert-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const MIXTURE: &str = r#"{"weights": [0.3, 0.7],
 "means": [[-1.5, 0.5], [1.5, 0.0]],
 "covariances": [[[0.04, 0.01], [0.01, 0.09]], [[0.01, 0.0], [0.0, 0.01]]]}"#;

/// Drive a mixture that parsed and validated through the cheap entry points of the
/// commands (eval, grid, lambda, Lipschitz bounds, one flow); results must be finite
/// wherever they are returned as results.
fn drive_mixture(mix: &flowcert::model::Mixture) {
    if mix.dim() > 4 || mix.n_components() > 4 {
        return;
    }
    let d = mix.dim();
    let x = vec![0.25; d];
    if let Ok(mut p) = Marginal::new(mix, 0.3) {
        let e = p.eval(&x);
        assert!(e.logp.is_finite() && e.score.iter().all(|v| v.is_finite()));
    }
    for kind in [GridKind::Uniform, GridKind::Balanced, GridKind::LogSnr] {
        match kind.times(mix, 0.05, 1.0, 3) {
            Ok(ts) => {
                assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
                if let Ok(l) = lambda_at(mix, &ts) {
                    assert!(l.iter().all(|v| v.is_finite()));
                }
            }
            Err(e) => said(e),
        }
    }
    let lip = Lipschitz::auto(mix);
    match lip.at(0.2) {
        Ok(b) => assert!(!b.bound.is_nan()),
        Err(e) => said(e),
    }
    let cfg = SearchConfig {
        samples: 8,
        segment_points: 3,
        ladder: 2,
        starts: 1,
        ascent_evals: 4,
        seed: 0,
    };
    match flowcert::theorems::lipschitz::compare_bounds(mix, &[0.2], &cfg) {
        Ok(r) => {
            let _ = check_finite(&r);
        }
        Err(e) => said(e),
    }
    let flow = Teacher::EXPERIMENT;
    if let Ok(mut field) = Marginal::new(mix, 1.0) {
        match flow_point(&mut field, &x, 1.0, 0.05, true, flow.options()) {
            Ok(p) => assert!(p.y.iter().all(|v| v.is_finite())),
            Err(e) => said(e),
        }
    }
}

#[test]
fn fuzz_mixture_files() {
    run("mixture", mutations(), |ms| {
        let bytes = mutate(MIXTURE.as_bytes(), &ms);
        no_panic("mixture", &bytes, || {
            let text = String::from_utf8_lossy(&bytes);
            match MixtureSpec::from_json(&text).and_then(|s| s.check()) {
                Ok(mix) => drive_mixture(&mix),
                Err(e) => said(e),
            }
        })
    });
}

#[test]
fn fuzz_points_files() {
    let json = "[[0.1, 0.2], [1.0, -0.5], [3e2, 4e-3]]";
    let csv = "x0,x1\n0.1,0.2\n1.0,-0.5\n300,0.004\n";
    let mix = builtin::two_mode(0.1);
    run("points", (mutations(), any::<bool>()), |(ms, as_csv)| {
        let seed = if as_csv { csv } else { json };
        let bytes = mutate(seed.as_bytes(), &ms);
        no_panic("points", &bytes, || {
            let text = String::from_utf8_lossy(&bytes);
            match parse_points(&text, 2, "fuzz") {
                Ok(p) => {
                    assert_eq!(p.nrows(), 2);
                    assert!(p.iter().all(|v| v.is_finite() && v.abs() <= 1e8));
                    let mut m = Marginal::new(&mix, 0.5).unwrap();
                    for x in p.as_slice().chunks(2) {
                        let e = m.eval(x);
                        assert!(e.logp.is_finite(), "{x:?}");
                    }
                }
                Err(e) => said(e),
            }
        })
    });
}

#[test]
fn fuzz_npy_files() {
    let honest = to_npy(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let fortran = {
        let h = "{'descr': '>f4', 'fortran_order': True, 'shape': (3, 2), }";
        let mut h = h.to_string();
        h.push_str(&" ".repeat((64 - (10 + h.len() + 1) % 64) % 64));
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        for v in [1.0f32, 3.0, 5.0, 2.0, 4.0, 6.0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b
    };
    run("npy", (mutations(), any::<bool>()), |(ms, f)| {
        let bytes = mutate(if f { &fortran } else { &honest }, &ms);
        no_panic("npy", &bytes, || match from_npy(&bytes) {
            Ok(a) => {
                let n: usize = a.shape.iter().product();
                assert_eq!(a.data.len(), n);
            }
            Err(e) => said(e),
        })
    });
}

/// A written query set to mutate (small: 2 times, 2 segments, 4 points each).
fn query_dir() -> (PathBuf, String) {
    let mix = builtin::two_mode(0.3);
    let cfg = QueryConfig {
        times: vec![0.05, 0.5],
        samples: 4,
        seed: 1,
        grid: GridKind::Uniform,
        segments: 2,
        t_min: 0.05,
        t_max: 1.0,
    }
    .check()
    .unwrap();
    let q = QuerySet::generate(&mix, &cfg).unwrap();
    let d = tmp("queries-seed");
    q.write(&d).unwrap();
    let manifest = std::fs::read_to_string(d.join("queries.json")).unwrap();
    (d, manifest)
}

#[test]
fn fuzz_query_manifests() {
    let (seed_dir, manifest) = query_dir();
    let work = tmp("queries-work");
    for f in std::fs::read_dir(&seed_dir).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), work.join(f.file_name())).unwrap();
    }
    run(
        "queries",
        (mutations(), any::<bool>()),
        |(ms, refingerprint)| {
            let mut bytes = mutate(manifest.as_bytes(), &ms);
            // Half the time, a consistent edit: the fingerprint recomputed, so validation
            // (not the fingerprint) must catch what is wrong.
            if refingerprint
                && let Ok(mut m) =
                    serde_json::from_slice::<flowcert::theorems::assess::QueryManifest>(&bytes)
            {
                m.manifest_fingerprint = m.fingerprint();
                bytes = serde_json::to_vec(&m).unwrap();
            }
            std::fs::write(work.join("queries.json"), &bytes).unwrap();
            no_panic("queries", &bytes, || match QuerySet::load(&work) {
                Ok(q) => {
                    let d = q.mixture.dim();
                    let zeros = DMatrix::zeros(d, q.score.ncols());
                    match assess_score(&q, &zeros) {
                        Ok(a) => {
                            assert!(!a.rows.is_empty());
                            let _ = check_finite(&a);
                        }
                        Err(e) => said(e),
                    }
                    let z = DMatrix::zeros(d, q.flowmap.ncols());
                    match assess_flowmap(&q, &z, None) {
                        Ok(a) => assert!(!a.segments.is_empty()),
                        Err(e) => said(e),
                    }
                }
                Err(e) => said(e),
            })
        },
    );
}

#[test]
fn fuzz_cell_files_and_baselines() {
    let d = tmp("cells");
    let store = CellStore::open(&d).unwrap();
    let key = CellKey {
        name: "distill/m/uniform/N2/seed0/h".into(),
        config: "grid=uniform|N=2|seed=0|cfg".into(),
    };
    store.put_cell(&key, &vec![0.5f64, 0.25]).unwrap();
    let file = std::fs::read_dir(store.cells_dir())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let cell = std::fs::read(&file).unwrap();
    let baseline =
        br#"{"kind": "score", "queries": {"mixture_hash": "h", "seed": 0, "fingerprint": "f"},
 "metrics": {"sup_l2": 0.5, "l2@t=0.1": 0.25}}"#;
    let base_path = d.join("baseline.json");
    run("cells", (mutations(), any::<bool>()), |(ms, cell_case)| {
        let bytes = mutate(if cell_case { &cell } else { &baseline[..] }, &ms);
        no_panic("cells/baseline", &bytes, || {
            if cell_case {
                std::fs::write(&file, &bytes).unwrap();
                if let Some(v) = store.get_cell::<Vec<f64>>(&key) {
                    // Only the untouched contents (or an edit that keeps them) verify.
                    assert_eq!(v, vec![0.5, 0.25]);
                }
                let _ = store.take_notes();
            } else {
                std::fs::write(&base_path, &bytes).unwrap();
                match load_baseline(&base_path) {
                    Ok(b) => {
                        let id = b.queries.clone();
                        let now = b.metrics.clone();
                        match compare(&b.kind, &id, &now, &b, 0.1) {
                            Ok(c) => assert_eq!(c.regressions, 0),
                            Err(e) => said(e),
                        }
                    }
                    Err(e) => said(e),
                }
            }
        })
    });
}
