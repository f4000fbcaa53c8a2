//! Pinned table: size and measured accuracy of the explicit score network for
//! two-mode-s0.1 at eps in {1e-1, 1e-2, 1e-3} (theory/06-score-approximation.md), 3
//! significant digits, seeded Monte Carlo (400 samples at 4 times: a few seconds).

use crate::common;
use flowcert::model::builtin;
use flowcert::report::score_net::size_table;
use flowcert::theorems::score_approx::{CheckConfig, measure_scaling};

#[test]
fn size_accuracy_table() {
    let mix = builtin::two_mode(0.1);
    let cfg = CheckConfig {
        eps_list: vec![1e-1, 1e-2, 1e-3],
        n_times: 4,
        samples: 400,
        seed: 0,
        ..CheckConfig::default()
    };
    let rep = measure_scaling(&mix, &cfg).unwrap();
    assert!(rep.passed);
    let rows: Vec<_> = rep.rows.iter().map(|r| ("two-mode-s0.1", r)).collect();
    let tab = size_table(&rows);
    common::pinned(|| {
        insta::assert_snapshot!("score_net_size_accuracy", tab.to_markdown());
    });
}
