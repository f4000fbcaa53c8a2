//! The raw form of a built-in path (a name and optional parameters, as on the command line:
//! `--process vp-linear --beta-min 0.1 --beta-max 20`) and its validation.

use serde::{Deserialize, Serialize};

use super::{Edm, Ou, Process, Rectified, VpCosine, VpLinear};
use crate::model::ModelError;

/// The built-in path names, in report order.
pub const PROCESS_NAMES: [&str; 5] = ["ou", "vp-linear", "vp-cosine", "edm", "rectified"];

/// A built-in path by name, with the parameters it has (unset = the default):
/// `beta_min`/`beta_max` for `vp-linear`, `cosine_s` for `vp-cosine`,
/// `sigma_min`/`sigma_max` for `edm`.
///
/// ```
/// use flowcert::model::process::ProcessSpec;
/// let p = ProcessSpec { beta_max: Some(10.0), ..ProcessSpec::named("vp-linear") }.check().unwrap();
/// assert_eq!(p.params(), vec![("beta_min", 0.1), ("beta_max", 10.0)]);
/// let e = ProcessSpec { cosine_s: Some(0.1), ..ProcessSpec::named("ou") }.check().unwrap_err();
/// assert!(e.to_string().contains("--cosine-s"));
/// assert!(ProcessSpec::named("ve").check().unwrap_err().to_string().contains("rectified"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    /// One of [`PROCESS_NAMES`].
    pub name: String,
    /// `vp-linear`: `beta(0)` (default 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_min: Option<f64>,
    /// `vp-linear`: `beta(1)` (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta_max: Option<f64>,
    /// `vp-cosine`: the offset `s` (default 0.008).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosine_s: Option<f64>,
    /// `edm`: the smallest noise level (default 0.002).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_min: Option<f64>,
    /// `edm`: the largest noise level (default 80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_max: Option<f64>,
}

/// Largest admissible `beta` of `vp-linear` (beyond it `alpha_1^2 < e^{-500}`).
const MAX_BETA: f64 = 1000.0;
/// Largest admissible EDM noise level.
const MAX_SIGMA: f64 = 1e4;

impl ProcessSpec {
    /// A path by name with default parameters.
    pub fn named(name: &str) -> Self {
        ProcessSpec {
            name: name.to_string(),
            ..ProcessSpec::default()
        }
    }

    /// The raw form of a validated path (its name and parameters), the inverse of
    /// [`ProcessSpec::check`] on the built-ins.
    ///
    /// ```
    /// use flowcert::model::process::ProcessSpec;
    /// let s = ProcessSpec { cosine_s: Some(0.01), ..ProcessSpec::named("vp-cosine") };
    /// assert_eq!(ProcessSpec::of(&s.check().unwrap()).check().unwrap(), s.check().unwrap());
    /// ```
    pub fn of(p: &Process) -> ProcessSpec {
        let mut s = ProcessSpec::named(p.name());
        for (k, v) in p.params() {
            match k {
                "beta_min" => s.beta_min = Some(v),
                "beta_max" => s.beta_max = Some(v),
                "s" => s.cosine_s = Some(v),
                "sigma_min" => s.sigma_min = Some(v),
                "sigma_max" => s.sigma_max = Some(v),
                _ => {}
            }
        }
        s
    }

    /// Validate: a known name, only the parameters that path has, each in its range.
    pub fn check(&self) -> Result<Process, ModelError> {
        let given = [
            ("--beta-min", self.beta_min, "vp-linear"),
            ("--beta-max", self.beta_max, "vp-linear"),
            ("--cosine-s", self.cosine_s, "vp-cosine"),
            ("--sigma-min", self.sigma_min, "edm"),
            ("--sigma-max", self.sigma_max, "edm"),
        ];
        if !PROCESS_NAMES.contains(&self.name.as_str()) {
            return Err(ModelError::UnknownProcess {
                given: self.name.clone(),
                valid: PROCESS_NAMES.join(", "),
            });
        }
        for (flag, v, owner) in given {
            if let Some(v) = v {
                if owner != self.name {
                    return Err(ModelError::ProcessParam {
                        flag,
                        value: v,
                        problem: format!(
                            "applies to --process {owner} only (this is {}); drop it",
                            self.name
                        ),
                    });
                }
                if !v.is_finite() {
                    return Err(ModelError::ProcessParam {
                        flag,
                        value: v,
                        problem: "must be a finite number".into(),
                    });
                }
            }
        }
        let param = |flag: &'static str, v: f64, ok: bool, range: &str| {
            if ok {
                Ok(v)
            } else {
                Err(ModelError::ProcessParam {
                    flag,
                    value: v,
                    problem: format!("must be {range}"),
                })
            }
        };
        Ok(match self.name.as_str() {
            "vp-linear" => {
                let d = VpLinear::default();
                let b0 = self.beta_min.unwrap_or(d.beta_min);
                let b1 = self.beta_max.unwrap_or(d.beta_max);
                let range = format!("in [0, {MAX_BETA}]");
                param("--beta-min", b0, (0.0..=MAX_BETA).contains(&b0), &range)?;
                let range = format!("in (0, {MAX_BETA}]");
                param("--beta-max", b1, b1 > 0.0 && b1 <= MAX_BETA, &range)?;
                Process::builtin(VpLinear {
                    beta_min: b0,
                    beta_max: b1,
                })
            }
            "vp-cosine" => {
                let s = self.cosine_s.unwrap_or(VpCosine::default().s);
                param("--cosine-s", s, s > 0.0 && s <= 1.0, "in (0, 1]")?;
                Process::builtin(VpCosine { s })
            }
            "edm" => {
                let d = Edm::default();
                let lo = self.sigma_min.unwrap_or(d.sigma_min);
                let hi = self.sigma_max.unwrap_or(d.sigma_max);
                param("--sigma-min", lo, lo > 0.0, "> 0")?;
                let range = format!("above --sigma-min {lo} and at most {MAX_SIGMA}");
                param("--sigma-max", hi, hi > lo && hi <= MAX_SIGMA, &range)?;
                Process::builtin(Edm {
                    sigma_min: lo,
                    sigma_max: hi,
                })
            }
            "rectified" => Process::builtin(Rectified),
            _ => Process::builtin(Ou),
        })
    }
}
