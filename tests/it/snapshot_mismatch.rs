//! Pinned: the quick Lipschitz-mismatch regime table (Lambda(T) against ln M; one-step
//! error and its lower bounds; best N-step error; predicted and measured depth), the one
//! `reproduce --quick` writes, at 3 significant digits.

use crate::common;
use flowcert::report::mismatch::mismatch_section;
use flowcert::suite::reproduce::Scale;

#[test]
fn quick_regime_table() {
    let (results, table, violations) = mismatch_section(Scale::Quick).unwrap();
    assert_eq!(
        violations, 0,
        "a trained student beat a lower bound: the theorem or the certificate is broken"
    );
    assert_eq!(results.len(), 3);
    common::pinned(|| {
        insta::assert_snapshot!("mismatch_regime_quick", table.to_markdown());
    });
}
