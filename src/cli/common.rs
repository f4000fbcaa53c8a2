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

/// The name of a `--mixture` argument in reports: the built-in's name, or the file stem.
pub fn mixture_name(arg: &str) -> String {
    if let Some(b) = arg.strip_prefix("builtin:") {
        b.to_string()
    } else {
        std::path::Path::new(arg)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "mixture".into())
    }
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

/// Progress for the library's long jobs on stderr: on a terminal, one indicatif bar per
/// stage labelled "[k/n] stage"; redirected (not a terminal), one line per finished stage;
/// nothing under --json. Either way a finished stage leaves a line with its count and
/// seconds.
pub struct Bars {
    json: bool,
    tty: bool,
    state: std::sync::Mutex<BarsState>,
}

#[derive(Default)]
struct BarsState {
    bar: Option<ProgressBar>,
    stages: Vec<String>,
    label: String,
    total: u64,
    done: u64,
    started: Option<std::time::Instant>,
}

impl Bars {
    pub fn new(json: bool) -> Self {
        Bars {
            json,
            tty: std::io::stderr().is_terminal(),
            state: std::sync::Mutex::new(BarsState::default()),
        }
    }
}

impl flowcert::suite::Progress for Bars {
    fn stages(&self, names: &[&str]) {
        if let Ok(mut s) = self.state.lock() {
            s.stages = names.iter().map(|n| n.to_string()).collect();
        }
    }
    fn stage(&self, name: &str, total: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.label = match s.stages.iter().position(|n| n == name) {
                Some(k) => format!("[{}/{}] {name}", k + 1, s.stages.len()),
                None => name.to_string(),
            };
            s.total = total;
            s.done = 0;
            s.started = Some(std::time::Instant::now());
            s.bar = (self.tty && !self.json).then(|| progress(total, false, &s.label));
        }
    }
    fn tick(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.done += 1;
            if let Some(b) = s.bar.as_ref() {
                b.inc(1);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(b) = s.bar.take() {
                b.finish_and_clear();
            }
            if !self.json {
                let secs = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                eprintln!("{}: {}/{} done in {secs:.1} s", s.label, s.done, s.total);
            }
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
