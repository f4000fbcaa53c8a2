//! The table of `flowcert check` (what [`crate::suite::run_checks`] found).

use crate::suite::CheckSummary;

use super::table::{Table, sig};

/// One line per (mixture, checker): inequalities checked, violations, the tightest
/// bound/measured ratio (3 significant digits) and the checker's note.
///
/// ```
/// let s = flowcert::suite::CheckSummary { rows: vec![], violations: 0 };
/// assert_eq!(flowcert::report::check::table(&s).headers[1], "checker");
/// ```
pub fn table(summary: &CheckSummary) -> Table {
    let mut tab = Table::new(&[
        "mixture",
        "checker",
        "checked",
        "violations",
        "tightest",
        "note",
    ]);
    for r in &summary.rows {
        tab.push(vec![
            r.mixture.clone(),
            r.checker.into(),
            r.outcome.checked.to_string(),
            r.outcome.violations.to_string(),
            r.outcome.tightest.map_or_else(|| "-".into(), |v| sig(v, 3)),
            r.outcome.note.clone(),
        ]);
    }
    tab
}
