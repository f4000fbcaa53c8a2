//! `flowcert check [--scale S] [--seed S]`: every theorem checker of the suite
//! (`suite::CHECKS`) on every built-in mixture at one scale's configuration (default: the
//! tiny one, seconds in release), a summary table, exit 1 on any violation.

use anyhow::Result;

use super::{Status, common};
use flowcert::model::builtin::Builtin;
use flowcert::suite::{CHECKS, Case, Plan, Scale, run_checks};

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct Args {
    /// Seed of every checker (default: the plan's own seeds).
    #[arg(long)]
    seed: Option<u64>,
    /// Configuration of the checkers: tiny (seconds), quick or full (as `reproduce`).
    #[arg(long, default_value = "tiny")]
    scale: Scale,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mut plan = Plan::at(a.scale);
    if let Some(seed) = a.seed {
        plan = plan.with_seed(seed);
    }
    let cases: Vec<Case> = Builtin::ALL.map(Case::from).to_vec();
    let summary = run_checks(&plan, &cases, &CHECKS, &common::Bars::new(json))?;
    common::emit(json, &summary, || {
        Ok(format!(
            "{}{}\n",
            flowcert::report::check::table(&summary).to_text(),
            if summary.violations == 0 {
                "all checks passed".to_string()
            } else {
                format!("{} violations", summary.violations)
            }
        ))
    })?;
    Ok(if summary.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
