//! How large a run of the suite is.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// The size of a run: every section of the suite has one configuration per scale
/// ([`super::Plan::at`]).
///
/// ```
/// use flowcert::suite::Scale;
/// assert_eq!("quick".parse::<Scale>().unwrap(), Scale::Quick);
/// assert_eq!(Scale::Full.to_string(), "full");
/// assert!("huge".parse::<Scale>().unwrap_err().to_string().contains("tiny, quick, full"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Scale {
    /// Seconds: `flowcert check`, and tests of the pipeline itself.
    Tiny,
    /// A few minutes on 2 cores: `reproduce --quick`.
    Quick,
    /// The main job: `reproduce`.
    Full,
}

impl Scale {
    /// Every scale, smallest first.
    pub const ALL: [Scale; 3] = [Scale::Tiny, Scale::Quick, Scale::Full];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Tiny => "tiny",
            Scale::Quick => "quick",
            Scale::Full => "full",
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown scale name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown scale '{0}': give one of tiny, quick, full")]
pub struct UnknownScale(pub String);

impl FromStr for Scale {
    type Err = UnknownScale;
    fn from_str(s: &str) -> Result<Self, UnknownScale> {
        Scale::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| UnknownScale(s.to_string()))
    }
}
