//! `flowcert reproduce [--quick] [--out DIR] [--shard i/n]`: the main job.
//! `flowcert merge --out DIR SHARD_DIR...`: combine shards, then finish the report.

use std::path::PathBuf;

use anyhow::Result;

use super::{Status, common};
use flowcert::experiments::{CellStore, Shard};
use flowcert::suite::reproduce::{ReproduceOptions, Scale, reproduce};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The smaller configuration (under 2 minutes on 2 cores).
    #[arg(long)]
    quick: bool,
    /// A seconds-long smoke configuration (for testing the pipeline itself).
    #[arg(long, hide = true)]
    tiny: bool,
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
    /// Whether the shards ran `reproduce --quick`.
    #[arg(long)]
    quick: bool,
    /// Whether the shards ran the hidden `--tiny` configuration.
    #[arg(long, hide = true)]
    tiny: bool,
    /// Output directories of the shards.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
}

fn scale(quick: bool, tiny: bool) -> Scale {
    if tiny {
        Scale::Tiny
    } else if quick {
        Scale::Quick
    } else {
        Scale::Full
    }
}

fn finish(scale: Scale, out: PathBuf, shard: Shard, json: bool) -> Result<Status> {
    let bars = common::Bars::new(json);
    let s = reproduce(
        &ReproduceOptions {
            scale,
            out: out.clone(),
            shard,
        },
        &bars,
    )?;
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
    }
    Ok(if s.violations > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    finish(scale(a.quick, a.tiny), a.out, a.shard, json)
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
    finish(scale(a.quick, a.tiny), a.out, Shard::ALL, json)
}
