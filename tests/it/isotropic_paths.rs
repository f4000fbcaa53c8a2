//! The isotropic shared-covariance closed form on every path (theory/07-gaussian-paths.md,
//! "The isotropic closed form on a path"): for `Sigma_k = sigma0^2 I` and mean diameter `D`,
//! with `r = sigma/alpha` and `s = alpha^2 sigma0^2 + sigma^2`,
//!
//! ```text
//! int mu dt = [ -D^2 / (8 (sigma0^2 + r^2)) - (1/2) ln s ]   on every affine path,
//! ```
//!
//! checked against the quadrature of the general one-sided bound (`integrate_bound`,
//! unfloored) on the interval matched to OU's `[1e-3, 3]` and on a sub-interval. The
//! right-hand side is computed here from `alpha^2`, `sigma^2` only.

use flowcert::bounds::{Bound, Lipschitz, lambda::integrate_bound};
use flowcert::model::builtin::two_mode;
use flowcert::model::process::{PROCESS_NAMES, ProcessSpec};
use flowcert::suite::on_path::matched;

#[test]
fn one_sided_integral_has_the_closed_form_on_every_path() {
    for name in PROCESS_NAMES {
        let p = ProcessSpec::named(name).check().unwrap();
        for sigma0 in [0.1, 0.3] {
            let mix = two_mode(sigma0).with_process(p.clone());
            let (s0, d) = (sigma0 * sigma0, 3.0);
            let prim = |t: f64| {
                let c = p.coeffs(t);
                let r2 = c.sigma2 / c.alpha2;
                -d * d / (8.0 * (s0 + r2)) - 0.5 * (c.alpha2 * s0 + c.sigma2).ln()
            };
            let lip = Lipschitz::auto(&mix);
            for (lo, hi) in [(1e-3, 3.0), (0.1, 1.0)] {
                let (a, b) = (
                    matched(&p, "lo", lo).unwrap(),
                    matched(&p, "hi", hi).unwrap(),
                );
                let q = integrate_bound(&lip, Bound::OneSided, a, b).unwrap().value;
                let exact = prim(b) - prim(a);
                assert!(
                    (q - exact).abs() <= 1e-8 * exact.abs().max(1.0),
                    "{name} sigma0 {sigma0} [{a}, {b}]: quadrature {q} vs closed form {exact}"
                );
            }
        }
    }
}
