//! The oracle and fitted grids (theory/04-composition-and-grids.md, "Oracle and fitted
//! grids"): the DP against brute force (and the kept mutation, a greedy optimiser, caught),
//! the oracle's estimate below every candidate grid's on the same candidate set, the
//! determinism of the selection, the fitted law's recovery of a synthetic exponent, and
//! the pinned tiny and quick sections (and the section's measured cost, behind `#[ignore]`).

use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common;
use flowcert::experiments::segments::SeedWork;
use flowcert::experiments::sweep::Silent;
use flowcert::experiments::{CellStore, oracle};
use flowcert::grids::fitted::{Covariates, PilotPoint, fit, fit_all};
use flowcert::grids::oracle::{CostTable, Mutation, best_path, best_path_mutated};
use flowcert::suite::{Plan, Scale};

/// Every increasing path from 0 to m - 1 with `n` edges, by enumeration of subsets.
fn brute_force(c: &CostTable, n: usize) -> Option<f64> {
    let m = c.len();
    let inner: Vec<usize> = (1..m - 1).collect();
    let mut best: Option<f64> = None;
    for mask in 0u32..(1 << inner.len()) {
        if mask.count_ones() as usize != n - 1 {
            continue;
        }
        let mut path = vec![0];
        path.extend(
            inner
                .iter()
                .enumerate()
                .filter(|(b, _)| mask >> b & 1 == 1)
                .map(|(_, &i)| i),
        );
        path.push(m - 1);
        let cost = c.path_cost(&path);
        if cost.is_finite() && best.is_none_or(|b| cost < b) {
            best = Some(cost);
        }
    }
    best
}

/// A random cost table over `m` candidates: edges within `span` always, longer ones with
/// probability one half, costs log-uniform over three decades.
fn random_table(m: usize, span: usize, rng: &mut ChaCha8Rng) -> CostTable {
    let mut c = CostTable::new(m);
    for j in 0..m {
        for k in (j + 1)..m {
            if k - j <= span || rng.random::<f64>() < 0.5 {
                c.set(j, k, 10f64.powf(3.0 * rng.random::<f64>() - 3.0));
            }
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The DP's optimum equals the brute-force optimum, and its path attains it.
    #[test]
    fn dp_matches_brute_force(seed in any::<u64>(), m in 2usize..=9, n in 1usize..=5, span in 1usize..=3) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = random_table(m, span, &mut rng);
        let brute = if n < m { brute_force(&c, n) } else { None };
        match (best_path(&c, n), brute) {
            (Ok((path, cost)), Some(b)) => {
                prop_assert_eq!(path.len(), n + 1);
                prop_assert_eq!(c.path_cost(&path), cost);
                prop_assert!((cost - b).abs() <= 1e-12 * b, "dp {} brute {}", cost, b);
            }
            (Err(_), None) => {}
            (dp, brute) => prop_assert!(false, "dp {:?} but brute force {:?}", dp, brute),
        }
    }
}

/// The kept mutation (a greedy optimiser) is caught by the brute-force comparison: on
/// random tables it is suboptimal somewhere, while the DP never is.
#[test]
fn greedy_mutation_is_caught() {
    let mut caught = 0;
    for seed in 0..200 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = random_table(8, 2, &mut rng);
        let Some(b) = brute_force(&c, 3) else {
            continue;
        };
        let (_, dp) = best_path(&c, 3).unwrap();
        assert!((dp - b).abs() <= 1e-12 * b);
        if let Ok((_, g)) = best_path_mutated(&c, 3, Some(Mutation::Greedy))
            && g > b * (1.0 + 1e-9)
        {
            caught += 1;
        }
    }
    assert!(
        caught > 20,
        "greedy was suboptimal on only {caught} of 200 tables"
    );
}

fn tiny_selection(seed: u64) -> oracle::Selection {
    let plan = Plan::at(Scale::Tiny);
    let mix = plan.oracle.mixtures[0].mixture();
    let d = &plan.distill;
    let budget = d.budget.check().unwrap();
    let work = SeedWork::new(
        d.teacher.flow(&mix),
        seed,
        budget,
        d.eval_samples,
        (d.t_min, d.t_max),
    );
    oracle::select(&mix, &[work], (d.t_min, d.t_max), &plan.oracle.config).unwrap()
}

/// On trained candidate students (tiny budget): the oracle's estimate is at most that of
/// every grid whose segments are candidates (the peers; the fitted grid when representable)
/// and of every path through the candidate segments; the selection is deterministic.
#[test]
fn oracle_estimate_is_least_and_deterministic() {
    let s = tiny_selection(1000);
    let m = s.candidates.len();
    let mut costs = CostTable::new(m);
    let idx = |t: f64| s.candidates.iter().position(|&c| c == t).unwrap();
    for e in &s.segments {
        costs.set(idx(e.to), idx(e.from), e.pushed);
    }
    for o in s.grids.iter().filter(|g| g.grid == "oracle") {
        let est = o.estimate.unwrap();
        let mut compared = 0;
        for g in s.grids.iter().filter(|g| g.segments == o.segments) {
            if let Some(e) = g.estimate {
                assert!(est <= e, "oracle {est} above {} {e}", g.grid);
                compared += 1;
            }
        }
        assert!(compared >= 3, "oracle compared with {compared} grids");
        assert_eq!(brute_force(&costs, o.segments), Some(est));
    }
    assert_eq!(s, tiny_selection(1000));
    assert_ne!(s.segments, tiny_selection(1001).segments);
}

/// The law's fit recovers a synthetic exponent through multiplicative noise, with one
/// covariate and with both; fit_all prefers the covariate the data follow.
#[test]
fn fitted_law_recovers_synthetic_exponent() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let pts: Vec<PilotPoint> = (0..40)
        .map(|_| {
            let d_lambda = 10f64.powf(3.0 * rng.random::<f64>() - 1.0);
            let d_logsnr = 10f64.powf(2.0 * rng.random::<f64>() - 1.0);
            let noise = (0.1 * (rng.random::<f64>() - 0.5)).exp();
            PilotPoint {
                d_lambda,
                d_logsnr,
                eps: 0.02 * d_lambda.powf(0.7) * noise,
            }
        })
        .collect();
    let one = fit(&pts, Covariates::Lambda).unwrap();
    assert!((one.b_lambda - 0.7).abs() < 0.02, "b = {}", one.b_lambda);
    assert!(one.r2 > 0.99);
    let both = fit(&pts, Covariates::Both).unwrap();
    assert!((both.b_lambda - 0.7).abs() < 0.02 && both.b_logsnr.abs() < 0.03);
    let snr = fit(&pts, Covariates::LogSnr).unwrap();
    assert!(snr.r2 < 0.5, "log-SNR alone explains R^2 = {}", snr.r2);
    let (fits, used) = fit_all(&pts).unwrap();
    assert_ne!(fits[used].covariates, Covariates::LogSnr);
    // Too few points: a clear error, not a fit.
    assert!(
        fit(&pts[..2], Covariates::Lambda)
            .unwrap_err()
            .to_string()
            .contains("pilot")
    );
}

/// Pinned: the tiny section's tables (3 significant digits). Deterministic from its seeds;
/// a change here means the selection or the experiment changed: explain it in the commit.
#[test]
fn tiny_oracle_section() {
    let (text, violations) = section_tables(Scale::Tiny, "snap", false);
    assert_eq!(violations, 0);
    common::pinned(|| {
        insta::assert_snapshot!("oracle_tiny", text);
    });
}

/// Pinned: the quick section's tables (3 significant digits), the `reproduce --quick`
/// stage `oracle` (two-mode s0.1 and s0.3, N = 2 and 4, peers included). Deterministic
/// from its seeds; a change means the selection, the students or the evaluation changed:
/// explain it in the commit. Cost: about 25 CPU-s in the debug test profile (its 60 peer
/// cells included; inside `reproduce` they are the main sweep's).
#[test]
fn quick_oracle_section() {
    let (text, violations) = section_tables(Scale::Quick, "quick", false);
    assert_eq!(violations, 0);
    common::pinned(|| {
        insta::assert_snapshot!("oracle_quick", text);
    });
}

/// The section at `scale` on a fresh store: its three tables (3 digits) and violations.
/// With `laps`, the peer cells are computed first (as the main sweep does inside
/// `reproduce`), and the CPU and wall seconds of the peers and of each mixture's selection
/// and retraining are printed.
fn section_tables(scale: Scale, tag: &str, laps: bool) -> (String, usize) {
    let mut plan = Plan::at(scale);
    let dir = std::env::temp_dir().join(format!("flowcert-oracle-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = CellStore::open(&dir).unwrap();
    if laps {
        // Optional: only some mixtures; the distillation cells of an earlier run's store
        // (copied, never written to) so the peer cells are not recomputed.
        if let Ok(names) = std::env::var("FLOWCERT_ORACLE_MIXTURES") {
            let keep: Vec<&str> = names.split(',').collect();
            plan.oracle.mixtures.retain(|b| keep.contains(&b.name()));
        }
        if let Ok(cells) = std::env::var("FLOWCERT_ORACLE_CELLS") {
            let mut copied = 0;
            for f in std::fs::read_dir(&cells).unwrap() {
                let f = f.unwrap();
                if f.file_name().to_string_lossy().starts_with("distill") {
                    std::fs::copy(f.path(), dir.join("cells").join(f.file_name())).unwrap();
                    copied += 1;
                }
            }
            println!("copied {copied} distillation cells from {cells}");
        }
    }
    let lap = Laps::new(&plan);
    if laps {
        let o = &plan.oracle;
        flowcert::experiments::distill::DistillPlan {
            mixtures: o
                .mixtures
                .iter()
                .map(|b| (b.name().to_string(), b.mixture()))
                .collect(),
            grids: o.config.peers.clone(),
            segments: o.config.segments.clone(),
            ..o.distill.clone()
        }
        .check()
        .unwrap()
        .sweep(&store, flowcert::experiments::Shard::ALL, &Silent)
        .unwrap();
        lap.lap("peer cells (the main sweep's inside reproduce)");
    }
    let progress: &dyn flowcert::experiments::sweep::Progress = if laps { &lap } else { &Silent };
    let (s, violations) = flowcert::suite::oracle::section(&plan.oracle, &store, progress).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    if laps {
        lap.total();
    }
    use flowcert::suite::oracle::{fits_table, gaps_table, grids_table};
    let text = format!(
        "{}\n{}\n{}",
        gaps_table(&s, 3).to_markdown(),
        fits_table(&s, 3).to_markdown(),
        grids_table(&s, 3).to_markdown()
    );
    (text, violations)
}

/// The process's CPU seconds (user + system, every thread): the library's reading of
/// `/proc/self/stat` (run.json records the same per section).
fn cpu_seconds() -> f64 {
    flowcert::suite::record::process_cpu_seconds()
        .expect("CPU seconds need Linux's /proc/self/stat")
}

/// Prints CPU and wall seconds per lap: a progress sink ticking once per mixture.
struct Laps {
    names: Vec<String>,
    state: std::sync::Mutex<(usize, f64, std::time::Instant)>,
    start: (f64, std::time::Instant),
}

impl Laps {
    fn new(plan: &Plan) -> Laps {
        let now = (cpu_seconds(), std::time::Instant::now());
        Laps {
            names: plan
                .oracle
                .mixtures
                .iter()
                .map(|b| b.name().to_string())
                .collect(),
            state: std::sync::Mutex::new((0, now.0, now.1)),
            start: now,
        }
    }
    fn lap(&self, what: &str) {
        let mut st = self.state.lock().unwrap();
        let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
        println!(
            "{what}: {:.1} CPU-s, {:.1} s wall",
            cpu - st.1,
            (wall - st.2).as_secs_f64()
        );
        st.1 = cpu;
        st.2 = wall;
    }
    fn total(&self) {
        println!(
            "total: {:.1} CPU-s, {:.1} s wall",
            cpu_seconds() - self.start.0,
            self.start.1.elapsed().as_secs_f64()
        );
    }
}

impl flowcert::experiments::sweep::Progress for Laps {
    fn stage(&self, _: &str, _: u64) {}
    fn tick(&self) {
        let i = self.state.lock().unwrap().0;
        self.lap(&format!("oracle stage, {}", self.names[i]));
        self.state.lock().unwrap().0 += 1;
    }
    fn finish(&self) {}
}

/// The section alone at a scale, for its cost and its tables: the peer cells first (timed
/// apart: inside `reproduce` they are the main sweep's), then each mixture's selection and
/// retraining, CPU and wall seconds per lap. `FLOWCERT_ORACLE_SCALE=full nice -n 10 cargo
/// test --release --test it oracle::section_cost -- --ignored --nocapture` (theory/04,
/// "Oracle and fitted grids"); `FLOWCERT_ORACLE_MIXTURES=ring8,aniso8` runs some mixtures
/// only, `FLOWCERT_ORACLE_CELLS=RUN/cells` starts from a copy of a full run's distillation
/// cells (the peers then cost nothing, as inside `reproduce`).
#[test]
#[ignore]
fn section_cost() {
    let scale: Scale = std::env::var("FLOWCERT_ORACLE_SCALE")
        .unwrap_or_else(|_| "quick".into())
        .parse()
        .unwrap();
    let (text, violations) = section_tables(scale, "cost", true);
    println!("{scale}: {violations} violations\n{text}");
}

/// `grid --kind fitted`: seeded and deterministic (the same times twice, other times at
/// another seed), N + 1 increasing times with the pinned ends, the law in the JSON; bad
/// kinds and too many segments get exit status 2 with the fix.
#[test]
fn cli_grid_fitted() {
    use crate::common::cli::{assert_bad, run_json};
    let base = |segments: &'static str, kind: &'static str| {
        let mut v = vec![
            "grid",
            "--mixture",
            "builtin:two-mode-s0.3",
            "--segments",
            segments,
        ];
        v.extend(["--kind", kind, "--t-min", "0.001", "--t-max", "3"]);
        v
    };
    let args = |seed: &'static str| {
        let mut v = base("3", "fitted");
        v.extend(["--seed", seed, "--json"]);
        v
    };
    let a = run_json(&args("0"));
    let times: Vec<f64> = serde_json::from_value(a["times"].clone()).unwrap();
    assert_eq!(times.len(), 4);
    assert_eq!((times[0], times[3]), (0.001, 3.0));
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    assert!(a["law"]["fits"].as_array().unwrap().len() == 3);
    assert_eq!(a, run_json(&args("0")));
    assert_ne!(a["law"], run_json(&args("1"))["law"]);
    assert_bad(&base("3", "fited"), &["--kind", "fitted"]);
    assert_bad(&base("60", "fitted"), &["--segments", "at most 47"]);
}
