//! Many trajectories side by side (`dynamics::lanes`): every trajectory's end state,
//! Jacobian and work counts are bitwise those of a solve on its own, for any number of
//! lanes and threads; failures are reported as a one-at-a-time loop would meet them.

use flowcert::dynamics::{
    ExactFlow, Independent, Method, OdeSystem, SolverError, SolverStats, ValidSolverOptions,
    integrate, integrate_lanes,
};
use flowcert::model::{MarginalLanes, Mixture, builtin};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn opts(method: Method, tol: f64) -> ValidSolverOptions {
    crate::common::solver_options(method, tol)
}

/// Mixtures with distinct and with shared (repeated) covariance eigenvalues.
fn mixtures() -> impl Strategy<Value = Mixture> {
    prop_oneof![
        crate::common::any_mixture(),
        crate::common::arb_mixture(1..=4, 1..=8, 1e-2, 2.0, 2.0, true),
        (0.05f64..0.5).prop_map(builtin::two_mode),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `map_slice` (lanes), `map_slice_par` (blocks of lanes on threads) and one `map` call
    /// per point agree bitwise, with and without the variational equation.
    #[test]
    fn lanes_match_one_trajectory_at_a_time(
        mix in mixtures(),
        n in 1usize..30,
        seed in 0u64..1000,
        dop853 in any::<bool>(),
        jacobian in any::<bool>(),
    ) {
        let method = if dop853 { Method::Dop853 } else { Method::Dopri5 };
        let flow = ExactFlow::new(&mix, opts(method, 1e-8));
        let (from, to) = (1.2, 0.05);
        let d = mix.dim();
        let xs = mix.sample(from, n, &mut ChaCha8Rng::seed_from_u64(seed));
        let mut ys = vec![0.0; d * n];
        let mut jac = jacobian.then(|| vec![0.0; d * d * n]);
        let stats = flow.map_slice(xs.as_slice(), from, to, &mut ys, jac.as_deref_mut()).unwrap();
        let mut expected = SolverStats::default();
        for (j, x) in xs.as_slice().chunks(d).enumerate() {
            let p = if jacobian {
                flow.map_with_jacobian(x, from, to).unwrap()
            } else {
                flow.map(x, from, to).unwrap()
            };
            prop_assert_eq!(&ys[j * d..(j + 1) * d], p.y.as_slice(), "point {}", j);
            if let (Some(all), Some(one)) = (&jac, &p.jacobian) {
                prop_assert_eq!(&all[j * d * d..(j + 1) * d * d], one.as_slice(), "DPhi {}", j);
            }
            expected += p.stats;
        }
        prop_assert_eq!(stats, expected);
        let mut ys_par = vec![0.0; d * n];
        let mut jac_par = jacobian.then(|| vec![0.0; d * d * n]);
        let stats_par = flow
            .map_slice_par(xs.as_slice(), from, to, &mut ys_par, jac_par.as_deref_mut(), &|_| ())
            .unwrap();
        prop_assert_eq!((ys_par, jac_par, stats_par), (ys, jac, stats));
    }
}

/// The number of lanes changes nothing: 1, 3 (not a divisor of the job count) and more
/// lanes than jobs.
#[test]
fn results_do_not_depend_on_the_number_of_lanes() {
    let mix = builtin::ring(8, 3.0, 0.1);
    let opts = opts(Method::Dop853, 1e-9);
    let xs = mix.sample(2.0, 10, &mut ChaCha8Rng::seed_from_u64(5));
    let run = |lanes: usize| {
        let mut out = vec![(vec![], SolverStats::default()); 10];
        integrate_lanes(
            &mut MarginalLanes::new(&mix, lanes),
            2.0,
            0.01,
            10,
            &opts,
            |j, y0| y0.copy_from_slice(&xs.as_slice()[2 * j..2 * j + 2]),
            |j, y, r| out[j] = (y.to_vec(), r.unwrap()),
        );
        out
    };
    let one = run(1);
    assert_eq!(run(3), one);
    assert_eq!(run(16), one);
    assert!(one.iter().all(|(y, s)| y.len() == 2 && s.steps > 0));
}

/// `y' = y^2`: `y(t) = y0 / (1 - y0 t)` blows up at `t = 1 / y0`.
struct Riccati;
impl OdeSystem for Riccati {
    fn dim(&self) -> usize {
        1
    }
    fn rhs(&mut self, _t: f64, y: &[f64], dy: &mut [f64]) {
        dy[0] = y[0] * y[0];
    }
}

/// Job `j` starts at `y0 = starts[j]`; returns what `finish` saw, by job.
fn riccati_jobs(
    lanes: usize,
    starts: &[f64],
) -> Vec<Option<(f64, Result<SolverStats, SolverError>)>> {
    let mut seen = vec![None; starts.len()];
    let opts = opts(Method::Dopri5, 1e-9);
    integrate_lanes(
        &mut Independent((0..lanes).map(|_| Riccati).collect()),
        0.0,
        1.9,
        starts.len(),
        &opts,
        |j, y0| y0[0] = starts[j],
        |j, y, r| {
            assert!(seen[j].is_none(), "job {j} finished twice");
            seen[j] = Some((y[0], r));
        },
    );
    seen
}

/// Jobs with `y0 > 1/1.9` blow up before `t = 1.9`. Every job before the first failure
/// finishes exactly as `integrate` would; the first failure is `integrate`'s error for
/// that job; after it, only jobs already in flight finish.
#[test]
fn failures_are_reported_as_a_serial_loop_meets_them() {
    let starts: Vec<f64> = (0..40).map(|j| 0.05 * j as f64).collect();
    let first_bad = 11; // 0.55 > 1/1.9 > 0.5
    for lanes in [1, 4, 7] {
        let seen = riccati_jobs(lanes, &starts);
        for (j, s) in seen.iter().enumerate().take(first_bad) {
            let mut y = [starts[j]];
            let stats = integrate(&mut Riccati, 0.0, 1.9, &mut y, &opts(Method::Dopri5, 1e-9));
            let (y_lanes, r) = s.as_ref().expect("every job before the failure finishes");
            assert_eq!(
                (*y_lanes, r.clone()),
                (y[0], stats),
                "job {j}, {lanes} lanes"
            );
        }
        let mut y = [starts[first_bad]];
        let serial = integrate(&mut Riccati, 0.0, 1.9, &mut y, &opts(Method::Dopri5, 1e-9));
        let (y_bad, r) = seen[first_bad].as_ref().expect("the failing job finishes");
        assert!(serial.is_err());
        assert_eq!((*y_bad, r.clone()), (y[0], serial), "{lanes} lanes");
        // Jobs are started in order and none after the failure was seen: at most the
        // lanes - 1 jobs launched alongside the failing one ran past it.
        let last_started = seen.iter().rposition(Option::is_some).unwrap();
        assert!(
            last_started < first_bad + lanes,
            "{lanes} lanes ran job {last_started}"
        );
    }
}

/// A job that fails without any evaluation (non-finite start) stops the queue too, and
/// so does one at index 0; no jobs at all calls nothing.
#[test]
fn immediate_failures_and_empty_queues() {
    let mut starts = vec![0.1, 0.2, f64::NAN, 0.3, 0.4, 0.1, 0.2, 0.3];
    let seen = riccati_jobs(2, &starts);
    assert!(seen[0].as_ref().unwrap().1.is_ok() && seen[1].as_ref().unwrap().1.is_ok());
    assert_eq!(
        seen[2].as_ref().unwrap().1,
        Err(SolverError::NonFinite { t: 0.0 })
    );
    assert!(seen[3..].iter().all(Option::is_none), "{seen:?}");
    starts[0] = f64::INFINITY;
    let seen = riccati_jobs(3, &starts);
    assert!(seen[0].as_ref().unwrap().1.is_err());
    assert!(seen[1..].iter().all(Option::is_none));
    assert!(riccati_jobs(3, &[]).is_empty());
}

/// Buffers that do not fit the mixture's dimension are refused, not truncated.
#[test]
fn map_slice_checks_buffer_lengths() {
    let mix = builtin::two_mode(0.1);
    let flow = ExactFlow::new(&mix, opts(Method::Dop853, 1e-8));
    let mut ys = [0.0; 4];
    assert!(
        flow.map_slice(&[0.1, 0.2, 0.3], 1.0, 0.1, &mut ys, None)
            .is_err()
    );
    assert!(
        flow.map_slice(&[0.1; 4], 1.0, 0.1, &mut ys[..2], None)
            .is_err()
    );
    let mut jac = [0.0; 4];
    assert!(
        flow.map_slice(&[0.1; 4], 1.0, 0.1, &mut ys, Some(&mut jac))
            .is_err()
    );
    assert!(flow.map_slice(&[0.1; 4], 1.0, -0.1, &mut ys, None).is_err());
    assert!(flow.map_slice(&[0.1; 4], 1.0, 0.1, &mut ys, None).is_ok());
}
