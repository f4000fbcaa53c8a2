//! The searches behind the tightness figures of theory/02 and theory/03 find the known
//! maximisers, the checkers compare bound and measurement with a slack relative to the
//! compared quantity, and each checker reports a violation for a deliberately wrong bound
//! (the kept mutations, [`Mutation`]).

use crate::reference;

use flowcert::bounds::empirical::slack;
use flowcert::bounds::{Lipschitz, Mutation, SearchConfig, Tightness, empirical_sup};
use flowcert::model::{MixtureSpec, builtin};
use flowcert::theorems::lipschitz::{compare_bounds, compare_bounds_on};
use flowcert::tolerance::{ATTAINED_REL, BOUND_ROUNDING_REL};
use reference::{jacobian, norms};

/// Five isotropic modes in d = 3 (sigma0 = 0.3, equal weights): the diameter pair
/// `(-2, 0, 0)`, `(2, 0, 0)` is an edge of the hull of the means, the other three lie at
/// `y < 0`, closer to the pair's midpoint than the pair itself. Popoviciu's two-point law
/// is approached on the bisector `x_1 = 0` far out along `+y`, where the other modes'
/// responsibilities vanish (at `(0, 6, 0)` they are below `e^{-47}`): `||J|| = L` there
/// (attained to rounding, checked below with the high-precision reference), but on no
/// segment between two means, where the old search looked.
fn five_modes() -> MixtureSpec {
    let var = 0.09;
    let cov: Vec<Vec<f64>> = (0..3)
        .map(|r| (0..3).map(|c| if r == c { var } else { 0.0 }).collect())
        .collect();
    MixtureSpec {
        weights: vec![0.2; 5],
        means: vec![
            vec![-2.0, 0.0, 0.0],
            vec![2.0, 0.0, 0.0],
            vec![0.0, -1.5, 0.0],
            vec![0.5, -1.0, 1.0],
            vec![-0.5, -1.0, -1.0],
        ],
        covariances: vec![cov; 5],
    }
}

/// A random shared-isotropic K = 5, d = 3 mixture (a seeded draw, rounded to two
/// decimals; sigma0 = 0.352) on which the search before the optimisers reported
/// `L / sup = 1.45` at `t = 0.01` (sup 292 against L = 423) and 1.01 at `t = 0.1`; an
/// independent multi-start Nelder-Mead (scipy, 300 starts) finds `||J|| = L` far out along
/// a mode boundary.
fn five_modes_random() -> MixtureSpec {
    let var = 0.352_f64.powi(2);
    let cov: Vec<Vec<f64>> = (0..3)
        .map(|r| (0..3).map(|c| if r == c { var } else { 0.0 }).collect())
        .collect();
    MixtureSpec {
        weights: vec![0.13, 0.22, 0.17, 0.24, 0.24],
        means: vec![
            vec![-2.61, -2.92, 2.02],
            vec![-1.44, -1.59, 2.97],
            vec![-0.18, 2.02, -0.14],
            vec![0.83, -2.1, 0.81],
            vec![2.21, 0.14, 1.45],
        ],
        covariances: vec![cov; 5],
    }
}

#[test]
fn search_reaches_l_beyond_the_segments() {
    let spec = five_modes();
    let mix = spec.clone().check().unwrap();
    let lip = Lipschitz::auto(&mix);
    let t = 0.01;
    let b = lip.at(t).unwrap();
    // Independently: ||J|| = L at (0, 6, 0), far less at the pair's midpoint.
    let far = norms(&jacobian(&spec, t, &[0.0, 6.0, 0.0]));
    assert!(
        (far.norm / b.bound - 1.0).abs() < BOUND_ROUNDING_REL,
        "{} vs {}",
        far.norm,
        b.bound
    );
    let mid = norms(&jacobian(&spec, t, &[0.0, 0.0, 0.0]));
    assert!(mid.norm < 0.5 * b.bound, "midpoint {}", mid.norm);
    for cfg in [SearchConfig::quick(), SearchConfig::default()] {
        let e = empirical_sup(&lip, t, &cfg).unwrap();
        let tight = Tightness::new(&b, &e);
        assert!(
            tight.holds && tight.attained,
            "{cfg:?}: L/sup = {}",
            tight.two_sided
        );
        assert!(e.norm.value >= b.bound * (1.0 - ATTAINED_REL));
    }
}

#[test]
fn search_reaches_l_on_a_random_five_mode_mixture() {
    let mix = five_modes_random().check().unwrap();
    let r = compare_bounds(&mix, &[0.01, 0.1], &SearchConfig::quick()).unwrap();
    for row in &r.rows {
        assert!(
            row.holds && row.attained,
            "t = {}: L/sup = {}",
            row.t,
            row.ratio
        );
        assert!(row.starts > 0 && row.evaluations > row.starts);
    }
}

/// The slack is relative to L: at t = 15 (two-mode-s0.1) the cancelling `1/s - 1` of old
/// gives an L 0.15% too small. The checker now reports it; the old allowance
/// `1e-6 L_p` (L_p ~ 2 while L ~ 1.2e-13, so ~1.7e7 L) let it pass with "0 violations".
#[test]
fn relative_slack_catches_the_old_cancelling_bound() {
    let mix = builtin::two_mode(0.1);
    let t = 15.0;
    let old = Lipschitz::auto(&mix).mutated(Mutation::CancellingExcess);
    let r = compare_bounds_on(&old, &[t], &SearchConfig::quick()).unwrap();
    assert_eq!(r.violations, 1, "{:?}", r.rows[0]);
    let row = &r.rows[0];
    assert!(!row.holds && row.ratio < 1.0 - 1e-3);
    // The old rule: holds iff sup <= L + 1e-6 L_p.
    assert!(row.empirical_sup <= row.bound + 1e-6 * row.bound_paper);
    // The correct bound holds and is attained, at every t up to 50.
    let good =
        compare_bounds(&mix, &[8.0, 10.0, 15.0, 20.0, 50.0], &SearchConfig::quick()).unwrap();
    assert_eq!(good.violations, 0);
    assert!(good.rows.iter().all(|r| r.attained), "{:?}", good.rows);
    let b = Lipschitz::auto(&mix).at(t).unwrap();
    assert!(slack(&b) <= BOUND_ROUNDING_REL * b.bound);
}

/// Kept mutation: every bound lowered by 1e-6 relative. Where a bound is attained (two
/// isotropic modes, any t) the checker must report the violation.
#[test]
fn checker_reports_a_bound_lowered_by_one_millionth() {
    for (mix, t) in [
        (builtin::two_mode(0.05), 0.01),
        (builtin::two_mode(0.3), 1.0),
        (builtin::two_mode(0.1), 20.0),
    ] {
        let bad = Lipschitz::auto(&mix).mutated(Mutation::Scale(1.0 - 1e-6));
        let r = compare_bounds_on(&bad, &[t], &SearchConfig::quick()).unwrap();
        assert_eq!(r.violations, 1, "t = {t}: {:?}", r.rows[0]);
        assert!(!r.rows[0].attained);
    }
}

/// `vacuous` marks a bound beyond VACUOUS_FACTOR times the measured value, and only then.
#[test]
fn vacuous_flag() {
    let mix = builtin::hetero3();
    let huge = Lipschitz::auto(&mix).mutated(Mutation::Scale(1e7));
    let r = compare_bounds_on(&huge, &[0.5], &SearchConfig::quick()).unwrap();
    assert!(r.rows[0].vacuous && r.rows[0].holds);
    let r = compare_bounds(&mix, &[0.5], &SearchConfig::quick()).unwrap();
    assert!(!r.rows[0].vacuous);
}
