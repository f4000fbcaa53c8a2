//! Pieces shared by the subcommands: loading inputs, printing, progress bars.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use flowcert::model::Mixture;

/// Print a JSON document (pretty, one trailing newline) on stdout, streamed through a
/// buffer rather than formatted into one string first.
pub fn print_json<T: Serialize>(v: &T) -> Result<()> {
    use std::io::{ErrorKind, Write};
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, v)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        // A closed pipe (`flowcert ... --json | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// `--method`: the Runge-Kutta pair of the exact flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Dormand-Prince 5(4).
    Dopri5,
    /// Dormand-Prince 8(5,3).
    Dop853,
}

impl From<MethodArg> for flowcert::dynamics::Method {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Dopri5 => flowcert::dynamics::Method::Dopri5,
            MethodArg::Dop853 => flowcert::dynamics::Method::Dop853,
        }
    }
}

/// `--precision`: the arithmetic of the students' training steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrecisionArg {
    /// Single precision (the experiment's default).
    F32,
    /// Double precision (bit-identical to the reference forward/backward pass).
    F64,
}

impl From<PrecisionArg> for flowcert::nn::Precision {
    fn from(p: PrecisionArg) -> Self {
        match p {
            PrecisionArg::F32 => flowcert::nn::Precision::F32,
            PrecisionArg::F64 => flowcert::nn::Precision::F64,
        }
    }
}

/// `--schedule`: the students' learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScheduleArg {
    /// The base rate throughout.
    Constant,
    /// Cosine decay from the base rate to `--lr-final` times it at the last step.
    Cosine,
}

impl ScheduleArg {
    /// The schedule, with the final fraction of a cosine decay checked.
    pub fn schedule(self, lr_final: f64) -> Result<flowcert::nn::LrSchedule> {
        Ok(match self {
            ScheduleArg::Constant => flowcert::nn::LrSchedule::Constant,
            ScheduleArg::Cosine => {
                if !(lr_final.is_finite() && (0.0..=1.0).contains(&lr_final)) {
                    bail!("--lr-final {lr_final} must be a fraction in [0, 1], e.g. 0.01");
                }
                flowcert::nn::LrSchedule::Cosine {
                    final_fraction: lr_final,
                }
            }
        })
    }
}

/// Load a mixture file or `builtin:NAME`.
pub fn mixture(path: &str) -> Result<Mixture> {
    Ok(flowcert::io::load_mixture(path)?)
}

/// A time argument that must be finite and > 0.
pub fn time(flag: &str, t: f64) -> Result<f64> {
    if !(t.is_finite() && t > 0.0) {
        bail!("{flag} {t} is not a valid OU time: give a finite number > 0");
    }
    Ok(t)
}

/// A progress bar on stderr, hidden under --json or when stderr is not a terminal.
pub fn progress(len: u64, json: bool, msg: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_string());
    pb
}

/// Format a vector compactly for tables.
pub fn vec_str(v: &[f64]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| flowcert::report::sig(*x, 6))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Progress for the library's long jobs: one indicatif bar per stage on stderr,
/// hidden under --json or when stderr is not a terminal.
pub struct Bars {
    json: bool,
    bar: std::sync::Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(json: bool) -> Self {
        Bars {
            json,
            bar: std::sync::Mutex::new(None),
        }
    }
}

impl flowcert::suite::Progress for Bars {
    fn stage(&self, name: &str, total: u64) {
        if let Ok(mut b) = self.bar.lock() {
            *b = Some(progress(total, self.json, name));
        }
    }
    fn tick(&self) {
        if let Ok(b) = self.bar.lock()
            && let Some(b) = b.as_ref()
        {
            b.inc(1);
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(b) = b.take()
        {
            b.finish_and_clear();
        }
    }
}

/// Parse a comma-separated list of numbers; `flag` names it in errors.
pub fn list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse() {
            Ok(v) => out.push(v),
            Err(_) => bail!(
                "{flag} '{s}': '{part}' is not a valid value; give a comma-separated list such as 1,2,4,8"
            ),
        }
    }
    if out.is_empty() {
        bail!("{flag} is empty; give a comma-separated list such as 1,2,4,8");
    }
    Ok(out)
}
