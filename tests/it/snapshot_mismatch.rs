//! Pinned: the quick Lipschitz-mismatch regime table (Lambda(T) against ln M; one-step
//! error and its lower bounds; best N-step error; predicted and measured depth), the one
//! `reproduce --quick` writes, at 3 significant digits.

use crate::common;
use flowcert::report::mismatch::regime_table;
use flowcert::suite::{Plan, Scale, Silent, mismatch};

#[test]
fn quick_regime_table() {
    let (results, violations) =
        mismatch::section(&Plan::at(Scale::Quick).mismatch, &Silent).unwrap();
    let table = regime_table(&results);
    assert_eq!(
        violations, 0,
        "a trained student beat a lower bound: the theorem or the certificate is broken"
    );
    assert_eq!(results.len(), 3);
    common::pinned(|| {
        insta::assert_snapshot!("mismatch_regime_quick", table.to_markdown());
    });
}
