//! Pinned tables (3 significant digits) for every built-in mixture: the Lipschitz bounds
//! against empirical suprema at `REPORT_TIMES`, and the flow-map stability check on the
//! balanced grid with 4 segments over [0.01, 3] (snapshots/ at the top level). The plots
//! drawn beside them in the report are rendered here too (not pinned: SVG bytes follow the
//! plotting library).

use crate::common;
use flowcert::bounds::SearchConfig;
use flowcert::grids::GridKind;
use flowcert::model::builtin;
use flowcert::theorems::lipschitz::{self, REPORT_TIMES};
use flowcert::theorems::stability::{self, StabilityConfig};

/// Interval and segments of the pinned stability tables.
const T_MIN: f64 = 0.01;
const T_MAX: f64 = 3.0;
const SEGMENTS: usize = 4;

#[test]
fn lipschitz_tables() {
    // The quick search: a few hundred Jacobians per time, deterministic from seed 0.
    let cfg = SearchConfig::quick();
    for (name, mix) in builtin::suite() {
        let r = lipschitz::compare_bounds(&mix, &REPORT_TIMES, &cfg).unwrap();
        assert_eq!(r.violations, 0, "{name}");
        assert!(r.bounds_plot_svg(name).starts_with("<svg"));
        assert!(
            flowcert::report::bounds::lambda_plot_svg(
                &flowcert::suite::bounds::lambda_curves(&mix, T_MIN, T_MAX, 24).unwrap(),
                name
            )
            .starts_with("<svg")
        );
        common::pinned(|| {
            insta::assert_snapshot!(format!("lipschitz_{name}"), r.table().to_markdown());
        });
    }
}

#[test]
fn stability_tables() {
    // 8 samples and the quick local maximisations (2 of 40 solves per flow map).
    let cfg = StabilityConfig {
        samples: 8,
        ..StabilityConfig::quick()
    };
    for (name, mix) in builtin::suite() {
        let r = stability::measure_grid(&mix, &GridKind::Balanced, T_MIN, T_MAX, SEGMENTS, &cfg)
            .unwrap();
        assert_eq!(r.violations, 0, "{name}");
        assert!(r.plot_svg(name).starts_with("<svg"));
        common::pinned(|| {
            insta::assert_snapshot!(format!("stability_{name}"), r.table().to_markdown());
        });
    }
}
