//! A user-defined time grid checked against the composition bound
//! (theory/04-composition-and-grids.md): for students `Psi_i` with `sup |Psi_i - Phi_i| <=
//! eps_i`, the end-to-end error of `Psi_1 o ... o Psi_N` is at most
//! `sum_i eps_i exp(Lambda(t_{i-1}))`. Two kinds of students: flowcert's perturbed students
//! (a known sup error) and your own (any `FlowMap`), here the exact segment map shifted by
//! a fixed vector.
//!
//! ```sh
//! cargo run --release --example user_grid_composition
//! ```

use flowcert::grids::{GridError, Span};
use flowcert::prelude::*;
use flowcert::theorems::composition::{Probe, measure_composition, measure_perturbed};
use nalgebra::DVector;

/// Geometric steps: equal ratios `t_{i+1} / t_i`.
struct Geometric;

impl TimeGrid for Geometric {
    fn name(&self) -> String {
        "geometric".into()
    }
    fn grid(&self, _: &Mixture, s: &Span) -> Result<Vec<f64>, GridError> {
        let r = (s.t_max() / s.t_min()).ln() / s.segments() as f64;
        Ok((0..=s.segments())
            .map(|i| s.t_min() * (r * i as f64).exp())
            .collect())
    }
}

/// Your student of one segment: the exact map shifted by `shift` (sup error `|shift|`).
struct Shifted<'a> {
    exact: FlowSegment<'a>,
    shift: DVector<f64>,
}

impl FlowMap for Shifted<'_> {
    fn dim_in(&self) -> usize {
        self.exact.dim_in()
    }
    fn map_point(&self, x: &[f64]) -> Result<DVector<f64>, MapError> {
        Ok(self.exact.map_point(x)? + &self.shift)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two modes with a shared covariance: L(t) is a global bound (no ball to stay in).
    let mix = Builtin::TwoModeS03.mixture();
    let (t_min, t_max, n, eps) = (0.01, 3.0, 4, 1e-3);
    let flow = Teacher::PRECISE.flow(&mix);
    let eps_i = vec![eps; n];
    println!("grid        students   max error   bound      error/bound");
    for (name, times) in [
        ("geometric", Geometric.times(&mix, t_min, t_max, n)?),
        ("balanced", GridKind::Balanced.times(&mix, t_min, t_max, n)?),
    ] {
        let lambda = lambda_at(&mix, &times)?;
        let probe = Probe {
            points: 16,
            freq: 2.0,
            seed: 0,
        };
        let perturbed = measure_perturbed(&flow, &times, &lambda, &eps_i, None, probe)?;
        let students: Vec<Shifted> = (1..=n)
            .map(|i| Shifted {
                exact: flow.segment(times[i], times[i - 1]),
                shift: DVector::from_vec(vec![eps, 0.0]),
            })
            .collect();
        let starts = mix.sample(
            t_max,
            16,
            &mut flowcert::seed::rng(flowcert::seed::COMPOSITION, 1, &[]),
        );
        let yours = measure_composition(&flow, &times, &lambda, &students, &eps_i, None, &starts)?;
        for (who, r) in [("perturbed", &perturbed), ("yours", &yours)] {
            println!(
                "{name:<11} {who:<10} {:<11.3e} {:<10.3e} {:.3e}",
                r.max_error,
                r.bound,
                r.max_error / r.bound
            );
            if r.violations + r.premise_violations > 0 {
                return Err(format!("{name}/{who}: the composition bound failed").into());
            }
        }
    }
    Ok(())
}
