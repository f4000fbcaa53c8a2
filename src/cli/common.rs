//! Pieces shared by the subcommands: loading inputs, printing, progress bars.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use flowcert::model::Mixture;
use flowcert::model::process::{Process, ProcessInfo, ProcessSpec};

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

/// Load a mixture file or `builtin:NAME`.
pub fn mixture(path: &str) -> Result<Mixture> {
    Ok(flowcert::io::load_mixture(path)?)
}

/// `--process NAME` and its parameters: the Gaussian path that noises the mixture
/// (theory/07-gaussian-paths.md). The default `ou` keeps every command as it was.
#[derive(Debug, Clone, clap::Args)]
pub struct ProcessArgs {
    /// Noising path: ou (default), vp-linear, vp-cosine, edm, rectified.
    #[arg(long = "process", default_value = "ou")]
    pub name: String,
    /// vp-linear: beta(0) (default 0.1).
    #[arg(long, allow_hyphen_values = true)]
    pub beta_min: Option<f64>,
    /// vp-linear: beta(1) (default 20).
    #[arg(long, allow_hyphen_values = true)]
    pub beta_max: Option<f64>,
    /// vp-cosine: the offset s (default 0.008).
    #[arg(long, allow_hyphen_values = true)]
    pub cosine_s: Option<f64>,
    /// edm: the smallest time = noise level (default 0.002).
    #[arg(long, allow_hyphen_values = true)]
    pub sigma_min: Option<f64>,
    /// edm: the largest time = noise level (default 80).
    #[arg(long, allow_hyphen_values = true)]
    pub sigma_max: Option<f64>,
}

impl ProcessArgs {
    /// The validated path.
    pub fn check(&self) -> Result<Process> {
        Ok(ProcessSpec {
            name: self.name.clone(),
            beta_min: self.beta_min,
            beta_max: self.beta_max,
            cosine_s: self.cosine_s,
            sigma_min: self.sigma_min,
            sigma_max: self.sigma_max,
        }
        .check()?)
    }
}

/// Load a mixture file or `builtin:NAME` and put it on the path of `--process`.
pub fn mixture_on(path: &str, process: &ProcessArgs) -> Result<Mixture> {
    let p = process.check()?;
    Ok(mixture(path)?.with_process(p))
}

/// A time argument of the mixture's path: for OU as [`time`], otherwise in the path's
/// domain (the message names the valid range).
pub fn time_on(mix: &Mixture, flag: &str, t: f64) -> Result<f64> {
    if mix.process().is_ou() {
        return time(flag, t);
    }
    Ok(mix.check_path_time(flag, t)?)
}

/// A JSON document with a `process` field (name and parameters) after its own fields.
#[derive(Serialize)]
struct OnProcess<'a, T: Serialize> {
    #[serde(flatten)]
    doc: &'a T,
    process: ProcessInfo,
}

/// [`print_json`] with the `process` field of the mixture's path.
pub fn print_json_on<T: Serialize>(v: &T, process: &Process) -> Result<()> {
    print_json(&OnProcess {
        doc: v,
        process: process.info(),
    })
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
