//! `run.json`: what one run of `reproduce`, `distill --out` or `merge` did, beside its
//! results. summary.json holds results only (byte-identical across runs); the record holds
//! what varies: which sections were computed, read back from the store or left to another
//! shard, their wall-clock seconds, the machine's threads, and, for `distill`, the plan
//! itself, so that `flowcert merge` can tell what a directory holds (its kind, scale and
//! shard) without being told.
//!
//! The seconds are what `scripts/timing.sh` compares with the figures documented in
//! [`super::timing`] (a drift check outside the test suite: timings are never asserted in
//! tests).

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Scale;
use crate::dynamics::Teacher;
use crate::experiments::Shard;
use crate::experiments::distill::DistillPlan;
use crate::grids::GridKind;
use crate::model::{MixtureSpec, ModelError};
use crate::nn::StudentBudget;

/// The file name of a run record in an output directory.
pub const RECORD_FILE: &str = "run.json";

/// What produced a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// `flowcert reproduce` (the built-in suite at a scale).
    Reproduce,
    /// `flowcert distill --out` (a user's distillation sweep).
    Distill,
}

/// Where a section's results came from in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Computed now.
    Computed,
    /// Read back from the directory's store (a resumed run, or a merge).
    Stored,
    /// Not run here: it belongs to shard 0.
    Skipped,
}

/// One section of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionRecord {
    /// Section name (as in the progress display).
    pub name: String,
    /// Where its results came from.
    pub source: Source,
    /// Wall-clock seconds spent on it in this run.
    pub seconds: f64,
    /// CPU seconds (user + system, all threads) the process spent since the previous
    /// section was recorded (or the record was made): with `seconds`, how many cores the
    /// section kept busy. `None` where the platform does not say (Linux only).
    #[serde(default)]
    pub cpu_seconds: Option<f64>,
}

/// CPU seconds (user + system, every thread) this process has used so far: fields 14 and
/// 15 of `/proc/self/stat`, in clock ticks of 1/100 s (Linux's `USER_HZ` as user space
/// sees it); `None` off Linux or when the file cannot be read.
///
/// ```
/// let a = flowcert::suite::record::process_cpu_seconds();
/// if cfg!(target_os = "linux") { assert!(a.unwrap() >= 0.0); }
/// ```
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A distillation plan as data (mixtures by value), so a directory says what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillSpec {
    /// Named mixtures.
    pub mixtures: Vec<(String, MixtureSpec)>,
    /// Grid kinds.
    pub grids: Vec<GridKind>,
    /// Segment counts.
    pub segments: Vec<usize>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// `t_min`.
    pub t_min: f64,
    /// `T`.
    pub t_max: f64,
    /// Student budget.
    pub budget: StudentBudget,
    /// Evaluation samples.
    pub eval_samples: usize,
    /// The teacher's solver.
    pub teacher: Teacher,
}

impl DistillSpec {
    /// The spec of a plan.
    pub fn of(plan: &DistillPlan) -> Self {
        DistillSpec {
            mixtures: plan
                .mixtures
                .iter()
                .map(|(n, m)| (n.clone(), m.to_spec()))
                .collect(),
            grids: plan.grids.clone(),
            segments: plan.segments.clone(),
            seeds: plan.seeds.clone(),
            t_min: plan.t_min,
            t_max: plan.t_max,
            budget: plan.budget,
            eval_samples: plan.eval_samples,
            teacher: plan.teacher,
        }
    }

    /// The plan back (mixtures re-validated).
    pub fn plan(&self) -> Result<DistillPlan, ModelError> {
        Ok(DistillPlan {
            mixtures: self
                .mixtures
                .iter()
                .map(|(n, m)| Ok((n.clone(), m.check()?)))
                .collect::<Result<_, ModelError>>()?,
            grids: self.grids.clone(),
            segments: self.segments.clone(),
            seeds: self.seeds.clone(),
            t_min: self.t_min,
            t_max: self.t_max,
            budget: self.budget,
            eval_samples: self.eval_samples,
            teacher: self.teacher,
        })
    }
}

/// The record of one run (module doc).
///
/// ```
/// use flowcert::experiments::Shard;
/// use flowcert::suite::{Scale, record::{RunKind, RunRecord, Source}};
/// let mut r = RunRecord::new(RunKind::Reproduce, Some(Scale::Tiny), Shard::ALL);
/// let t = std::time::Instant::now();
/// r.section("bounds", Source::Computed, t);
/// assert_eq!(r.sections[0].source, Source::Computed);
/// assert_eq!(r.shard, "0/1");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// flowcert version.
    pub version: String,
    /// What ran.
    pub kind: RunKind,
    /// The suite's scale (`reproduce`).
    pub scale: Option<Scale>,
    /// The shard, `i/n` (`0/1` for a whole run; `none` for a merge, which computes nothing).
    pub shard: String,
    /// `true` for the directory `flowcert merge` wrote.
    pub merged: bool,
    /// Sections in order.
    pub sections: Vec<SectionRecord>,
    /// Distillation cells finished in this directory, and those still missing.
    pub distill_cells: usize,
    /// Distillation cells not in the directory (other shards).
    pub distill_missing: usize,
    /// Wall-clock seconds of the whole run (computation and report).
    pub seconds: f64,
    /// Worker threads (rayon) the run used.
    pub threads: usize,
    /// The plan of a `distill` run.
    pub distill: Option<DistillSpec>,
    /// Process CPU seconds when the last section was recorded (or the record made).
    #[serde(skip)]
    cpu_mark: Option<f64>,
}

impl RunRecord {
    /// An empty record.
    pub fn new(kind: RunKind, scale: Option<Scale>, shard: Shard) -> Self {
        RunRecord {
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind,
            scale,
            shard: shard.to_string(),
            merged: false,
            sections: Vec::new(),
            distill_cells: 0,
            distill_missing: 0,
            seconds: 0.0,
            threads: rayon::current_num_threads(),
            distill: None,
            cpu_mark: process_cpu_seconds(),
        }
    }

    /// Record a section that started at `since`; its CPU seconds are those used since
    /// the previous section was recorded (sections are recorded one after the other).
    pub fn section(&mut self, name: &str, source: Source, since: Instant) {
        let now = process_cpu_seconds();
        let cpu_seconds = now.zip(self.cpu_mark).map(|(b, a)| (b - a).max(0.0));
        self.cpu_mark = now;
        self.sections.push(SectionRecord {
            name: name.to_string(),
            source,
            seconds: since.elapsed().as_secs_f64(),
            cpu_seconds,
        });
    }

    /// Read `DIR/run.json`; `None` when the directory has none.
    pub fn read(dir: &Path) -> Option<Result<RunRecord, serde_json::Error>> {
        let text = std::fs::read_to_string(dir.join(RECORD_FILE)).ok()?;
        Some(serde_json::from_str(&text))
    }

    /// The record as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
