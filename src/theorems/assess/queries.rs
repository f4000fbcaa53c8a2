//! Query sets: points where an outside model is asked for its score or its flow maps
//! (module doc of [`super`] for the file layout), with a manifest that carries the mixture,
//! its hash, the seed, the times, the grid and a fingerprint of every query file.
//!
//! ```text
//! score    x ~ p_t, `samples` per time of `times`          (ChaCha8 stream 1 + time index)
//! flowmap  grid t_0 = t_min < ... < t_N = T of `grid`;  x ~ p_{t_i}, `samples` per segment i
//!                                                          (stream 1001 + i)
//! rollout  x ~ p_T, `samples` points                       (stream 2001)
//! ```
//! All draws come from [`crate::seed::rng`] (salt [`crate::seed::QUERIES`]) on separate streams, so the same
//! seed writes the same bytes.
//!
//! The manifest carries `manifest_fingerprint`, the FNV-1a of its own compact JSON (with
//! that field empty), so an edit of any field the assessment reads (`samples_per_time`,
//! `score.times`, `flowmap.times`, `flowmap.lambda`, `samples_per_segment`, ...) is
//! refused; and [`QuerySet::validate`] checks every length, count and time against the
//! query files before anything is indexed.

use std::path::Path;

use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::AssessError;
use super::npy::{from_npy, to_npy};
use crate::grids::{GridKind, MAX_TIME, lambda_at};
use crate::io::write_atomic;
use crate::limits;
use crate::model::{Mixture, MixtureSpec, ProcessSpec};
use crate::seed;

/// Manifest file name inside a query directory.
pub const MANIFEST: &str = "queries.json";
/// The `format` field of a manifest.
pub const FORMAT: &str = "flowcert-queries";
/// The manifest version this build writes and reads (2: with `manifest_fingerprint`).
pub const VERSION: u32 = 2;
/// Most query rows of one kind.
pub const MAX_ROWS: usize = 2_000_000;

/// Raw settings of a query set; validate with [`QueryConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct QueryConfig {
    /// Times of the score queries (each in `(0, MAX_TIME]`).
    pub times: Vec<f64>,
    /// Points per time, per segment, and rollout points.
    pub samples: usize,
    /// Seed of every draw.
    pub seed: u64,
    /// Grid of the flow-map segments.
    pub grid: GridKind,
    /// Number of segments N.
    pub segments: usize,
    /// `t_min` of the grid.
    pub t_min: f64,
    /// `T` of the grid.
    pub t_max: f64,
}

/// A [`QueryConfig`] that passed [`QueryConfig::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidQueryConfig(QueryConfig);

impl std::ops::Deref for ValidQueryConfig {
    type Target = QueryConfig;
    fn deref(&self) -> &QueryConfig {
        &self.0
    }
}

impl QueryConfig {
    /// Validate: times finite in `(0, MAX_TIME]` and distinct, `samples >= 2`, at most
    /// `MAX_ROWS` rows of each kind (grid settings are checked when the grid is built).
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::QueryConfig;
    /// let c = QueryConfig { times: vec![0.01, 0.1], samples: 10, seed: 0, grid: GridKind::Uniform,
    ///     segments: 2, t_min: 0.01, t_max: 1.0 };
    /// assert!(c.clone().check().is_ok());
    /// assert!(QueryConfig { times: vec![0.0], ..c.clone() }.check().is_err());
    /// assert!(QueryConfig { samples: 1, ..c }.check().is_err());
    /// ```
    pub fn check(self) -> Result<ValidQueryConfig, AssessError> {
        if self.times.is_empty() {
            return Err(AssessError::BadSetting {
                field: "--times",
                value: "[]".into(),
                fix: "give at least one time, e.g. --times 0.01,0.1,1".into(),
            });
        }
        for &t in &self.times {
            if !(t.is_finite() && t > 0.0 && t <= MAX_TIME) {
                return Err(AssessError::BadSetting {
                    field: "--times",
                    value: t.to_string(),
                    fix: format!("every time must be finite, > 0 and at most {MAX_TIME}"),
                });
            }
        }
        let mut sorted = self.times.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(AssessError::BadSetting {
                field: "--times",
                value: format!("{:?}", self.times),
                fix: "give each time once".into(),
            });
        }
        if self.samples < 2 {
            return Err(AssessError::BadSetting {
                field: "--samples",
                value: self.samples.to_string(),
                fix: "give at least 2 points per time and per segment (errors come with a confidence interval)".into(),
            });
        }
        let rows = self
            .samples
            .checked_mul(self.times.len().max(self.segments))
            .filter(|&r| r <= MAX_ROWS);
        if rows.is_none() {
            return Err(AssessError::BadSetting {
                field: "--samples",
                value: self.samples.to_string(),
                fix: format!(
                    "samples x max(times, segments) must stay below {MAX_ROWS} rows per file"
                ),
            });
        }
        Ok(ValidQueryConfig(self))
    }
}

/// What identifies a query file: an assessment and a baseline are comparable only when
/// these agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryIdentity {
    /// FNV-1a of the mixture JSON.
    pub mixture_hash: String,
    /// Seed of the draws.
    pub seed: u64,
    /// FNV-1a of the `.npy` query file.
    pub fingerprint: String,
}

/// One query file pair (CSV and NPY) in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryFile {
    /// CSV file name.
    pub csv: String,
    /// NPY file name.
    pub npy: String,
    /// Rows.
    pub rows: usize,
    /// Column names, in order.
    pub columns: Vec<String>,
    /// FNV-1a of the NPY bytes.
    pub fingerprint: String,
}

/// The score part of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreManifest {
    /// Times, in file order.
    pub times: Vec<f64>,
    /// Rows per time.
    pub samples_per_time: usize,
    /// The files.
    pub file: QueryFile,
}

/// The flow-map part of a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowManifest {
    /// Grid kind.
    pub grid: String,
    /// EDM rho (EDM grids only).
    pub rho: Option<f64>,
    /// Segments N.
    pub segments: usize,
    /// Grid times `t_0 = t_min < ... < t_N = T`.
    pub times: Vec<f64>,
    /// Two-sided `Lambda(t_i) - Lambda(t_0)`.
    pub lambda: Vec<f64>,
    /// Rows per segment (segments in increasing order, segment i maps t_i -> t_{i-1}).
    pub samples_per_segment: usize,
    /// Segment start points.
    pub file: QueryFile,
    /// Rollout start points `x ~ p_T` (answer: the composed map at `t_min`).
    pub rollout: QueryFile,
}

/// `DIR/queries.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The flowcert that wrote it.
    pub flowcert_version: String,
    /// FNV-1a of the mixture JSON (`mixture` below, serialised compactly).
    pub mixture_hash: String,
    /// The mixture (so that `assess` needs only the directory).
    pub mixture: MixtureSpec,
    /// The noising path when it is not OU (theory/07-gaussian-paths.md; absent = OU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessSpec>,
    /// Dimension d.
    pub dim: usize,
    /// Seed of every draw.
    pub seed: u64,
    /// Score queries.
    pub score: ScoreManifest,
    /// Flow-map queries.
    pub flowmap: FlowManifest,
    /// What to answer, in words.
    pub protocol: Vec<String>,
    /// FNV-1a of this manifest's compact JSON with this field empty (module doc).
    #[serde(default)]
    pub manifest_fingerprint: String,
}

impl QueryManifest {
    /// The fingerprint of every other field (module doc).
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.5], samples: 3, seed: 1, grid: GridKind::Uniform,
    ///     segments: 2, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let mut m = QuerySet::generate(&mix, &cfg).unwrap().manifest;
    /// assert_eq!(m.fingerprint(), m.manifest_fingerprint);
    /// m.score.samples_per_time = 2;
    /// assert_ne!(m.fingerprint(), m.manifest_fingerprint);
    /// ```
    pub fn fingerprint(&self) -> String {
        let mut bare = self.clone();
        bare.manifest_fingerprint = String::new();
        let json = serde_json::to_string(&bare).unwrap_or_default();
        format!("{:016x}", seed::fnv1a(json.as_bytes()))
    }
}

/// A generated or loaded query set.
#[derive(Debug, Clone)]
pub struct QuerySet {
    /// The manifest.
    pub manifest: QueryManifest,
    /// The mixture.
    pub mixture: Mixture,
    /// Score query rows `(t, x)`: `(1 + d) x M`, one query per column.
    pub score: DMatrix<f64>,
    /// Flow-map query rows `(i, t_from, t_to, x)`: `(3 + d) x M`.
    pub flowmap: DMatrix<f64>,
    /// Rollout rows `(t_from, t_to, x)`: `(2 + d) x M`.
    pub rollout: DMatrix<f64>,
}

/// FNV-1a of the compact JSON of a mixture (its identity in manifests and baselines).
///
/// ```
/// let a = flowcert::model::builtin::two_mode(0.1);
/// let b = flowcert::model::builtin::two_mode(0.2);
/// use flowcert::theorems::assess::queries::mixture_hash;
/// assert_ne!(mixture_hash(&a), mixture_hash(&b));
/// assert_eq!(mixture_hash(&a), mixture_hash(&a.to_spec().check().unwrap()));
/// ```
pub fn mixture_hash(mix: &Mixture) -> String {
    let json = serde_json::to_string(&mix.to_spec()).unwrap_or_default();
    format!("{:016x}", seed::fnv1a(json.as_bytes()))
}

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    seed::rng(seed::QUERIES, seed, &[stream])
}

/// Rows `prefix ++ x` for each column of `xs`.
fn rows_with(prefix: &[f64], xs: &DMatrix<f64>) -> Vec<Vec<f64>> {
    xs.column_iter()
        .map(|c| prefix.iter().copied().chain(c.iter().copied()).collect())
        .collect()
}

fn to_matrix(rows: &[Vec<f64>], width: usize) -> DMatrix<f64> {
    DMatrix::from_fn(width, rows.len(), |r, c| rows[c][r])
}

fn columns(prefix: &[&str], d: usize) -> Vec<String> {
    prefix
        .iter()
        .map(|s| s.to_string())
        .chain((0..d).map(|i| format!("x{i}")))
        .collect()
}

fn npy_of(m: &DMatrix<f64>) -> Vec<u8> {
    // column j of m is row j of the file: the column-major slice is the row-major array
    to_npy(m.ncols(), m.nrows(), m.as_slice())
}

fn csv_of(m: &DMatrix<f64>, columns: &[String]) -> String {
    let mut out = columns.join(",");
    out.push('\n');
    for c in m.column_iter() {
        let fields: Vec<String> = c.iter().map(|v| format!("{v:?}")).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn file(stem: &str, m: &DMatrix<f64>, columns: Vec<String>) -> QueryFile {
    QueryFile {
        csv: format!("{stem}.csv"),
        npy: format!("{stem}.npy"),
        rows: m.ncols(),
        columns,
        fingerprint: format!("{:016x}", seed::fnv1a(&npy_of(m))),
    }
}

fn protocol() -> Vec<String> {
    [
        "score_queries: answer s_theta(x, t) for every row (t, x), in row order: an M x d array (.npy float64/float32, or CSV with d columns).",
        "flowmap_queries: answer Psi_i(x), your map of segment i from t_from = t_i down to t_to = t_{i-1}, for every row (i, t_from, t_to, x), in row order: an M x d array.",
        "rollout_queries (optional): answer your composed sampler Psi_1 o ... o Psi_N applied to x ~ p_T, landing at t_min: an M x d array.",
        "Then: flowcert assess score --queries DIR --answers FILE, or flowcert assess flowmap --queries DIR --answers FILE [--rollout FILE].",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

impl QuerySet {
    /// Draw a query set for `mix` (module doc).
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.01, 0.5], samples: 4, seed: 1, grid: GridKind::Balanced,
    ///     segments: 3, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let q = QuerySet::generate(&mix, &cfg).unwrap();
    /// assert_eq!((q.score.shape(), q.flowmap.shape(), q.rollout.shape()), ((3, 8), (5, 12), (4, 4)));
    /// assert_eq!(q.manifest.flowmap.times.len(), 4);
    /// ```
    pub fn generate(mix: &Mixture, cfg: &ValidQueryConfig) -> Result<QuerySet, AssessError> {
        let d = mix.dim();
        let n = cfg.samples;
        for &t in &cfg.times {
            mix.check_path_time("--times", t)?;
        }
        let mut score_rows = Vec::with_capacity(n * cfg.times.len());
        for (i, &t) in cfg.times.iter().enumerate() {
            let xs = mix.sample(t, n, &mut rng(cfg.seed, 1 + i as u64));
            score_rows.extend(rows_with(&[t], &xs));
        }
        let times = cfg.grid.times(mix, cfg.t_min, cfg.t_max, cfg.segments)?;
        let lambda = lambda_at(mix, &times)?;
        // The composition bound weighs segment i by exp(Lambda(t_{i-1})): it must be a number.
        let top = lambda[lambda.len().saturating_sub(2)];
        if top.is_nan() || top > f64::MAX.ln() {
            return Err(AssessError::BadSetting {
                field: "--t-min",
                value: cfg.t_min.to_string(),
                fix: format!(
                    "the stability coordinate reaches Lambda = {top:e} on this grid, so the composition bound's weight exp(Lambda) overflows f64 (limit e^{:.0}); raise --t-min or use fewer segments",
                    f64::MAX.ln()
                ),
            });
        }
        let mut flow_rows = Vec::with_capacity(n * cfg.segments);
        for i in 1..times.len() {
            let xs = mix.sample(times[i], n, &mut rng(cfg.seed, 1001 + i as u64));
            flow_rows.extend(rows_with(&[i as f64, times[i], times[i - 1]], &xs));
        }
        let t_top = times[times.len() - 1];
        let xs = mix.sample(t_top, n, &mut rng(cfg.seed, 2001));
        let rollout_rows = rows_with(&[t_top, times[0]], &xs);
        let score = to_matrix(&score_rows, 1 + d);
        let flowmap = to_matrix(&flow_rows, 3 + d);
        let rollout = to_matrix(&rollout_rows, 2 + d);
        let manifest = QueryManifest {
            format: FORMAT.into(),
            version: VERSION,
            flowcert_version: env!("CARGO_PKG_VERSION").into(),
            mixture_hash: mixture_hash(mix),
            mixture: mix.to_spec(),
            process: (!mix.process().is_ou()).then(|| ProcessSpec::of(mix.process())),
            dim: d,
            seed: cfg.seed,
            score: ScoreManifest {
                times: cfg.times.clone(),
                samples_per_time: n,
                file: file("score_queries", &score, columns(&["t"], d)),
            },
            flowmap: FlowManifest {
                grid: cfg.grid.name().into(),
                rho: match cfg.grid {
                    GridKind::Edm { rho } => Some(rho),
                    _ => None,
                },
                segments: cfg.segments,
                times,
                lambda,
                samples_per_segment: n,
                file: file(
                    "flowmap_queries",
                    &flowmap,
                    columns(&["segment", "t_from", "t_to"], d),
                ),
                rollout: file("rollout_queries", &rollout, columns(&["t_from", "t_to"], d)),
            },
            protocol: protocol(),
            manifest_fingerprint: String::new(),
        };
        let manifest = QueryManifest {
            manifest_fingerprint: manifest.fingerprint(),
            ..manifest
        };
        Ok(QuerySet {
            manifest,
            mixture: mix.clone(),
            score,
            flowmap,
            rollout,
        })
    }

    /// Write the manifest and the CSV and NPY files into `dir` (created if missing), each
    /// atomically.
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.5], samples: 3, seed: 1, grid: GridKind::Uniform,
    ///     segments: 2, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let q = QuerySet::generate(&mix, &cfg).unwrap();
    /// let dir = std::env::temp_dir().join("flowcert-doc-queries");
    /// q.write(&dir).unwrap();
    /// let back = QuerySet::load(&dir).unwrap();
    /// assert_eq!(back.score, q.score);
    /// assert_eq!(back.manifest, q.manifest);
    /// ```
    pub fn write(&self, dir: &Path) -> Result<(), AssessError> {
        crate::io::create_dir(dir)?;
        let m = &self.manifest;
        for (f, data) in [
            (&m.score.file, &self.score),
            (&m.flowmap.file, &self.flowmap),
            (&m.flowmap.rollout, &self.rollout),
        ] {
            write_atomic(&dir.join(&f.npy), &npy_of(data))?;
            write_atomic(&dir.join(&f.csv), csv_of(data, &f.columns).as_bytes())?;
        }
        let json = serde_json::to_string_pretty(m).map_err(|e| AssessError::Malformed {
            path: MANIFEST.into(),
            message: e.to_string(),
        })?;
        write_atomic(&dir.join(MANIFEST), json.as_bytes())?;
        Ok(())
    }

    /// Load a query directory written by [`QuerySet::write`], checking the manifest, the
    /// mixture hash and the fingerprint and shape of every NPY file.
    ///
    /// ```
    /// let e = flowcert::theorems::assess::QuerySet::load(std::path::Path::new("/no/such/dir"));
    /// assert!(e.unwrap_err().to_string().contains("queries.json"));
    /// ```
    pub fn load(dir: &Path) -> Result<QuerySet, AssessError> {
        let path = dir.join(MANIFEST);
        let shown = path.display().to_string();
        let bad = |message: String| AssessError::Malformed {
            path: shown.clone(),
            message,
        };
        let text = match limits::read_text(&path, "query manifest", limits::MAX_JSON_FILE_BYTES) {
            Ok(t) => t,
            Err(limits::LimitError::Unreadable { reason, .. }) => {
                return Err(AssessError::Unreadable {
                    path: shown.clone(),
                    source: std::io::Error::other(reason),
                });
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        let manifest: QueryManifest = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "not a query manifest ({}); give a directory written by `flowcert queries`",
                limits::json_error(&text, &e)
            ))
        })?;
        if manifest.format != FORMAT || manifest.version != VERSION {
            return Err(bad(format!(
                "format {} version {} is not {FORMAT} version {VERSION}; regenerate it with this flowcert's `flowcert queries`",
                manifest.format, manifest.version
            )));
        }
        if manifest.fingerprint() != manifest.manifest_fingerprint {
            return Err(bad(
                "its manifest_fingerprint does not match its contents: queries.json was edited (the fingerprint covers every field, e.g. samples_per_time, score.times, flowmap.times, flowmap.lambda, samples_per_segment); regenerate the queries with `flowcert queries`".into(),
            ));
        }
        let mut mixture = manifest
            .mixture
            .check()
            .map_err(|e| bad(format!("its mixture is invalid: {e}")))?;
        if let Some(p) = &manifest.process {
            let p = p
                .check()
                .map_err(|e| bad(format!("its process is invalid: {e}")))?;
            mixture = mixture.with_process(p);
        }
        if mixture_hash(&mixture) != manifest.mixture_hash || mixture.dim() != manifest.dim {
            return Err(bad(
                "the mixture does not match mixture_hash: the manifest was edited; regenerate the queries".into(),
            ));
        }
        let d = mixture.dim();
        let read = |f: &QueryFile, width: usize| -> Result<DMatrix<f64>, AssessError> {
            let p = dir.join(&f.npy);
            let ps = p.display().to_string();
            let malformed = |message: String| AssessError::Malformed {
                path: ps.clone(),
                message,
            };
            if f.rows > MAX_ROWS || std::path::Path::new(&f.npy).components().count() != 1 {
                return Err(malformed(format!(
                    "queries.json names {} rows in file '{}': at most {MAX_ROWS} rows, in a file of the query directory itself; regenerate the queries",
                    f.rows, f.npy
                )));
            }
            let size = f.rows * width * 8 + 12 + limits::MAX_NPY_HEADER_BYTES;
            let bytes = match limits::read_limited(&p, "query", size as u64) {
                Ok(b) => b,
                Err(limits::LimitError::Unreadable { reason, .. }) => {
                    return Err(AssessError::Unreadable {
                        path: ps.clone(),
                        source: std::io::Error::other(reason),
                    });
                }
                Err(e) => return Err(malformed(e.to_string())),
            };
            if format!("{:016x}", seed::fnv1a(&bytes)) != f.fingerprint {
                return Err(AssessError::Malformed {
                    path: ps,
                    message: "its fingerprint differs from queries.json: the query file was changed; regenerate the queries".into(),
                });
            }
            let a = from_npy(&bytes).map_err(|e| AssessError::Malformed {
                path: ps.clone(),
                message: e.to_string(),
            })?;
            if a.shape != [f.rows, width] {
                return Err(AssessError::Malformed {
                    path: ps,
                    message: format!(
                        "shape {:?} is not ({}, {width}) as queries.json says",
                        a.shape, f.rows
                    ),
                });
            }
            Ok(DMatrix::from_column_slice(width, f.rows, &a.data))
        };
        let score = read(&manifest.score.file, 1 + d)?;
        let flowmap = read(&manifest.flowmap.file, 3 + d)?;
        let rollout = read(&manifest.flowmap.rollout, 2 + d)?;
        let set = QuerySet {
            manifest,
            mixture,
            score,
            flowmap,
            rollout,
        };
        set.validate().map_err(|e| match e {
            AssessError::Malformed { message, .. } => bad(message),
            other => other,
        })?;
        Ok(set)
    }

    /// Check that the manifest and the query matrices agree before anything is indexed:
    /// the dimension; score times (non-empty, distinct, in `(0, MAX_TIME]`), their row
    /// count `samples_per_time x times` and the time column of each block; the grid (`N`
    /// segments, `N + 1` strictly increasing times, `N + 1` finite non-decreasing
    /// `lambda` from 0), `samples_per_segment x N` rows and each row's segment and times;
    /// the rollout rows from `T` to `t_min`; every coordinate finite.
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.5], samples: 3, seed: 1, grid: GridKind::Uniform,
    ///     segments: 2, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let mut q = QuerySet::generate(&mix, &cfg).unwrap();
    /// assert!(q.validate().is_ok());
    /// q.manifest.score.times.clear();
    /// assert!(q.validate().unwrap_err().to_string().contains("score.times"));
    /// ```
    pub fn validate(&self) -> Result<(), AssessError> {
        let m = &self.manifest;
        let d = self.mixture.dim();
        let bad = |message: String| {
            Err(AssessError::Malformed {
                path: MANIFEST.into(),
                message: format!("{message}; regenerate the queries with `flowcert queries`"),
            })
        };
        if m.dim != d {
            return bad(format!("dim {} is not the mixture's d = {d}", m.dim));
        }
        let time_ok = |t: f64| t.is_finite() && t > 0.0 && t <= MAX_TIME;
        // Score queries.
        let s = &m.score;
        if s.times.is_empty() {
            return bad("score.times is empty: an assessment needs at least one time".into());
        }
        if let Some(t) = s.times.iter().find(|t| !time_ok(**t)) {
            return bad(format!(
                "score.times holds {t}, not an OU time in (0, {MAX_TIME}]"
            ));
        }
        if s.times
            .iter()
            .enumerate()
            .any(|(i, t)| s.times[..i].contains(t))
        {
            return bad("score.times lists a time twice".into());
        }
        if s.samples_per_time < 2 {
            return bad(format!(
                "score.samples_per_time is {}: at least 2",
                s.samples_per_time
            ));
        }
        let n = s.samples_per_time;
        if n.checked_mul(s.times.len()) != Some(s.file.rows)
            || self.score.shape() != (1 + d, s.file.rows)
        {
            return bad(format!(
                "score: samples_per_time {} x {} times is not the {} rows of {} ({} columns of {})",
                n,
                s.times.len(),
                s.file.rows,
                s.file.npy,
                self.score.ncols(),
                self.score.nrows()
            ));
        }
        for (i, &t) in s.times.iter().enumerate() {
            if let Some(r) = (i * n..(i + 1) * n).find(|&r| self.score[(0, r)] != t) {
                return bad(format!(
                    "row {r} of {} has t = {} but score.times[{i}] = {t}",
                    s.file.npy,
                    self.score[(0, r)]
                ));
            }
        }
        // Flow-map queries.
        let f = &m.flowmap;
        if f.segments == 0 || f.times.len() != f.segments.saturating_add(1) {
            return bad(format!(
                "flowmap.segments is {} but flowmap.times has {} entries (segments + 1 needed)",
                f.segments,
                f.times.len()
            ));
        }
        if f.lambda.len() != f.times.len() {
            return bad(format!(
                "flowmap.lambda has {} entries but flowmap.times has {}",
                f.lambda.len(),
                f.times.len()
            ));
        }
        if f.times.iter().any(|t| !time_ok(*t)) || f.times.windows(2).any(|w| w[0] >= w[1]) {
            return bad("flowmap.times must be strictly increasing OU times".into());
        }
        if f.lambda[0] != 0.0
            || f.lambda.iter().any(|l| !l.is_finite())
            || f.lambda.windows(2).any(|w| w[0] > w[1])
        {
            return bad("flowmap.lambda must start at 0 and be finite and non-decreasing".into());
        }
        let k = f.samples_per_segment;
        if k == 0
            || k.checked_mul(f.segments) != Some(f.file.rows)
            || self.flowmap.shape() != (3 + d, f.file.rows)
        {
            return bad(format!(
                "flowmap: samples_per_segment {k} x {} segments is not the {} rows of {} ({} columns of {})",
                f.segments,
                f.file.rows,
                f.file.npy,
                self.flowmap.ncols(),
                self.flowmap.nrows()
            ));
        }
        for i in 1..f.times.len() {
            let want = [i as f64, f.times[i], f.times[i - 1]];
            if let Some(r) =
                ((i - 1) * k..i * k).find(|&r| (0..3).any(|c| self.flowmap[(c, r)] != want[c]))
            {
                return bad(format!(
                    "row {r} of {} is not a query of segment {i} ({} -> {})",
                    f.file.npy, want[1], want[2]
                ));
            }
        }
        let (top, bottom) = (f.times[f.times.len() - 1], f.times[0]);
        if f.rollout.rows == 0 || self.rollout.shape() != (2 + d, f.rollout.rows) {
            return bad(format!(
                "rollout: {} rows in the manifest, {} columns of {} in {}",
                f.rollout.rows,
                self.rollout.ncols(),
                self.rollout.nrows(),
                f.rollout.npy
            ));
        }
        if let Some(r) = (0..f.rollout.rows)
            .find(|&r| self.rollout[(0, r)] != top || self.rollout[(1, r)] != bottom)
        {
            return bad(format!(
                "row {r} of {} does not run from T = {top} to t_min = {bottom}",
                f.rollout.npy
            ));
        }
        for (name, q) in [
            (&s.file.npy, &self.score),
            (&f.file.npy, &self.flowmap),
            (&f.rollout.npy, &self.rollout),
        ] {
            if let Some(v) = q
                .iter()
                .find(|v| !(v.is_finite() && v.abs() <= limits::MAX_ABS_COORDINATE))
            {
                return bad(format!(
                    "{name} holds {v}: every entry must be finite and within {:e}",
                    limits::MAX_ABS_COORDINATE
                ));
            }
        }
        Ok(())
    }

    /// The identity of the score queries.
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.5], samples: 3, seed: 9, grid: GridKind::Uniform,
    ///     segments: 1, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let q = QuerySet::generate(&mix, &cfg).unwrap();
    /// assert_eq!(q.score_identity().seed, 9);
    /// assert_ne!(q.score_identity(), q.flowmap_identity());
    /// ```
    pub fn score_identity(&self) -> QueryIdentity {
        QueryIdentity {
            mixture_hash: self.manifest.mixture_hash.clone(),
            seed: self.manifest.seed,
            fingerprint: self.manifest.score.file.fingerprint.clone(),
        }
    }

    /// The identity of the flow-map queries (segment and rollout files together).
    ///
    /// ```
    /// use flowcert::grids::GridKind;
    /// use flowcert::theorems::assess::{QueryConfig, QuerySet};
    /// let mix = flowcert::model::builtin::two_mode(0.1);
    /// let cfg = QueryConfig { times: vec![0.5], samples: 3, seed: 9, grid: GridKind::Uniform,
    ///     segments: 1, t_min: 0.01, t_max: 1.0 }.check().unwrap();
    /// let id = QuerySet::generate(&mix, &cfg).unwrap().flowmap_identity();
    /// assert_eq!(id.fingerprint.len(), 33);
    /// ```
    pub fn flowmap_identity(&self) -> QueryIdentity {
        let f = &self.manifest.flowmap;
        QueryIdentity {
            mixture_hash: self.manifest.mixture_hash.clone(),
            seed: self.manifest.seed,
            fingerprint: format!("{}-{}", f.file.fingerprint, f.rollout.fingerprint),
        }
    }
}
