//! Command-line interface: one file per subcommand, each thin over the library.
//! The commands, flags and JSON fields are those of README.md ("Commands"): scripts rely on
//! them, so they are kept working (aliases are added, nothing is renamed).
//! Exit status: 0 success, 1 a check found a violated bound, 2 bad input or usage (or an
//! output that could not be written); a closed stdout pipe ends the output quietly with
//! the status the run would have had (README.md, "Limits and exit status").
//!
//! Errors: a message on stderr that says what to fix, always; under `--json` also one JSON
//! document on stdout, `{"error": {"message", "kind", "exit_status"}}`, with `kind` one of
//! `usage` (the command line), `input` (a file or value given), `output` (a file that could
//! not be written).

mod assess;
mod check;
mod common;
mod distill;
mod eval;
mod flow;
mod grid;
mod lipschitz;
mod mismatch;
mod queries;
mod reproduce;
mod sample;
mod score_net;
mod stability;

use clap::{Parser, Subcommand};

/// flowcert: check the theory of diffusion flow-map distillation against computation
/// in the Gaussian-mixture Ornstein-Uhlenbeck model.
#[derive(Debug, Parser)]
#[command(name = "flowcert", version, about, long_about = None)]
pub struct Cli {
    /// Print one JSON document on stdout instead of tables (and no progress bars).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// log p_t, score, Hessian and PF-ODE velocity at points.
    Eval(eval::Args),
    /// Exact PF-ODE flow maps Phi_{from->to} (optionally with DPhi) of points.
    Flow(flow::Args),
    /// Exact samples of p_t.
    Sample(sample::Args),
    /// Bounds L(t), paper L(t), mu(t) on ||J|| versus empirical suprema (exit 1 on violation).
    Lipschitz(lipschitz::Args),
    /// Time grids (uniform, balanced kinds, logsnr, edm) with the stability coordinate Lambda.
    Grid(grid::Args),
    /// Per-segment flow-map amplification ||DPhi|| versus exp(int mu), exp(int L) (exit 1 on violation).
    Stability(stability::Args),
    #[command(about = flowcert::suite::timing::CHECK_HELP)]
    Check(check::Args),
    /// Trajectory distillation: students per segment on each grid, end-to-end error.
    Distill(distill::Args),
    /// Lipschitz mismatch: lower bounds for budgeted students, trained students, depth.
    Mismatch(mismatch::Args),
    /// Explicit ReLU-ReQU score network for a target accuracy: size, measured errors, outputs.
    ScoreNet(score_net::Args),
    /// Query points (x, t) and flow-map start points for checking an outside model.
    Queries(queries::Args),
    /// Measure an outside model's answers at the queries; compare with a baseline.
    Assess(assess::Args),
    /// The main job: every checker and experiment on the built-in suite.
    Reproduce(reproduce::Args),
    /// Combine the output directories of sharded `reproduce` runs.
    Merge(reproduce::MergeArgs),
}

/// What a successful command found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything held.
    Ok,
    /// A checked bound was violated (exit status 1).
    Violation,
}

/// Parse arguments, run, map the outcome to an exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // `--help` and `--version` go to stdout: the same closed-pipe rule as results.
            if e.use_stderr() {
                common::note(e.render().to_string().trim_end());
                if std::env::args().any(|a| a == "--json") {
                    let first = e.to_string();
                    let first = first
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ");
                    json_error(first, "usage", code);
                }
            } else if common::write_stdout(&e.render().to_string()).is_err() {
                return 2;
            }
            return code;
        }
    };
    let json = cli.json;
    let result = match cli.command {
        Command::Eval(a) => eval::run(a, json),
        Command::Flow(a) => flow::run(a, json),
        Command::Sample(a) => sample::run(a, json),
        Command::Lipschitz(a) => lipschitz::run(a, json),
        Command::Grid(a) => grid::run(a, json),
        Command::Stability(a) => stability::run(a, json),
        Command::Check(a) => check::run(a, json),
        Command::Distill(a) => distill::run(a, json),
        Command::Mismatch(a) => mismatch::run(a, json),
        Command::ScoreNet(a) => score_net::run(a, json),
        Command::Queries(a) => queries::run(a, json),
        Command::Assess(a) => assess::run(a, json),
        Command::Reproduce(a) => reproduce::run(a, json),
        Command::Merge(a) => reproduce::merge(a, json),
    };
    match result {
        Ok(Status::Ok) => 0,
        Ok(Status::Violation) => 1,
        Err(e) => {
            let text = message(&e);
            common::note(&format!("error: {text}"));
            if json {
                json_error(&text, error_kind(&e), 2);
            }
            2
        }
    }
}

/// `input` or `output`: an error that comes from writing is `output`.
fn error_kind(e: &anyhow::Error) -> &'static str {
    let output = e.chain().any(|c| {
        c.is::<flowcert::io::OutputError>()
            || c.is::<flowcert::report::ReportError>()
            || matches!(
                c.downcast_ref::<flowcert::experiments::StoreError>(),
                Some(
                    flowcert::experiments::StoreError::Dir { .. }
                        | flowcert::experiments::StoreError::Write(_)
                )
            )
    });
    if output { "output" } else { "input" }
}

/// The `--json` error document on stdout (module doc).
fn json_error(message: &str, kind: &str, exit_status: i32) {
    let doc = serde_json::json!({
        "error": {"message": message, "kind": kind, "exit_status": exit_status}
    });
    let _ = common::emit(true, &doc, || Ok(String::new()));
}

/// The error and its causes, each said once ([`flowcert::io::error_message`]).
fn message(e: &anyhow::Error) -> String {
    flowcert::io::error_message(e.as_ref())
}
