//! A user's score function assessed in process (theory/06-score-approximation.md and the
//! assess protocol of README.md): measure its `L^1` / `L^2(p_t)` errors against the exact
//! mixture score, then run the same query-based assessment as `flowcert queries` +
//! `flowcert assess score` without files, and compare it with a baseline.
//!
//! ```sh
//! cargo run --release --example user_score_assess
//! ```

use flowcert::grids::GridKind;
use flowcert::prelude::*;
use flowcert::theorems::assess::{Baseline, QueryConfig, QuerySet, assess_score, compare};
use flowcert::theorems::score_approx::measure_errors;
use nalgebra::{DMatrix, DVector};

/// Your score model: one Gaussian with the mixture's mean and covariance (moment matching),
/// diffused by the OU process. Exact at large t, wrong between the modes at small t.
struct MomentMatched {
    mean: DVector<f64>,
    cov: DMatrix<f64>,
}

impl MomentMatched {
    fn new(mix: &Mixture) -> Self {
        let d = mix.dim();
        let mut mean = DVector::zeros(d);
        for c in mix.components() {
            mean += &c.mean * c.weight;
        }
        let mut cov = DMatrix::zeros(d, d);
        for c in mix.components() {
            let dm = &c.mean - &mean;
            cov += (&c.cov + &dm * dm.transpose()) * c.weight;
        }
        MomentMatched { mean, cov }
    }
}

impl ScoreField for MomentMatched {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn score_into(&self, x: &[f64], t: f64, out: &mut [f64]) {
        // p_t = N(alpha m, alpha^2 C + sigma^2 I); score = -S^{-1} (x - alpha m).
        let co = OuCoeffs::at(t);
        let d = self.dim();
        let s = &self.cov * co.alpha2 + DMatrix::identity(d, d) * co.sigma2;
        let r = DVector::from_column_slice(x) - &self.mean * co.alpha;
        match s.cholesky() {
            Some(ch) => out.copy_from_slice(ch.solve(&(-r)).as_slice()),
            None => out.fill(f64::NAN),
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mix = Builtin::TwoModeS03.mixture();
    let model = MomentMatched::new(&mix);
    let times = [0.01, 0.1, 0.5, 1.0, 2.0];

    // 1. Direct: fresh samples of p_t, the estimate and its 95% interval.
    println!("t        L1 error   L2 error   95% CI of L2");
    // Rows come by time, then p = 1, 2.
    for pair in measure_errors(&model, &mix, &times, 2000, 0, None)?.chunks(2) {
        let (l1, l2) = (&pair[0], &pair[1]);
        println!(
            "{:<8} {:<10.3e} {:<10.3e} [{:.3e}, {:.3e}]",
            l2.t, l1.lp_error, l2.lp_error, l2.ci_low, l2.ci_high
        );
    }

    // 2. The query protocol in process: what `flowcert queries` writes and `flowcert assess
    //    score` reads, with the answers computed here instead of by an outside program.
    let cfg = QueryConfig {
        times: times.to_vec(),
        samples: 500,
        seed: 0,
        grid: GridKind::Balanced,
        segments: 4,
        t_min: 0.01,
        t_max: 2.0,
    }
    .check()?;
    let set = QuerySet::generate(&mix, &cfg)?;
    let d = mix.dim();
    let mut answers = DMatrix::zeros(d, set.score.ncols());
    for (j, row) in set.score.column_iter().enumerate() {
        // A score query is (t, x_0 .. x_{d-1}).
        let (t, x): (f64, Vec<f64>) = (row[0], row.iter().skip(1).copied().collect());
        let mut s = vec![0.0; d];
        model.score_into(&x, t, &mut s);
        answers.set_column(j, &DVector::from_vec(s));
    }
    let assessment = assess_score(&set, &answers)?;
    println!("sup_t L2 over the queries: {:.3e}", assessment.sup_l2);

    // 3. A regression check: against a baseline 10% better than this run, every metric
    //    that is not zero regresses (exit status 1 in `flowcert assess`).
    let better = Baseline {
        kind: assessment.kind.clone(),
        queries: assessment.queries.clone(),
        metrics: assessment
            .metrics
            .iter()
            .map(|(k, v)| (k.clone(), v * 0.9))
            .collect(),
    };
    let c = compare(
        "score",
        &assessment.queries,
        &assessment.metrics,
        &better,
        0.05,
    )?;
    println!(
        "against a baseline 10% better (tolerance 5%): {} of {} metrics regress",
        c.regressions,
        c.changes.len()
    );
    if c.regressions == 0 {
        return Err("the comparison should flag the worse model".into());
    }
    Ok(())
}
