//! Saved baselines and the regression comparison.
//!
//! ```text
//! regressed   current > baseline (1 + tolerance) + ABS_FLOOR   (or current not finite)
//! improved    current < baseline (1 - tolerance) - ABS_FLOOR
//! same        otherwise;   new: a metric the baseline lacks (never a regression)
//! ```
//! A baseline is the JSON of an assessment (`--save-baseline` writes it atomically); only
//! its `kind`, `queries` and `metrics` fields are read. Per-time metrics are named
//! `NAME@t=T` with `T` to the fewest significant digits (3 or more) that tell the times
//! apart ([`time_labels`]); baselines saved with the full float text of `T` (as flowcert wrote
//! them before) are read and renamed to the short names ([`short_metric_names`]). It must come from the same kind of
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
    let mut b: Baseline = serde_json::from_str(&text).map_err(|e| AssessError::Malformed {
        path: shown,
        message: format!(
            "not a flowcert assessment ({e}); save one with `flowcert assess ... --save-baseline FILE`"
        ),
    })?;
    b.metrics = short_metric_names(b.metrics);
    Ok(b)
}

/// Labels of the query times in metric names: each time to the fewest significant digits
/// (at least 3) that keep all of them distinct.
///
/// ```
/// use flowcert::theorems::assess::baseline::time_labels;
/// assert_eq!(time_labels(&[0.019306977288832503, 0.1, 1.0]), ["0.0193", "0.100", "1.00"]);
/// assert_eq!(time_labels(&[1.0001, 1.0002]), ["1.0001", "1.0002"]);
/// ```
pub fn time_labels(times: &[f64]) -> Vec<String> {
    for digits in 3..=17 {
        let labels: Vec<String> = times
            .iter()
            .map(|&t| crate::digits::sig(t, digits))
            .collect();
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() == labels.len() {
            return labels;
        }
    }
    times.iter().map(|t| t.to_string()).collect()
}

/// Metric names `NAME@t=T` with `T` relabelled by [`time_labels`] over the times the
/// names mention (so a baseline with full float text matches today's short names; short
/// names are left as they are).
///
/// ```
/// use std::collections::BTreeMap;
/// use flowcert::theorems::assess::baseline::short_metric_names;
/// let old = BTreeMap::from([("l1@t=0.019306977288832503".to_string(), 1.0), ("sup_l2".to_string(), 2.0)]);
/// let new = short_metric_names(old);
/// assert_eq!(new.keys().collect::<Vec<_>>(), ["l1@t=0.0193", "sup_l2"]);
/// assert_eq!(short_metric_names(new.clone()), new);
/// ```
pub fn short_metric_names(metrics: BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let time_of = |name: &str| -> Option<(String, f64)> {
        let (prefix, t) = name.split_once("@t=")?;
        Some((prefix.to_string(), t.parse::<f64>().ok()?))
    };
    let mut times: Vec<f64> = metrics
        .keys()
        .filter_map(|k| time_of(k))
        .map(|(_, t)| t)
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let labels = time_labels(&times);
    metrics
        .into_iter()
        .map(|(k, v)| match time_of(&k) {
            Some((prefix, t)) => {
                let i = times.iter().position(|&x| x == t).unwrap_or(0);
                (format!("{prefix}@t={}", labels[i]), v)
            }
            None => (k, v),
        })
        .collect()
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
