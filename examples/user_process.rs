//! A noising path of your own (theory/07-gaussian-paths.md): implement `GaussianPath`
//! (`alpha`, `sigma` and their derivatives at a time, the domain), wrap it in a validated
//! `Process`, put a mixture on it and run the checkers. Here the geometric
//! variance-exploding path of score SDEs, `alpha = 1`, `sigma_t = s_min (s_max/s_min)^t` on
//! `[0, 1]`: its L(t) bounds against the BFGS supremum of `||J||`, and the single-Gaussian
//! flow against its closed form.
//!
//! ```sh
//! cargo run --release --example user_process
//! ```

use flowcert::bounds::{Lipschitz, SearchConfig, empirical_sup};
use flowcert::dynamics::{ExactFlow, Method, SolverOptions};
use flowcert::model::process::{GaussianPath, PathCoeffs, Process, TimeDomain};
use flowcert::model::{MixtureSpec, builtin};

/// `sigma_t = s_min (s_max / s_min)^t`, `alpha = 1`.
#[derive(Debug)]
struct GeometricVe {
    s_min: f64,
    s_max: f64,
}

impl GaussianPath for GeometricVe {
    fn name(&self) -> &str {
        "geometric-ve"
    }

    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![("s_min", self.s_min), ("s_max", self.s_max)]
    }

    fn domain(&self) -> TimeDomain {
        TimeDomain {
            lo: 0.0,
            lo_open: false,
            hi: 1.0,
            hi_open: false,
        }
    }

    fn coeffs(&self, t: f64) -> PathCoeffs {
        let k = (self.s_max / self.s_min).ln();
        let sigma = self.s_min * (k * t).exp();
        // alpha, alpha', sigma, sigma': the rest (f, h = g^2/2, ...) follows.
        PathCoeffs::from_derivatives(t, 1.0, 0.0, sigma, k * sigma)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = Process::new(GeometricVe {
        s_min: 0.01,
        s_max: 50.0,
    })?;
    println!("path {} on {}", path.label(), path.domain());

    // The bounds of theory/07, Theorem 4, against the searched supremum.
    let mix = builtin::two_mode(0.1).with_process(path.clone());
    let lip = Lipschitz::auto(&mix);
    println!("     t        L(t)     sup||J||       mu(t)");
    for t in [0.05, 0.2, 0.4, 0.6, 0.8, 1.0] {
        let b = lip.at(t)?;
        let e = empirical_sup(&lip, t, &SearchConfig::quick())?;
        println!(
            "{t:6.2} {:11.4e} {:11.4e} {:11.4e}",
            b.bound, e.norm.value, b.one_sided
        );
        assert!(e.norm.value <= b.bound * (1.0 + 1e-9));
    }

    // One Gaussian N(0, s0^2 I): Phi_{1 -> 0}(x) = x sd(0)/sd(1), sd^2 = s0^2 + sigma^2.
    let s0 = 0.5;
    let one = MixtureSpec {
        weights: vec![1.0],
        means: vec![vec![0.0]],
        covariances: vec![vec![vec![s0 * s0]]],
    }
    .check()?
    .with_process(path.clone());
    let opts = SolverOptions {
        rtol: 1e-11,
        atol: 1e-11,
        method: Method::Dop853,
        ..SolverOptions::default()
    }
    .check()?;
    let y = ExactFlow::new(&one, opts).map(&[2.0], 1.0, 0.0)?.y[0];
    let sd = |t: f64| (s0 * s0 + path.coeffs(t).sigma2).sqrt();
    let want = 2.0 * sd(0.0) / sd(1.0);
    println!("single Gaussian: flow {y:.12}, closed form {want:.12}");
    assert!((y - want).abs() <= 1e-8 * want);
    Ok(())
}
