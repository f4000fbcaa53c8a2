//! Estimates of the work (flop-equivalents at [`FLOPS_PER_SECOND`]) and memory of a
//! request, from its sizes, checked against [`MAX_WORK_FLOPS`] and [`MAX_MEMORY_BYTES`]
//! before anything runs. The per-evaluation costs are calibrated on this machine's
//! benchmarks (README.md, "Performance"); the estimates aim at the right order of
//! magnitude, which is what a limit needs.

use super::{FLOPS_PER_SECOND, LimitError, MAX_MEMORY_BYTES, MAX_WORK_FLOPS};

/// Work of one Jacobian (or Hessian) evaluation of `p_t` for a mixture with `k`
/// components in dimension `d`, in flop-equivalents at [`FLOPS_PER_SECOND`]: per
/// component a rotation and rank-one updates (`~8 d^2`) plus its log-weight and
/// exponential (`~300`), plus a `d x d` symmetric eigen-solve where the caller needs the
/// spectrum (`~4 d^3`). Calibrated on `flowcert lipschitz` (K = 100, d = 2: 3.5 us per
/// evaluation; K = 2, d = 128: 0.8 ms).
///
/// ```
/// assert!(flowcert::limits::jacobian_flops(2, 2) < 1e3);
/// ```
pub fn jacobian_flops(k: usize, d: usize) -> f64 {
    let (k, d) = (k as f64, d as f64);
    k * (8.0 * d * d + 300.0) + 4.0 * d * d * d + 100.0
}

/// Work of one exact flow-map solve (flop-equivalents), with the variational equation
/// when `jacobian`: about [`FLOW_RHS_EVALS`] right-hand sides, each a score (`k (4 d^2 +
/// 300)`) or a Jacobian times `d` columns (`+ 2 d^3`). Calibrated on the flow-map
/// benchmark (56 us per 2-D two-mode trajectory).
///
/// ```
/// use flowcert::limits::flow_flops;
/// assert!(flow_flops(2, 2, true) > flow_flops(2, 2, false));
/// ```
pub fn flow_flops(k: usize, d: usize, jacobian: bool) -> f64 {
    let (kf, df) = (k as f64, d as f64);
    let rhs = if jacobian {
        kf * (8.0 * df * df + 300.0) + 2.0 * df * df * df + 200.0
    } else {
        kf * (4.0 * df * df + 300.0) + 200.0
    };
    FLOW_RHS_EVALS * rhs
}

/// Right-hand-side evaluations of a typical exact flow solve (the benchmark's 452-590).
pub const FLOW_RHS_EVALS: f64 = 600.0;

/// Parameters of an MLP student `d -> width^depth -> d`.
///
/// ```
/// let p = (2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2);
/// assert_eq!(flowcert::limits::mlp_params(2, 64, 2), p as f64);
/// ```
pub fn mlp_params(d: usize, width: usize, depth: usize) -> f64 {
    let (d, w, l) = (d as f64, width as f64, depth as f64);
    (d + 1.0) * w + (l - 1.0).max(0.0) * (w + 1.0) * w + (w + 1.0) * d
}

/// Floating-point operations of one training step (forward, backward, Adam) of a
/// student on a batch: about `6` per parameter per example.
///
/// ```
/// assert!(flowcert::limits::mlp_step_flops(2, 64, 2, 128) > 1e6);
/// ```
pub fn mlp_step_flops(d: usize, width: usize, depth: usize, batch: usize) -> f64 {
    6.0 * mlp_params(d, width, depth) * batch as f64 + 20.0 * mlp_params(d, width, depth)
}

/// The estimated cost of a request: floating-point operations and peak bytes.
///
/// ```
/// use flowcert::limits::Estimate;
/// let e = Estimate::new("this run", 1e9, 1e6);
/// assert!(e.check("use fewer samples").is_ok());
/// let e = Estimate::new("this run", 1e20, 1e6);
/// let msg = e.check("use fewer samples").unwrap_err().to_string();
/// assert!(msg.contains("this run") && msg.contains("use fewer samples"), "{msg}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// What is estimated ("this distillation sweep").
    pub what: String,
    /// Floating-point operations.
    pub flops: f64,
    /// Peak bytes held at once.
    pub bytes: f64,
}

/// `1.5e15 flops (about 42 hours on one core)`.
fn flops_text(f: f64) -> String {
    let secs = f / FLOPS_PER_SECOND;
    let time = if !secs.is_finite() {
        "longer than the age of the universe".to_string()
    } else if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} minutes", secs / 60.0)
    } else if secs < 3.0 * 86400.0 {
        format!("{:.0} hours", secs / 3600.0)
    } else if secs < 3.0 * 365.0 * 86400.0 {
        format!("{:.0} days", secs / 86400.0)
    } else {
        format!("{:.1e} years", secs / (365.0 * 86400.0))
    };
    format!("{f:.1e} floating-point operations (about {time} on one core)")
}

fn bytes_text(b: f64) -> String {
    format!("{:.1} GB of memory", b / 1e9)
}

impl Estimate {
    /// An estimate of `flops` operations and `bytes` of memory for `what`.
    pub fn new(what: &str, flops: f64, bytes: f64) -> Self {
        Estimate {
            what: what.to_string(),
            flops,
            bytes,
        }
    }

    /// Refuse an estimate beyond [`MAX_WORK_FLOPS`] or [`MAX_MEMORY_BYTES`] (or not
    /// finite); `fix` says what to do instead.
    pub fn check(&self, fix: &str) -> Result<(), LimitError> {
        let refuse = |amount: String, limit: String| LimitError::Estimate {
            what: self.what.clone(),
            amount,
            limit,
            fix: fix.to_string(),
        };
        if !(self.bytes.is_finite() && self.bytes <= MAX_MEMORY_BYTES) {
            return Err(refuse(bytes_text(self.bytes), bytes_text(MAX_MEMORY_BYTES)));
        }
        if !(self.flops.is_finite() && self.flops <= MAX_WORK_FLOPS) {
            return Err(refuse(flops_text(self.flops), flops_text(MAX_WORK_FLOPS)));
        }
        Ok(())
    }
}

/// Bytes of one stored point of dimension `d` (a `Vec<f64>` with its header).
fn point_bytes(d: usize) -> f64 {
    8.0 * d as f64 + 48.0
}

/// The search budget of `flowcert lipschitz` per time (the fields of
/// `bounds::SearchConfig`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSize {
    /// Exact samples of `p_t`.
    pub samples: usize,
    /// Points per segment between two means.
    pub segment_points: usize,
    /// Far probes per direction.
    pub ladder: usize,
    /// Local ascents per objective.
    pub starts: usize,
    /// Evaluations per ascent.
    pub ascent_evals: usize,
}

/// `flowcert lipschitz` on a mixture with `k` components in dimension `d` at `times`
/// times: per time, the candidates of `bounds::empirical_sup` (samples, sphere points,
/// crossings, `K (K - 1) / 2` segments between means, far probes along `2 d + K - 1`
/// directions per component, the ascents), each one Jacobian with its spectrum; two times
/// run at once, each holding its candidates.
///
/// ```
/// use flowcert::limits::estimate::{SearchSize, lipschitz};
/// let s = SearchSize { samples: 2000, segment_points: 33, ladder: 16, starts: 8, ascent_evals: 300 };
/// assert!(lipschitz(2, 2, 6, &s).check("").is_ok());
/// assert!(lipschitz(2000, 500, 1, &s).check("").is_err());
/// ```
pub fn lipschitz(k: usize, d: usize, times: usize, s: &SearchSize) -> Estimate {
    let (kf, df, n) = (k as f64, d as f64, s.samples as f64);
    let pairs = kf * (kf - 1.0) / 2.0;
    let candidates = n * 2.0
        + kf
        + pairs * (s.segment_points as f64 + 2.0)
        + kf * (2.0 * df + kf - 1.0) * s.ladder as f64;
    let evals = candidates + 2.0 * (s.starts * s.ascent_evals) as f64;
    // Bisections between pairs: 200 steps, two log-weights of ~2 d^2 each.
    let bisect = (n / 2.0 + pairs) * 200.0 * 2.0 * (2.0 * df * df + 50.0);
    Estimate::new(
        &format!("the Lipschitz check (K = {k}, d = {d}, {times} times)"),
        times as f64 * (evals * jacobian_flops(k, d) + bisect),
        times.min(2) as f64 * (candidates * (point_bytes(d) + 24.0) + 8.0 * df * df * 4.0),
    )
}

/// `flowcert stability` on `segments` segments (plus the whole interval): per segment
/// `samples + K + K (K - 1)` starting points flown with the variational equation in
/// `pieces` pieces in all (int L / 2 over the interval, plus one per segment), and with
/// `separatrix_steps > 0` bisections along the closest chords between every pair of
/// destinations (4 per pair); the chord list holds a pair of starts each.
///
/// ```
/// use flowcert::limits::estimate::stability;
/// assert!(stability(2, 2, 4, 64, 60, 30.0).check("").is_ok());
/// assert!(stability(2, 2, 4, 64, 60, 1e8).check("").is_err());
/// ```
pub fn stability(
    k: usize,
    d: usize,
    segments: usize,
    samples: usize,
    separatrix_steps: usize,
    pieces: f64,
) -> Estimate {
    let kf = k as f64;
    let starts = samples as f64 + kf + kf * (kf - 1.0);
    let maps = segments as f64 + 1.0;
    // Two passes (segments, then the whole interval) over all pieces; a piece costs about
    // a quarter of a whole solve.
    let flows = 2.0 * starts * (pieces + maps) * flow_flops(k, d, true) / 4.0;
    let separatrix = if separatrix_steps > 0 {
        maps * kf * (kf - 1.0) / 2.0 * 4.0 * separatrix_steps as f64 * flow_flops(k, d, false)
    } else {
        0.0
    };
    let chords = if separatrix_steps > 0 {
        starts * starts / 2.0 * 40.0
    } else {
        0.0
    };
    Estimate::new(
        &format!("the stability check (K = {k}, d = {d}, {segments} segments, {samples} samples)"),
        flows + separatrix,
        2.0 * (chords + starts * (point_bytes(d) * 2.0 + 8.0 * (d * d) as f64)),
    )
}

/// One student's training and its teacher data: `steps` Adam steps, `samples` teacher
/// pairs of `flow_flops` each; the memory of the pairs, the network with its Adam moments
/// and the activations of a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudentSize {
    /// Hidden width.
    pub width: usize,
    /// Hidden layers.
    pub depth: usize,
    /// Adam steps.
    pub steps: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Teacher pairs.
    pub samples: usize,
}

impl StudentSize {
    /// Work of training one student on `R^d` (its teacher pairs included).
    pub fn flops(&self, k: usize, d: usize) -> f64 {
        self.steps as f64 * mlp_step_flops(d, self.width, self.depth, self.batch)
            + self.samples as f64 * flow_flops(k, d, false)
    }

    /// Memory of training one student on `R^d`.
    pub fn bytes(&self, d: usize) -> f64 {
        let params = mlp_params(d, self.width, self.depth);
        3.0 * 8.0 * (self.samples * d) as f64
            + 4.0 * 8.0 * params
            + 3.0 * 8.0 * (self.batch * self.width) as f64 * (self.depth as f64 + 1.0)
    }
}

/// `flowcert distill`: every cell (`grids x segment counts x seeds`) trains `N` students
/// and evaluates the composed map on `eval_samples` points (`N + 1` exact flows each);
/// two cells run at once. `shards` divides the work (each shard runs its slice).
///
/// ```
/// use flowcert::limits::estimate::{StudentSize, distill};
/// let s = StudentSize { width: 64, depth: 2, steps: 1000, batch: 128, samples: 4096 };
/// assert!(distill(2, 2, 6, &[1, 2, 4, 8], 3, &s, 2048, 1).check("").is_ok());
/// let huge = StudentSize { steps: 1_000_000_000_000, ..s };
/// assert!(distill(2, 2, 6, &[1, 2, 4, 8], 3, &huge, 2048, 1).check("").is_err());
/// ```
#[allow(clippy::too_many_arguments)]
pub fn distill(
    k: usize,
    d: usize,
    grids: usize,
    segments: &[usize],
    seeds: usize,
    student: &StudentSize,
    eval_samples: usize,
    shards: usize,
) -> Estimate {
    let per_seed_grid: f64 = segments
        .iter()
        .map(|&n| {
            n as f64 * student.flops(k, d)
                + eval_samples as f64 * (n as f64 + 1.0) * flow_flops(k, d, false)
        })
        .sum();
    let flops = grids as f64 * seeds as f64 * per_seed_grid / shards.max(1) as f64;
    let cell_bytes = student.bytes(d) + 4.0 * 8.0 * (eval_samples * d) as f64;
    Estimate::new(
        &format!(
            "this distillation sweep ({} cells{})",
            grids * segments.len() * seeds,
            if shards > 1 {
                format!(", one shard of {shards}")
            } else {
                String::new()
            }
        ),
        flops,
        2.0 * cell_bytes,
    )
}

/// `flowcert mismatch`: the pair search (`search` teacher flows and `boundary x h_count`
/// pairs), the evaluation samples, then for every budget and segment count `N` students
/// trained with a Lipschitz projection (an SVD per layer per step, counted as three more
/// steps).
///
/// ```
/// use flowcert::limits::estimate::{StudentSize, mismatch};
/// let s = StudentSize { width: 32, depth: 2, steps: 600, batch: 64, samples: 512 };
/// assert!(mismatch(2, 2, 4, &[1, 2, 4, 8], &s, 256, 512).check("").is_ok());
/// assert!(mismatch(2, 2, 4, &[1_000_000], &s, 256, 512).check("").is_err());
/// ```
pub fn mismatch(
    k: usize,
    d: usize,
    budgets: usize,
    segments: &[usize],
    student: &StudentSize,
    search: usize,
    eval_samples: usize,
) -> Estimate {
    let students: f64 = budgets as f64 * segments.iter().map(|&n| n as f64).sum::<f64>();
    let projected = StudentSize {
        steps: student.steps.saturating_mul(4),
        ..*student
    };
    let flops = (search as f64 * 4.0 + 2.0 * eval_samples as f64) * flow_flops(k, d, true)
        + students * projected.flops(k, d);
    let max_n = segments.iter().copied().max().unwrap_or(1) as f64;
    Estimate::new(
        &format!(
            "the mismatch check (K = {k}, d = {d}, {} students)",
            students
        ),
        flops,
        2.0 * (projected.bytes(d) * max_n) + 16.0 * 8.0 * ((search + eval_samples) * d) as f64,
    )
}
