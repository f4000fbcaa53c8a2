//! `flowcert assess score|flowmap --queries DIR --answers FILE [--rollout FILE]
//! [--baseline B --tolerance R --save-baseline B]`: measure an outside model's answers at
//! the queries of `flowcert queries` against the exact model, and compare with a saved
//! baseline (exit 1 on a regression beyond the tolerance).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Status, common};
use flowcert::report::{Table, sig};
use flowcert::theorems::assess::baseline::load_baseline;
use flowcert::theorems::assess::{
    Comparison, QuerySet, assess_flowmap, assess_score, compare, load_answers,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// L^1 and L^2(p_t) errors of a score model per time.
    Score(Common),
    /// Local errors, composition bound and end-to-end error of flow maps.
    Flowmap(FlowArgs),
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct Common {
    /// Directory written by `flowcert queries`.
    #[arg(long)]
    queries: PathBuf,
    /// The model's answers, one row per query in order (.npy, CSV or JSON; d columns).
    #[arg(long)]
    answers: PathBuf,
    /// Optional mixture (file or builtin:NAME) that must match the one of the queries.
    #[arg(long)]
    mixture: Option<String>,
    /// A saved assessment to compare with (exit 1 on a regression).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Relative tolerance of the comparison.
    #[arg(long, default_value_t = 0.1)]
    tolerance: f64,
    /// Write this assessment here as the new baseline (not when a regression was found).
    #[arg(long)]
    save_baseline: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(allow_negative_numbers = true)]
struct FlowArgs {
    #[command(flatten)]
    common: Common,
    /// The composed map's outputs at rollout_queries (for the end-to-end error).
    #[arg(long)]
    rollout: Option<PathBuf>,
}

#[derive(Serialize)]
struct Out<'a, T: Serialize> {
    #[serde(flatten)]
    assessment: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<Comparison>,
    #[serde(skip_serializing_if = "Option::is_none")]
    saved_baseline: Option<String>,
}

fn load(c: &Common) -> Result<QuerySet> {
    if !(c.tolerance.is_finite() && c.tolerance >= 0.0) {
        bail!(
            "--tolerance {} is not usable: give a finite relative tolerance >= 0, e.g. 0.1 for 10%",
            c.tolerance
        );
    }
    let set = QuerySet::load(&c.queries)?;
    if let Some(m) = &c.mixture {
        let mix = common::mixture(m)?;
        let h = flowcert::theorems::assess::queries::mixture_hash(&mix);
        if h != set.manifest.mixture_hash {
            bail!(
                "--mixture {m} (hash {h}) is not the mixture of {} (hash {}): give the queries generated for this mixture",
                c.queries.display(),
                set.manifest.mixture_hash
            );
        }
    }
    Ok(set)
}

/// Compare, save, print: the assessment passes the final guard (no NaN or inf in any
/// metric) before it is compared, saved as a baseline or printed; `table` is its text.
fn finish<T: Serialize>(
    c: &Common,
    kind: &str,
    a: &T,
    identity: &flowcert::theorems::assess::QueryIdentity,
    metrics: &std::collections::BTreeMap<String, f64>,
    json: bool,
    table: String,
) -> Result<Status> {
    flowcert::io::check_finite(a)?;
    let comparison = match &c.baseline {
        Some(p) => Some(compare(
            kind,
            identity,
            metrics,
            &load_baseline(p)?,
            c.tolerance,
        )?),
        None => None,
    };
    let regressions = comparison.as_ref().map_or(0, |c| c.regressions);
    let mut saved = None;
    if let Some(p) = &c.save_baseline {
        if regressions > 0 {
            common::note(&format!(
                "not saving {}: {regressions} metric(s) regressed against the baseline",
                p.display()
            ));
        } else {
            let text = serde_json::to_string_pretty(a)?;
            flowcert::io::write_atomic(Path::new(p), text.as_bytes())?;
            saved = Some(p.display().to_string());
        }
    }
    let mut text = table;
    if !json {
        if let Some(cmp) = &comparison {
            let mut tab = Table::new(&["metric", "baseline", "current", "change", "status"]);
            for ch in cmp.changes.iter().filter(|ch| ch.status != "same") {
                tab.push(vec![
                    ch.name.clone(),
                    ch.baseline.map_or("-".into(), |b| sig(b, 4)),
                    sig(ch.current, 4),
                    ch.relative_change
                        .map_or("-".into(), |r| format!("{:+.1}%", 100.0 * r)),
                    ch.status.clone(),
                ]);
            }
            text.push_str(&format!(
                "against the baseline (tolerance {}%): {} metrics, {} regressed\n",
                100.0 * cmp.tolerance,
                cmp.changes.len(),
                cmp.regressions
            ));
            if !tab.rows.is_empty() {
                text.push_str(&tab.to_text());
            }
        }
        if let Some(p) = &saved {
            text.push_str(&format!("saved baseline {p}\n"));
        }
    }
    let out = Out {
        assessment: a,
        comparison,
        saved_baseline: saved,
    };
    common::emit(json, &out, || Ok(text))?;
    Ok(if regressions > 0 {
        Status::Violation
    } else {
        Status::Ok
    })
}

pub fn run(a: Args, json: bool) -> Result<Status> {
    match a.what {
        What::Score(c) => {
            let set = load(&c)?;
            let m = &set.manifest.score;
            let ans = load_answers(&c.answers, m.file.rows, set.mixture.dim(), &m.file.npy)?;
            let res = assess_score(&set, &ans)?;
            let mut text = String::new();
            if !json {
                text.push_str(&format!(
                    "score model on {} queries ({} per time), mixture {}\n",
                    m.file.rows, m.samples_per_time, set.manifest.mixture_hash
                ));
                let mut tab = Table::new(&[
                    "t",
                    "L1 error",
                    "L2 error",
                    "L2 95% CI",
                    "|s|_L2",
                    "relative L2",
                ]);
                for r in &res.rows {
                    tab.push(vec![
                        sig(r.t, 4),
                        sig(r.l1, 3),
                        sig(r.l2, 3),
                        format!("[{}, {}]", sig(r.l2_ci[0], 3), sig(r.l2_ci[1], 3)),
                        sig(r.score_l2, 3),
                        sig(r.relative_l2, 3),
                    ]);
                }
                text.push_str(&tab.to_text());
                text.push_str(&format!(
                    "sup_t L1 = {}, sup_t L2 = {}\n",
                    sig(res.sup_l1, 3),
                    sig(res.sup_l2, 3)
                ));
            }
            finish(&c, "score", &res, &res.queries, &res.metrics, json, text)
        }
        What::Flowmap(f) => {
            let c = &f.common;
            let set = load(c)?;
            let m = &set.manifest.flowmap;
            let d = set.mixture.dim();
            let ans = load_answers(&c.answers, m.file.rows, d, &m.file.npy)?;
            let roll = match &f.rollout {
                Some(p) => Some(load_answers(p, m.rollout.rows, d, &m.rollout.npy)?),
                None => None,
            };
            let pb = common::progress(1, json, "exact flow");
            let res = assess_flowmap(&set, &ans, roll.as_ref())?;
            pb.finish_and_clear();
            let mut text = String::new();
            if !json {
                text.push_str(&format!(
                    "flow maps on the {} grid, {} segments, {} points per segment\n",
                    m.grid, m.segments, m.samples_per_segment
                ));
                let mut tab = Table::new(&[
                    "segment",
                    "t_from",
                    "t_to",
                    "eps_i RMS",
                    "eps_i max",
                    "exp(Lambda(t_to))",
                ]);
                for s in &res.segments {
                    tab.push(vec![
                        s.segment.to_string(),
                        sig(s.t_from, 4),
                        sig(s.t_to, 4),
                        sig(s.rms, 3),
                        sig(s.max, 3),
                        sig(s.weight, 3),
                    ]);
                }
                text.push_str(&tab.to_text());
                text.push_str(&format!(
                    "composition bound sum eps_i exp(Lambda(t_(i-1))): {} (RMS eps_i), {} (max eps_i){}\n",
                    sig(res.bound_rms, 3),
                    sig(res.bound_max, 3),
                    res.region_radius.map_or(String::new(), |r| format!(
                        "; valid on the ball of radius {}",
                        sig(r, 3)
                    ))
                ));
                text.push_str(&match &res.end_to_end {
                    Some(e) => format!(
                        "end-to-end |Psi - Phi_(T -> t_min)|: RMS {}, max {}, relative MSE {}, RMS / bound {}\n",
                        sig(e.rms, 3),
                        sig(e.max, 3),
                        sig(e.rel_mse, 3),
                        e.rms_over_bound
                            .map_or("- (the bound is 0)".to_string(), |r| sig(r, 3))
                    ),
                    None => "end-to-end error: give --rollout FILE (the composed map at rollout_queries)\n".to_string(),
                });
            }
            finish(c, "flowmap", &res, &res.queries, &res.metrics, json, text)
        }
    }
}
