//! Starting points of the searches for `sup ||J(x, t)||` and `sup lambda_max(-J(x, t))`
//! (theory/02-lipschitz.md, "How tight"): where the suprema live, or where a local ascent
//! reaches them from.
//!
//! 1. exact samples of `p_t` (the typical set), and for a ball uniform points of its
//!    sphere (with different covariances `||C||` grows like `|x|^2`, so the local suprema
//!    sit on the sphere); between random pairs of these whose dominant components `k != j`
//!    differ, the point of the chord (of the arc, on the sphere) where the log-weights of
//!    `k` and `j` cross (bisection): a point on the boundary between the two modes;
//! 2. the component means `m_k(t)`, evenly spaced points on every *line* through two means,
//!    from `m_k - (m_j - m_k)` to `m_j + (m_j - m_k)`, and the points of that range where
//!    `pi_k N(x; m_k, S_k) = pi_j N(x; m_j, S_j)` (bisection): there `r_k = r_j`, which is
//!    where `Cov_r[s_k]` peaks for two modes. With unequal weights or covariances the
//!    crossing can lie beyond the segment;
//! 3. rays from each pair's crossing (or midpoint) perpendicular to the pair, at distances
//!    `2^i sqrt(s_min)`: outward, away from the centroid of the other means, and along
//!    `+-` every direction orthogonal to the pair. Far out along the boundary between two
//!    modes that are neighbours on the convex hull of the means, the other modes'
//!    responsibilities vanish and `Cov_r[s_k]` tends to the two-point value
//!    `|s_k - s_j|^2 / 4` that Popoviciu's bound charges: for several modes the
//!    supremum of `||J||` is approached there, not between the means;
//! 4. far probes `m_k + 4^i sqrt(||S_k||) e` along the eigenvectors of `Sigma_k` and away
//!    from the other means: deep inside a component `r_k -> 1`, `C -> 0` and
//!    `J -> -I + S_k^{-1}`, which is where the `|a_hi|` branch is approached.
//!
//! Candidates are returned unprojected; the probe moves those outside `B_R` onto its sphere.

use nalgebra::DVector;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::empirical::SearchConfig;
use crate::model::Mixture;

/// Bisection for a sign change of `h` on `[lo, hi]` (`h(lo) > 0` iff `lo_positive`):
/// the final bracket, two adjacent floating-point numbers.
fn bisect(h: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, lo_positive: bool) -> (f64, f64) {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if !(lo < mid && mid < hi) {
            break;
        }
        if (h(mid) > 0.0) == lo_positive {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo, hi)
}

/// Unit vectors orthogonal to the unit `u` (Gram-Schmidt of the coordinate axes).
fn orthogonal_basis(u: &DVector<f64>) -> Vec<DVector<f64>> {
    let d = u.len();
    let mut basis: Vec<DVector<f64>> = vec![u.clone()];
    for i in 0..d {
        let mut e = DVector::zeros(d);
        e[i] = 1.0;
        for b in &basis {
            let p = b.dot(&e);
            e -= b * p;
        }
        let n = e.norm();
        if n > 1e-8 && basis.len() < d {
            basis.push(e / n);
        }
    }
    basis.remove(0);
    basis
}

/// The candidates of groups 1-4 at time `t` (module docs), from `rng` (samples, sphere
/// points, random pairs) and `radius` (`Some(R)` for a ball).
pub(crate) fn candidates(
    mix: &Mixture,
    t: f64,
    radius: Option<f64>,
    cfg: &SearchConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<f64>> {
    let d = mix.dim();
    let co = mix.coeffs(t);
    let comps = mix.components();
    let lw = |x: &DVector<f64>, k: usize| comps[k].log_joint(&co, x);
    let dominant = |x: &DVector<f64>| {
        (0..comps.len())
            .map(|k| (k, lw(x, k)))
            .fold((0, f64::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a })
            .0
    };
    let mut points: Vec<Vec<f64>> = Vec::new();
    let push = |points: &mut Vec<Vec<f64>>, x: &DVector<f64>| {
        if x.iter().all(|v| v.is_finite()) {
            points.push(x.iter().copied().collect());
        }
    };

    // 1. Samples of p_t; points of the sphere of B_R; equal-weight crossings between
    //    random pairs of them with different dominant components.
    let xs = mix.sample(t, cfg.samples, rng);
    let samples: Vec<DVector<f64>> = xs.column_iter().map(|c| c.into_owned()).collect();
    let mut sphere = Vec::new();
    if let Some(r) = radius {
        for _ in 0..cfg.samples / 4 {
            let g = DVector::<f64>::from_fn(d, |_, _| rng.sample(StandardNormal));
            if g.norm() > 0.0 {
                sphere.push(g.normalize() * r);
            }
        }
    }
    for (group, on_sphere) in [(&samples, None), (&sphere, radius)] {
        let labels: Vec<usize> = group.iter().map(dominant).collect();
        for _ in 0..group.len() / 4 {
            let (a, b) = (
                rng.random_range(0..group.len()),
                rng.random_range(0..group.len()),
            );
            let (k, j) = (labels[a], labels[b]);
            if k == j {
                continue;
            }
            let at = |u: f64| {
                let x = &group[a] + (&group[b] - &group[a]) * u;
                match on_sphere {
                    Some(r) if x.norm() > 0.0 => x.normalize() * r,
                    _ => x,
                }
            };
            let (lo, hi) = bisect(|u| lw(&at(u), k) - lw(&at(u), j), 0.0, 1.0, true);
            push(&mut points, &at(lo));
            push(&mut points, &at(hi));
        }
    }
    for x in samples.iter().chain(&sphere) {
        push(&mut points, x);
    }

    // 2. Means, points of the lines through two means (the segment and one length beyond
    //    each end) and the equal-weight crossings on them; 3. perpendicular rays.
    let means: Vec<DVector<f64>> = comps.iter().map(|c| &c.mean * co.alpha).collect();
    for m in &means {
        push(&mut points, m);
    }
    let s_min = comps
        .iter()
        .map(|c| c.s_range(co.alpha2, co.sigma2).0)
        .fold(f64::INFINITY, f64::min);
    let n = cfg.segment_points.max(2);
    let steps = 3 * (n - 1);
    for k in 0..comps.len() {
        for j in (k + 1)..comps.len() {
            let diff = &means[j] - &means[k];
            let len = diff.norm();
            let at = |u: f64| &means[k] + &diff * u;
            let h = |u: f64| lw(&at(u), k) - lw(&at(u), j);
            let mut crossings = Vec::new();
            let mut prev = (-1.0, h(-1.0));
            for i in 1..=steps {
                let u = -1.0 + 3.0 * i as f64 / steps as f64;
                let cur = (u, h(u));
                push(&mut points, &at(u));
                if prev.1.is_finite() && cur.1.is_finite() && (prev.1 > 0.0) != (cur.1 > 0.0) {
                    let (lo, hi) = bisect(h, prev.0, cur.0, prev.1 > 0.0);
                    push(&mut points, &at(lo));
                    push(&mut points, &at(hi));
                    crossings.push(at(0.5 * (lo + hi)));
                }
                prev = cur;
            }
            if len.is_nan() || len <= 0.0 {
                continue;
            }
            if crossings.is_empty() {
                crossings.push(at(0.5));
            }
            let u = &diff / len;
            let mut dirs = Vec::new();
            if comps.len() > 2 {
                let others: Vec<&DVector<f64>> = (0..comps.len())
                    .filter(|&i| i != k && i != j)
                    .map(|i| &means[i])
                    .collect();
                let centroid =
                    others.iter().fold(DVector::zeros(d), |a, m| a + *m) / others.len() as f64;
                let v = &at(0.5) - centroid;
                let out = &v - &u * u.dot(&v);
                if out.norm() > 1e-12 * (1.0 + v.norm()) {
                    dirs.push(out.normalize());
                }
            }
            for b in orthogonal_basis(&u) {
                dirs.push(-&b);
                dirs.push(b);
            }
            for c in &crossings {
                for dir in &dirs {
                    let mut dist = s_min.sqrt();
                    for _ in 0..cfg.ladder {
                        push(&mut points, &(c + dir * dist));
                        dist *= 2.0;
                    }
                }
            }
        }
    }

    // 4. Far probes.
    for (k, comp) in comps.iter().enumerate() {
        let scale = comp.s_range(co.alpha2, co.sigma2).1.sqrt();
        let mut dirs: Vec<DVector<f64>> = Vec::new();
        for col in comp.eigvecs.column_iter() {
            dirs.push(col.into_owned());
            dirs.push(-col.into_owned());
        }
        for (j, m) in means.iter().enumerate() {
            let v = &means[k] - m;
            if j != k && v.norm() > 0.0 {
                dirs.push(v.normalize());
            }
        }
        for dir in &dirs {
            let mut dist = scale;
            for _ in 0..cfg.ladder {
                push(&mut points, &(&means[k] + dir * dist));
                dist *= 4.0;
            }
        }
    }
    points
}
