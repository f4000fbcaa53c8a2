//! Where a run's time goes: wall-clock seconds per section of `flowcert reproduce`.
//!
//! Timings never enter summary.json (which must be byte-identical across runs); the
//! binary writes them to `DIR/timings.json` and prints them at the end of the run.

use std::time::Instant;

use serde::Serialize;

/// Wall-clock time of one section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionTime {
    /// The section's name (as in the progress bars).
    pub section: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// CPU seconds of the whole process (user + system, every thread) over the section,
    /// where the platform reports them (Linux: `/proc/self/stat`). Unlike the wall clock
    /// this hardly depends on other jobs sharing the machine; `cpu / wall` is the section's
    /// parallelism.
    pub cpu_seconds: Option<f64>,
}

/// Wall-clock time of each section of a run, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// One entry per section.
    pub sections: Vec<SectionTime>,
}

impl Timings {
    /// Run `f`, recording its wall-clock time under `section`.
    ///
    /// ```
    /// let mut t = flowcert::suite::Timings::default();
    /// let x = t.time("add", || 1 + 1);
    /// assert_eq!((x, t.sections[0].section.as_str()), (2, "add"));
    /// assert!(t.total() >= 0.0);
    /// ```
    pub fn time<T>(&mut self, section: &str, f: impl FnOnce() -> T) -> T {
        let (start, cpu0) = (Instant::now(), process_cpu_seconds());
        let out = f();
        self.sections.push(SectionTime {
            section: section.to_string(),
            seconds: start.elapsed().as_secs_f64(),
            cpu_seconds: cpu0.zip(process_cpu_seconds()).map(|(a, b)| b - a),
        });
        out
    }

    /// Sum over sections.
    pub fn total(&self) -> f64 {
        self.sections.iter().map(|s| s.seconds).sum()
    }

    /// Sum of the CPU seconds over sections (`None` where the platform does not say).
    pub fn total_cpu(&self) -> Option<f64> {
        self.sections.iter().map(|s| s.cpu_seconds).sum()
    }
}

/// User + system CPU seconds of this process so far, from `/proc/self/stat` (fields 14
/// and 15, in clock ticks of 1/100 s on Linux); `None` elsewhere.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
