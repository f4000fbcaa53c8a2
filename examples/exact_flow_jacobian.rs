//! The exact flow map of a mixture's probability-flow ODE and its Jacobian from the
//! variational equation, checked against central finite differences of the map itself
//! (theory/01-model.md, "Flow maps").
//!
//! ```sh
//! cargo run --release --example exact_flow_jacobian
//! ```

use flowcert::prelude::*;
use flowcert::tolerance::{FINITE_DIFF_ABS, FINITE_DIFF_REL, FINITE_DIFF_STEP};
use nalgebra::DMatrix;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Three modes in R^3 with heterogeneous covariances; flow from t = 1 down to t = 0.05.
    let mix = Builtin::Hetero3.mixture();
    let (from, to) = (1.0, 0.05);
    // A tight teacher: the finite differences divide its error by the step.
    let teacher = Teacher::new(Method::Dop853, 1e-12, 1e-12)?;
    let phi = teacher.flow(&mix).segment(from, to);

    let x = [0.3, -0.2, 0.5];
    let y = phi.map_point(&x)?;
    let jac = phi
        .jacobian(&x)?
        .ok_or("the exact flow always knows its Jacobian")?;

    // Central differences, one column per coordinate.
    let d = x.len();
    let mut fd = DMatrix::zeros(d, d);
    for c in 0..d {
        let h = 10.0 * FINITE_DIFF_STEP * x[c].abs().max(1.0);
        let (mut xp, mut xm) = (x, x);
        xp[c] += h;
        xm[c] -= h;
        fd.set_column(
            c,
            &((phi.map_point(&xp)? - phi.map_point(&xm)?) / (2.0 * h)),
        );
    }
    let gap = (&jac - &fd).amax();
    let allowed = 10.0 * FINITE_DIFF_REL * jac.amax().max(1.0) + FINITE_DIFF_ABS;

    println!("Phi_{{{from} -> {to}}}({x:?}) = {:?}", y.as_slice());
    println!("DPhi (variational equation) = {jac:.6}");
    println!("central differences         = {fd:.6}");
    println!(
        "||DPhi||_2 = {:.6} (the local Lipschitz constant); largest entry gap {gap:.2e} (allowed {allowed:.2e})",
        jac.singular_values().max()
    );
    if gap > allowed {
        return Err(format!("DPhi and finite differences disagree by {gap:e}").into());
    }
    Ok(())
}
