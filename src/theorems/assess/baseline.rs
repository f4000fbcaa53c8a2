//! Saved baselines and the regression comparison.
//!
//! ```text
//! regressed   current > baseline (1 + tolerance) + ABS_FLOOR   (or current not finite)
//! improved    current < baseline (1 - tolerance) - ABS_FLOOR
//! same        otherwise;   new: a metric the baseline lacks (never a regression)
//! ```
//! A baseline is the JSON of an assessment (`--save-baseline` writes it atomically); only
//! its `kind`, `queries` and `metrics` fields are read. It must come from the same kind of
//! assessment on the same query files (mixture hash, seed and fingerprint); a metric of the
//! baseline that the current run lacks (e.g. the end-to-end error without `--rollout`) is
//! an error, since the check would silently lose coverage.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::AssessError;
use super::queries::QueryIdentity;

/// Absolute slack of the comparison: rounding-level changes of metrics that are zero in the
/// baseline (an exact model) are not regressions.
pub const ABS_FLOOR: f64 = 1e-12;

/// What a baseline file holds (other fields of the saved assessment are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Baseline {
    /// `score` or `flowmap`.
    pub kind: String,
    /// The query files it was measured on.
    pub queries: QueryIdentity,
    /// Metric name -> value (lower is better).
    pub metrics: BTreeMap<String, f64>,
}

/// One metric against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricChange {
    /// Metric name.
    pub name: String,
    /// Baseline value (None: a new metric).
    pub baseline: Option<f64>,
    /// Current value.
    pub current: f64,
    /// `current / baseline - 1` (None when the baseline is 0 or missing).
    pub relative_change: Option<f64>,
    /// `regressed`, `improved`, `same` or `new`.
    pub status: String,
}

/// The comparison of a run with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Relative tolerance used.
    pub tolerance: f64,
    /// Every metric.
    pub changes: Vec<MetricChange>,
    /// Number of regressed metrics.
    pub regressions: usize,
}

/// Read a baseline file.
///
/// ```
/// let e = flowcert::theorems::assess::baseline::load_baseline(std::path::Path::new("/no/such.json"));
/// assert!(e.is_err());
/// ```
pub fn load_baseline(path: &Path) -> Result<Baseline, AssessError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| AssessError::Unreadable {
        path: shown.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| AssessError::Malformed {
        path: shown,
        message: format!(
            "not a flowcert assessment ({e}); save one with `flowcert assess ... --save-baseline FILE`"
        ),
    })
}

/// Compare current metrics with a baseline (module doc for the rule).
///
/// ```
/// use std::collections::BTreeMap;
/// use flowcert::theorems::assess::{Baseline, QueryIdentity, compare};
/// let id = QueryIdentity { mixture_hash: "h".into(), seed: 0, fingerprint: "f".into() };
/// let base = Baseline { kind: "score".into(), queries: id.clone(),
///     metrics: BTreeMap::from([("sup_l2".to_string(), 1.0)]) };
/// let now = BTreeMap::from([("sup_l2".to_string(), 1.05)]);
/// assert_eq!(compare("score", &id, &now, &base, 0.1).unwrap().regressions, 0);
/// let now = BTreeMap::from([("sup_l2".to_string(), 1.2)]);
/// assert_eq!(compare("score", &id, &now, &base, 0.1).unwrap().regressions, 1);
/// assert!(compare("flowmap", &id, &now, &base, 0.1).is_err());
/// ```
pub fn compare(
    kind: &str,
    identity: &QueryIdentity,
    metrics: &BTreeMap<String, f64>,
    baseline: &Baseline,
    tolerance: f64,
) -> Result<Comparison, AssessError> {
    compare_mutated(kind, identity, metrics, baseline, tolerance, None)
}

/// Deliberately wrong versions of the comparison, kept so that the tests show the assess
/// verdict can fail (README.md, "How we know the tests can fail"): never use them for a
/// real check.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutation {
    /// "Lower is better" read the wrong way round: a metric that grew is `improved`, one
    /// that shrank `regressed`.
    FlippedDirection,
}

/// [`compare`] with a deliberately wrong rule ([`Mutation`]; `None` is the real one), for
/// the tests that show the verdict can fail.
#[doc(hidden)]
pub fn compare_mutated(
    kind: &str,
    identity: &QueryIdentity,
    metrics: &BTreeMap<String, f64>,
    baseline: &Baseline,
    tolerance: f64,
    mutation: Option<Mutation>,
) -> Result<Comparison, AssessError> {
    let bad = |message: String| AssessError::Malformed {
        path: "--baseline".into(),
        message,
    };
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(AssessError::BadSetting {
            field: "--tolerance",
            value: tolerance.to_string(),
            fix: "give a finite relative tolerance >= 0, e.g. 0.1 for 10%".into(),
        });
    }
    if baseline.kind != kind {
        return Err(bad(format!(
            "is a {} baseline but this is `assess {kind}`: give a baseline saved by `assess {kind}`",
            baseline.kind
        )));
    }
    if &baseline.queries != identity {
        return Err(bad(format!(
            "was measured on other queries (mixture {} seed {} fingerprint {}; now mixture {} seed {} fingerprint {}): re-save it with --save-baseline on these queries",
            baseline.queries.mixture_hash,
            baseline.queries.seed,
            baseline.queries.fingerprint,
            identity.mixture_hash,
            identity.seed,
            identity.fingerprint
        )));
    }
    if let Some(name) = baseline.metrics.keys().find(|k| !metrics.contains_key(*k)) {
        return Err(bad(format!(
            "has metric '{name}' that this run does not measure: run with the same options as when the baseline was saved (e.g. --rollout)"
        )));
    }
    let mut changes = Vec::with_capacity(metrics.len());
    for (name, &current) in metrics {
        let base = baseline.metrics.get(name).copied();
        let (status, rel) = match base {
            None => ("new", None),
            Some(b) => {
                let rel = (b != 0.0).then(|| current / b - 1.0);
                let (grew, shrank) = (
                    current > b * (1.0 + tolerance) + ABS_FLOOR,
                    current < b * (1.0 - tolerance) - ABS_FLOOR,
                );
                let (worse, better) = match mutation {
                    Some(Mutation::FlippedDirection) => (shrank, grew),
                    None => (grew, shrank),
                };
                let status = if !current.is_finite() && b.is_finite() || worse {
                    "regressed"
                } else if better {
                    "improved"
                } else {
                    "same"
                };
                (status, rel)
            }
        };
        changes.push(MetricChange {
            name: name.clone(),
            baseline: base,
            current,
            relative_change: rel,
            status: status.into(),
        });
    }
    let regressions = changes.iter().filter(|c| c.status == "regressed").count();
    Ok(Comparison {
        tolerance,
        changes,
        regressions,
    })
}
