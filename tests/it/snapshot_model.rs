//! Pinned table: log p_t and |score| of the built-in mixtures at fixed points and times,
//! formatted to 6 significant digits (snapshots/ at the top level).

use crate::common;
use flowcert::model::{Marginal, builtin};
use flowcert::report::{Table, sig};

#[test]
fn log_density_and_score_table() {
    let mut tab = Table::new(&["mixture", "t", "x", "log p_t", "|score|"]);
    for (name, mix) in builtin::suite() {
        let d = mix.dim();
        for &t in &[0.01, 0.3, 2.5] {
            let mut p = Marginal::new(&mix, t).unwrap();
            for (label, x) in [
                ("0", vec![0.0; d]),
                (
                    "e1",
                    (0..d).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
                ),
            ] {
                let mut s = vec![0.0; d];
                p.score_into(&x, &mut s);
                let norm = s.iter().map(|v| v * v).sum::<f64>().sqrt();
                tab.push(vec![
                    name.into(),
                    sig(t, 3),
                    label.into(),
                    sig(p.log_density(&x), 6),
                    sig(norm, 6),
                ]);
            }
        }
    }
    common::pinned(|| {
        insta::assert_snapshot!("model_logp_score", tab.to_markdown());
    });
}
