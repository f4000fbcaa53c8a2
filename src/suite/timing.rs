//! Measured run times, in one place: `--help` quotes these constants, README.md
//! ("Measured run times") quotes the same text (a test keeps the two in step), and
//! `flowcert reproduce` compares its own wall-clock time with them at the end of a run
//! (run.json records both). `scripts/timing.sh` re-measures all of them; update the
//! numbers here and in README together.

use super::Scale;

/// The machine the figures were measured on.
pub const MACHINE: &str = "2 cores (AMD EPYC), 24 GB, otherwise idle (release build; wall-clock from `/usr/bin/time` and run.json)";

/// The documented wall-clock time of one command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// The command as typed.
    pub command: &'static str,
    /// Seconds.
    pub seconds: f64,
    /// As README and `--help` say it.
    pub text: &'static str,
}

macro_rules! check_text {
    () => {
        "about 3 s"
    };
}
macro_rules! tiny_text {
    () => {
        "about 1 s"
    };
}
macro_rules! quick_text {
    () => {
        "about 23 s"
    };
}
macro_rules! full_text {
    () => {
        "about 7 min"
    };
}

/// `flowcert check` (tiny configuration, every built-in mixture).
pub const CHECK: Measured = Measured {
    command: "flowcert check",
    seconds: 3.0,
    text: check_text!(),
};

/// `flowcert reproduce --scale tiny`.
pub const TINY: Measured = Measured {
    command: "flowcert reproduce --scale tiny",
    seconds: 1.0,
    text: tiny_text!(),
};

/// `flowcert reproduce --quick`.
pub const QUICK: Measured = Measured {
    command: "flowcert reproduce --quick",
    seconds: 23.0,
    text: quick_text!(),
};

/// `flowcert reproduce` (full).
pub const FULL: Measured = Measured {
    command: "flowcert reproduce",
    seconds: 407.0,
    text: full_text!(),
};

/// The help text of `--scale` (reproduce).
pub const SCALE_HELP: &str = concat!(
    "The size of the run: tiny (",
    tiny_text!(),
    "), quick (",
    quick_text!(),
    ") or full (the default, ",
    full_text!(),
    "); measured on 2 cores, see README \"Measured run times\""
);

/// The help text of `flowcert check`.
pub const CHECK_HELP: &str = concat!(
    "Every theorem checker on the built-in suite, or on --mixture files (exit 1 on any violation; ",
    check_text!(),
    " on 2 cores)"
);

/// The documented time of a `reproduce` run at `scale`.
///
/// ```
/// use flowcert::suite::{Scale, timing};
/// assert_eq!(timing::reproduce(Scale::Quick), timing::QUICK);
/// ```
pub fn reproduce(scale: Scale) -> Measured {
    match scale {
        Scale::Tiny => TINY,
        Scale::Quick => QUICK,
        Scale::Full => FULL,
    }
}

/// Every documented figure.
pub const ALL: [Measured; 4] = [CHECK, TINY, QUICK, FULL];
