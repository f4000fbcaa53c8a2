//! The oracle and fitted grids of one mixture (theory/04-composition-and-grids.md, "Oracle
//! and fitted grids").
//!
//! **Measuring a candidate segment** `t_k -> t_j` at a selection seed: its student (the
//! cell's budget, from [`SeedWork::student`], so shared with every grid containing the
//! segment), `x ~ p_{t_k}` exact samples, and
//!
//! ```text
//! eps_{jk}  = RMS |Psi(x) - Phi_{t_k->t_j}(x)|                      (local error)
//! e_{jk}    = RMS |DPhi_{t_j->t_min}(Psi(x)) (Psi(x) - Phi_{t_k->t_j}(x))|   (pushed to t_min)
//! A_{jk}    = e_{jk} / eps_{jk}                                     (amplification)
//! ```
//! with `DPhi` from the variational equation along the student's states, as in the
//! composition checker. `e_{jk}` is the first-order contribution of the segment to the
//! end-to-end error; the oracle grid minimises `sum e` over the candidate DAG
//! ([`crate::grids::oracle::best_path`]), the fitted grid minimises `sum eps_law A` over a
//! fine candidate set ([`crate::grids::fitted`]).

use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::distill::DistillError;
use super::segments::SeedWork;
use crate::grids::GridKind;
use crate::grids::fitted::{Amplification, LawFit, PilotPoint, fit_all, fitted_path};
use crate::grids::oracle::{CostTable, best_path, candidate_times, indices_of};
use crate::grids::{GridError, lambda_at};
use crate::model::Mixture;
use crate::seed;

/// How the oracle and fitted grids are chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OracleConfig {
    /// Log-spaced candidate times (ends included), merged with the peer grids' points.
    pub log_points: usize,
    /// Longest candidate segment, in candidate indices (peer grids' segments are always
    /// candidates, whatever their span).
    pub span: usize,
    /// Peer grid kinds whose points are candidates and whose estimates are reported.
    pub peers: Vec<GridKind>,
    /// Segment counts N.
    pub segments: Vec<usize>,
    /// Seeds whose students measure the candidate segments (costs averaged over them);
    /// kept apart from the evaluation seeds, so the chosen grid is retrained from scratch.
    pub selection_seeds: Vec<u64>,
    /// Exact samples of `p_{t_k}` per candidate segment.
    pub probe_samples: usize,
    /// Log-spaced times of the fitted grid's pilot (ends included).
    pub pilot_points: usize,
    /// Longest pilot segment, in pilot indices.
    pub pilot_span: usize,
    /// Log-spaced candidates of the fitted grid's DP.
    pub fine_points: usize,
}

impl OracleConfig {
    /// Validate sizes before anything is allocated.
    pub fn check(&self) -> Result<(), DistillError> {
        let bad = |setting, problem| Err(DistillError::InvalidPlan { setting, problem });
        if !(2..=256).contains(&self.log_points) {
            return bad("--oracle-candidates", "must be between 2 and 256, e.g. 16");
        }
        if self.span == 0 || self.pilot_span == 0 {
            return bad("--oracle-span", "must be at least 1, e.g. 6");
        }
        if !(4..=64).contains(&self.pilot_points) {
            return bad("--pilot-points", "must be between 4 and 64, e.g. 6");
        }
        if !(2..=1024).contains(&self.fine_points) {
            return bad("--fine-points", "must be between 2 and 1024, e.g. 48");
        }
        if self.selection_seeds.is_empty() {
            return bad("--selection-seeds", "must list at least one seed");
        }
        if !(1..=1_000_000).contains(&self.probe_samples) {
            return bad("--probe-samples", "must be between 1 and 1e6, e.g. 256");
        }
        if self.segments.is_empty() || self.segments.contains(&0) {
            return bad("--segments", "must list counts >= 1, e.g. 2,4,8");
        }
        Ok(())
    }
}

/// One measured candidate segment `to <- from`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SegmentEstimate {
    /// Upper end `t_k`.
    pub from: f64,
    /// Lower end `t_j`.
    pub to: f64,
    /// RMS local error on exact samples of `p_{t_k}` (mean over selection seeds).
    pub eps: f64,
    /// RMS of the error pushed to `t_min` by `DPhi` (mean over selection seeds).
    pub pushed: f64,
}

impl SegmentEstimate {
    /// The amplification `pushed / eps`.
    pub fn amplification(&self) -> f64 {
        self.pushed / self.eps
    }
}

/// Measure one segment's student on `samples` exact draws of `p_from` (module doc).
pub fn measure_segment(
    work: &SeedWork,
    from: f64,
    to: f64,
    t_min: f64,
    samples: usize,
) -> Result<SegmentEstimate, DistillError> {
    let flow = work.flow();
    let mix = flow.mixture();
    let student = work.student(from, to)?;
    let mut rng = seed::rng(
        seed::DISTILL,
        work.seed(),
        &[3, from.to_bits(), to.to_bits()],
    );
    let x = mix.sample(from, samples, &mut rng);
    let psi = crate::flowmap::FlowMap::map_batch(&student.net, &x)?;
    let (phi, _) = flow.map_batch_serial(&x, from, to)?;
    let err = &psi - &phi;
    let rms = |m: &DMatrix<f64>| {
        (m.column_iter().map(|c| c.norm_squared()).sum::<f64>() / m.ncols().max(1) as f64).sqrt()
    };
    let eps = rms(&err);
    let pushed = if to <= t_min {
        eps
    } else {
        let d = mix.dim();
        let mut ys = vec![0.0; psi.len()];
        let mut jac = vec![0.0; d * d * psi.ncols()];
        flow.map_slice(psi.as_slice(), to, t_min, &mut ys, Some(&mut jac))?;
        let pushed = DMatrix::from_fn(d, psi.ncols(), |r, c| {
            let j = &jac[c * d * d..(c + 1) * d * d];
            (0..d).map(|q| j[q * d + r] * err[(q, c)]).sum::<f64>()
        });
        rms(&pushed)
    };
    Ok(SegmentEstimate {
        from,
        to,
        eps,
        pushed,
    })
}

/// Measure `segments` (pairs of candidate indices `(j, k)`) at every selection seed (the
/// works, one per seed), in parallel over segments, averaging over seeds in seed order.
pub fn measure_segments(
    works: &[SeedWork],
    times: &[f64],
    segments: &[(usize, usize)],
    samples: usize,
) -> Result<Vec<SegmentEstimate>, DistillError> {
    let t_min = times[0];
    let per: Vec<Vec<SegmentEstimate>> = segments
        .par_iter()
        .map(|&(j, k)| {
            works
                .iter()
                .map(|w| measure_segment(w, times[k], times[j], t_min, samples))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<_, _>>()?;
    Ok(per
        .into_iter()
        .map(|v| {
            let n = v.len() as f64;
            SegmentEstimate {
                from: v[0].from,
                to: v[0].to,
                eps: v.iter().map(|s| s.eps).sum::<f64>() / n,
                pushed: v.iter().map(|s| s.pushed).sum::<f64>() / n,
            }
        })
        .collect())
}

/// A chosen grid with its estimated end-to-end RMS error `sum e`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChosenGrid {
    /// Grid name (`oracle`, `fitted` or a peer kind).
    pub grid: String,
    /// N.
    pub segments: usize,
    /// Times.
    pub times: Vec<f64>,
    /// The first-order estimate on the candidate costs (`sum e`; `null` when a segment
    /// is not a candidate).
    pub estimate: Option<f64>,
}

/// The selection of one mixture: candidates, their estimates, the pilot fit and the grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Candidate times.
    pub candidates: Vec<f64>,
    /// Every measured candidate segment.
    pub segments: Vec<SegmentEstimate>,
    /// The pilot's segments.
    pub pilot: Vec<SegmentEstimate>,
    /// The law fits (every model), and the index of the one used.
    pub fits: Vec<LawFit>,
    /// Index into `fits` of the law the fitted grid uses.
    pub fit_used: usize,
    /// Oracle, fitted and peer grids per N, with their estimates on the candidate costs.
    pub grids: Vec<ChosenGrid>,
}

/// Choose the oracle and fitted grids of `mix` on `[t_min, t_max]` from the selection
/// seeds' works (one [`SeedWork`] per selection seed, same mixture and budget).
pub fn select(
    mix: &Mixture,
    works: &[SeedWork],
    (t_min, t_max): (f64, f64),
    cfg: &OracleConfig,
) -> Result<Selection, DistillError> {
    cfg.check()?;
    // Peer grids: their points are candidates and their segments are candidate segments.
    let mut peer_grids: Vec<(GridKind, usize, Vec<f64>)> = Vec::new();
    for &kind in &cfg.peers {
        for &n in &cfg.segments {
            peer_grids.push((kind, n, kind.times(mix, t_min, t_max, n)?));
        }
    }
    let extra: Vec<f64> = peer_grids
        .iter()
        .flat_map(|g| g.2.iter().copied())
        .collect();
    let candidates = candidate_times(t_min, t_max, cfg.log_points, &extra);
    let m = candidates.len();
    let mut edges: Vec<(usize, usize)> = (0..m)
        .flat_map(|j| ((j + 1)..m.min(j + cfg.span + 1)).map(move |k| (j, k)))
        .collect();
    let peer_paths: Vec<Vec<usize>> = peer_grids
        .iter()
        .map(|g| indices_of(&candidates, &g.2).unwrap_or_default())
        .collect();
    for p in &peer_paths {
        edges.extend(p.windows(2).map(|w| (w[0], w[1])));
    }
    edges.sort_unstable();
    edges.dedup();
    let segments = measure_segments(works, &candidates, &edges, cfg.probe_samples)?;
    let mut costs = CostTable::new(m);
    for (&(j, k), s) in edges.iter().zip(&segments) {
        costs.set(j, k, s.pushed);
    }
    let mut grids = Vec::new();
    for &n in &cfg.segments {
        let (path, cost) = best_path(&costs, n)?;
        grids.push(ChosenGrid {
            grid: "oracle".into(),
            segments: n,
            times: path.iter().map(|&i| candidates[i]).collect(),
            estimate: Some(cost),
        });
    }
    // The fitted grid: a small pilot, the law, the DP on a fine log-spaced set.
    let pilot = Pilot::fit(mix, works, (t_min, t_max), cfg)?;
    for &n in &cfg.segments {
        let times = pilot.grid(n)?;
        grids.push(ChosenGrid {
            grid: "fitted".into(),
            segments: n,
            // Representable only when every segment of it was a measured candidate.
            estimate: indices_of(&candidates, &times)
                .map(|p| costs.path_cost(&p))
                .filter(|e| e.is_finite()),
            times,
        });
    }
    for ((kind, n, times), path) in peer_grids.into_iter().zip(peer_paths) {
        grids.push(ChosenGrid {
            grid: kind.name().into(),
            segments: n,
            estimate: (!path.is_empty()).then(|| costs.path_cost(&path)),
            times,
        });
    }
    // A peer's segments are always measured: a non-finite estimate is a failed student.
    if let Some(g) = grids
        .iter()
        .find(|g| g.estimate.is_some_and(|e| !e.is_finite()))
    {
        return Err(GridError::NoCandidatePath {
            segments: g.segments,
            candidates: m,
        }
        .into());
    }
    Ok(Selection {
        candidates,
        segments,
        pilot: pilot.segments,
        fits: pilot.fits,
        fit_used: pilot.fit_used,
        grids,
    })
}

/// The fitted grid's pilot: its measured segments, the law fits, the amplification, and
/// the fine candidate set the grid is chosen on (module doc of [`crate::grids::fitted`]).
#[derive(Debug, Clone)]
pub struct Pilot {
    /// The pilot's measured segments.
    pub segments: Vec<SegmentEstimate>,
    /// Every law fit.
    pub fits: Vec<LawFit>,
    /// Index of the law used.
    pub fit_used: usize,
    /// `A(t)` from the pilot.
    pub amplification: Amplification,
    fine: Vec<f64>,
    fine_lambda: Vec<f64>,
    fine_snr: Vec<f64>,
}

impl Pilot {
    /// Train and measure the pilot's segment students (`cfg.pilot_points` log-spaced
    /// times, spans up to `cfg.pilot_span`) at the works' seeds and fit the law.
    pub fn fit(
        mix: &Mixture,
        works: &[SeedWork],
        (t_min, t_max): (f64, f64),
        cfg: &OracleConfig,
    ) -> Result<Pilot, DistillError> {
        cfg.check()?;
        let pilot_times = candidate_times(t_min, t_max, cfg.pilot_points, &[]);
        let pm = pilot_times.len();
        let pilot_edges: Vec<(usize, usize)> = (0..pm)
            .flat_map(|j| ((j + 1)..pm.min(j + cfg.pilot_span + 1)).map(move |k| (j, k)))
            .collect();
        let segments = measure_segments(works, &pilot_times, &pilot_edges, cfg.probe_samples)?;
        let pilot_lambda = lambda_at(mix, &pilot_times)?;
        let log_snr = |t: f64| mix.process().log_snr(t);
        let points: Vec<PilotPoint> = pilot_edges
            .iter()
            .zip(&segments)
            .map(|(&(j, k), s)| PilotPoint {
                d_lambda: pilot_lambda[k] - pilot_lambda[j],
                d_logsnr: log_snr(pilot_times[j]) - log_snr(pilot_times[k]),
                eps: s.eps,
            })
            .collect();
        let (fits, fit_used) = fit_all(&points)?;
        let mut amp: Vec<(f64, f64)> = vec![(t_min, 1.0)];
        amp.extend(
            segments
                .iter()
                .filter(|s| s.to > t_min)
                .map(|s| (s.to, s.amplification())),
        );
        let fine = candidate_times(t_min, t_max, cfg.fine_points, &[]);
        Ok(Pilot {
            segments,
            fits,
            fit_used,
            amplification: Amplification::new(&amp),
            fine_lambda: lambda_at(mix, &fine)?,
            fine_snr: fine.iter().map(|&t| log_snr(t)).collect(),
            fine,
        })
    }

    /// The fitted grid with `n` segments.
    pub fn grid(&self, n: usize) -> Result<Vec<f64>, DistillError> {
        let (times, _) = fitted_path(
            &self.fits[self.fit_used],
            &self.amplification,
            &self.fine,
            &self.fine_lambda,
            &self.fine_snr,
            n,
        )?;
        Ok(times)
    }
}
