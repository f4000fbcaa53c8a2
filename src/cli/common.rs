//! Pieces shared by the subcommands: loading inputs, printing, progress bars.

use std::io::IsTerminal;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use flowcert::model::Mixture;
use flowcert::model::process::{Process, ProcessInfo, ProcessSpec};

/// The one way a command prints its result on stdout: `value` as one JSON document under
/// `--json` (streamed through a buffer rather than formatted into one string first), else
/// the text `table` renders. Either way `value` passes the final guard first (a NaN or inf
/// anywhere in it is an error naming the quantity, never printed). A closed pipe
/// (`flowcert ... | head`) ends the output quietly (the reader's choice: exit status 0 as
/// if the whole output had been read); any other write error (a full disk,
/// `> /dev/full`) is an error (exit 2).
pub fn emit<T: Serialize + ?Sized>(
    json: bool,
    value: &T,
    table: impl FnOnce() -> Result<String>,
) -> Result<()> {
    flowcert::io::check_finite(value)?;
    if json {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush());
        stdout_result(written)
    } else {
        write_stdout(&table()?)
    }
}

/// Write `text` to stdout: quietly nothing more on a closed pipe, an error on any other
/// write failure.
pub fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    stdout_result(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

fn stdout_result(written: std::io::Result<()>) -> Result<()> {
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => bail!(
            "cannot write the output to stdout: {e}; check where stdout goes (a full disk, a closed file), or write to a file with enough space"
        ),
    }
}

/// A note for the user on stderr (never fails: a closed stderr only loses the note).
pub fn note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
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

/// [`emit`] with the `process` field of the mixture's path in the JSON document.
pub fn emit_on<T: Serialize>(
    json: bool,
    v: &T,
    process: &Process,
    table: impl FnOnce() -> Result<String>,
) -> Result<()> {
    emit(
        json,
        &OnProcess {
            doc: v,
            process: process.info(),
        },
        table,
    )
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

/// A time argument that must be finite and at least [`flowcert::limits::MIN_TIME`].
pub fn time(flag: &str, t: f64) -> Result<f64> {
    if !(t.is_finite() && t > 0.0) {
        bail!("{flag} {t} is not a valid OU time: give a finite number > 0");
    }
    if t < flowcert::limits::MIN_TIME {
        bail!(
            "{flag} {t:e} is below the smallest OU time {:e}: there p_t is the data law to double precision and 1/sigma_t^2 swamps every rounding error; give {flag} {:e} or more",
            flowcert::limits::MIN_TIME,
            flowcert::limits::MIN_TIME
        );
    }
    Ok(t)
}

/// A count argument within `[min, max]` (a [`flowcert::limits`] limit); `fix` says what
/// to do instead.
pub fn count(flag: &str, value: usize, min: usize, max: usize, fix: &str) -> Result<usize> {
    Ok(flowcert::limits::check_count(flag, value, min, max, fix)?)
}

/// `--segments` (one count, or each entry of a list): 1 to `limits::MAX_SEGMENTS`.
pub fn segments(n: usize) -> Result<usize> {
    count(
        "--segments",
        n,
        1,
        flowcert::limits::MAX_SEGMENTS,
        "give fewer segments",
    )
}

/// Refuse a list with a repeated entry (`--seeds 1,1` would count one run twice).
pub fn distinct<T: PartialEq + std::fmt::Display>(flag: &str, values: &[T]) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            bail!("{flag} lists {v} twice: give each entry once");
        }
    }
    Ok(())
}

/// Check an estimate against the limits; when the run will take more than a minute, say
/// so on stderr (on a terminal, and not under `--json`, like the progress bars).
pub fn estimate(e: &flowcert::limits::Estimate, json: bool, fix: &str) -> Result<()> {
    e.check(fix)?;
    let secs = e.flops / flowcert::limits::FLOPS_PER_SECOND;
    if secs > 60.0 && !json && std::io::stderr().is_terminal() {
        note(&format!(
            "{}: estimated {:.0} minutes on one core",
            e.what,
            secs / 60.0
        ));
    }
    Ok(())
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

/// Where the scales of a mixture lie: "means up to 3 apart, covariance eigenvalues from
/// 0.01 (covariances[1]) to 1e6 (covariances[0])", for messages about a stiff mixture.
pub fn scale_range(mix: &Mixture) -> String {
    let mut lo = (f64::INFINITY, 0);
    let mut hi = (0.0f64, 0);
    for (k, c) in mix.components().iter().enumerate() {
        for &l in &c.eigvals {
            if l < lo.0 {
                lo = (l, k);
            }
            if l > hi.0 {
                hi = (l, k);
            }
        }
    }
    format!(
        "means up to {:.3e} apart, covariance eigenvalues from {:.3e} (covariances[{}]) to {:.3e} (covariances[{}])",
        mix.mean_diameter(),
        lo.0,
        lo.1,
        hi.0,
        hi.1
    )
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

/// Parse a comma-separated list of numbers (at most [`flowcert::limits::MAX_LIST`]);
/// `flag` names it in errors.
pub fn list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if out.len() == flowcert::limits::MAX_LIST {
            bail!(
                "{flag} has more than {} entries: give a shorter list",
                flowcert::limits::MAX_LIST
            );
        }
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
