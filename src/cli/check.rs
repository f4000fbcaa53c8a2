//! `flowcert check [--scale S] [--seed S] [--mixture M]... [--process NAME]`: every theorem
//! checker of the suite (`suite::CHECKS`) on every built-in mixture, or on the given
//! mixtures, at one scale's configuration (default: the tiny one), a summary table, exit 1
//! on any violation. With `--process` every checker runs on that Gaussian path, its OU
//! times mapped to the path's times of the same noise ratio (`Plan::on_process`,
//! theory/07-gaussian-paths.md).

use anyhow::Result;

use super::{Status, common};
use flowcert::model::builtin::Builtin;
use flowcert::model::process::Process;
use flowcert::report::sig;
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
    #[command(flatten)]
    process: common::ProcessArgs,
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    let process = a.process.check()?;
    let mut plan = Plan::at(a.scale);
    if let Some(seed) = a.seed {
        plan = plan.with_seed(seed);
    }
    let plan = plan.on_process(&process)?;
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
            .collect::<Result<Vec<Case>>>()?
    };
    let cases: Vec<Case> = cases.into_iter().map(|c| c.on_process(&process)).collect();
    let summary = run_checks(&plan, &cases, &CHECKS, &common::Bars::new(json))?;
    common::emit_on(json, &summary, &process, || {
        Ok(format!(
            "{}{}{}{}\n",
            path_line(&process, &plan),
            flowcert::report::check::table(&summary).to_text(),
            if summary.violations == 0 {
                "all checks passed".to_string()
            } else {
                format!("{} violations", summary.violations)
            },
            match flowcert::suite::checks::not_run(&summary) {
                0 => String::new(),
                n => format!(" ({n} rows not run: see their notes)"),
            }
        ))
    })?;
    Ok(if summary.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

/// The line above the table on a path other than OU: the path and where the OU times went.
fn path_line(process: &Process, plan: &Plan) -> String {
    if process.is_ou() {
        return String::new();
    }
    let b = &plan.bounds;
    format!(
        "process {}: the suite's OU times mapped to the times of equal sigma/alpha (theory/07), e.g. L(t) at {}; stability and composition on [{}, {}]\n",
        process.label(),
        b.times
            .iter()
            .map(|&t| sig(t, 4))
            .collect::<Vec<_>>()
            .join(", "),
        sig(b.t_min, 4),
        sig(b.t_max, 4),
    )
}
