//! `flowcert check [--scale S] [--seed S] [--mixture M]...`: every theorem checker of the
//! suite (`suite::CHECKS`) on every built-in mixture, or on the given mixtures, at one
//! scale's configuration (default: the tiny one), a summary table, exit 1 on any
//! violation.

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
    /// Configuration of the checkers: tiny (the default), quick or full (as `reproduce`).
    #[arg(long, default_value = "tiny")]
    scale: Scale,
    /// Check this mixture (JSON file or builtin:NAME) instead of the built-in suite;
    /// repeat for several.
    #[arg(long)]
    mixture: Vec<String>,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let mut plan = Plan::at(a.scale);
    if let Some(seed) = a.seed {
        plan = plan.with_seed(seed);
    }
    let cases: Vec<Case> = if a.mixture.is_empty() {
        Builtin::ALL.map(Case::from).to_vec()
    } else {
        a.mixture
            .iter()
            .map(|m| {
                Ok(Case {
                    name: common::mixture_name(m),
                    mixture: common::mixture(m)?,
                })
            })
            .collect::<Result<_>>()?
    };
    let summary = run_checks(&plan, &cases, &CHECKS, &common::Bars::new(json))?;
    if json {
        common::print_json(&summary)?;
    } else {
        print!("{}", flowcert::report::check::table(&summary).to_text());
        println!(
            "{}",
            if summary.violations == 0 {
                "all checks passed".to_string()
            } else {
                format!("{} violations", summary.violations)
            }
        );
    }
    Ok(if summary.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}
