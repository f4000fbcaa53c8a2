//! `flowcert reproduce [--scale tiny|quick|full | --quick] [--out DIR] [--shard i/n]`: the
//! main job. `flowcert merge --out DIR SHARD_DIR...`: combine shards, then write the report.
//! Both run `suite::reproduce::run` on the scale's plan and write its summary with
//! `report::reproduce::write`.

use std::path::PathBuf;

use anyhow::Result;

use super::{Status, common};
use flowcert::experiments::{CellStore, Shard};
use flowcert::suite::{Plan, Scale};

/// `--scale`, or the older `--quick` / hidden `--tiny` flags (one scale).
#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// The size of the run: tiny (seconds, the configuration `check` runs), quick (a few
    /// minutes on 2 cores) or full (the default).
    #[arg(long, conflicts_with_all = ["quick", "tiny"])]
    scale: Option<Scale>,
    /// The smaller configuration: the same as --scale quick.
    #[arg(long)]
    quick: bool,
    /// The seconds-long smoke configuration: the same as --scale tiny.
    #[arg(long, hide = true, conflicts_with = "quick")]
    tiny: bool,
}

impl ScaleArgs {
    fn scale(&self) -> Scale {
        match self.scale {
            Some(s) => s,
            None if self.tiny => Scale::Tiny,
            None if self.quick => Scale::Quick,
            None => Scale::Full,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    scale: ScaleArgs,
    /// Output directory (summary.json, tables, plots, cells/).
    #[arg(long, default_value = "reproduce-out")]
    out: PathBuf,
    /// Compute only slice i/n of the experiment cells (combine with `flowcert merge`).
    #[arg(long, default_value = "0/1", allow_hyphen_values = true)]
    shard: Shard,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The combined output directory.
    #[arg(long)]
    out: PathBuf,
    /// The scale the shards ran at.
    #[command(flatten)]
    scale: ScaleArgs,
    /// Output directories of the shards.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
}

fn finish(scale: Scale, out: PathBuf, shard: Shard, json: bool) -> Result<Status> {
    let bars = common::Bars::new(json);
    let store = CellStore::open(&out)?;
    let s = flowcert::suite::reproduce::run(&Plan::at(scale), &store, shard, &bars)?;
    flowcert::report::reproduce::write(&out, &s)?;
    flowcert::report::reproduce::write_timings(&out, &s.timings)?;
    if json {
        common::print_json(&s)?;
    } else {
        println!("wrote {}", out.display());
        println!("violations: {}", s.violations);
        if s.distill_missing > 0 {
            println!(
                "{} experiment cells belong to other shards: run them, then `flowcert merge`.",
                s.distill_missing
            );
        }
        let t = flowcert::report::distill::reduction_table(&s.distill, 3);
        print!("{}", t.to_text());
        println!("\nwall-clock seconds per section (also in timings.json)");
        print!(
            "{}",
            flowcert::report::reproduce::timings_table(&s.timings).to_text()
        );
    }
    Ok(if s.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    finish(a.scale.scale(), a.out, a.shard, json)
}

pub fn merge(a: MergeArgs, json: bool) -> Result<Status> {
    let store = CellStore::open(&a.out)?;
    let mut n = 0;
    for s in &a.shards {
        n += store.absorb(s)?;
    }
    if !json {
        eprintln!("merged {n} cells into {}", a.out.display());
    }
    finish(a.scale.scale(), a.out, Shard::ALL, json)
}
