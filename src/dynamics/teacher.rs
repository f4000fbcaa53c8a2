//! The teacher: the exact PF-ODE flow, solved by one Runge-Kutta pair at one pair of
//! tolerances (theory/01-model.md, "Flow maps"). Every checker and experiment that needs
//! the exact flow takes a [`Teacher`]: the method and tolerances are chosen (and
//! validated) once, by name, and passed down.
//!
//! | preset | method | rtol = atol | used by |
//! |---|---|---|---|
//! | [`Teacher::REFERENCE`] | Dormand-Prince 5(4) | 1e-10 | stability checker, `flow`/`stability` defaults |
//! | [`Teacher::PRECISE`] | DOP853 | 1e-10 | composition and mismatch checkers, assessments |
//! | [`Teacher::EXPERIMENT`] | DOP853 | 1e-8 | teacher pairs of the distillation experiment |

use serde::{Deserialize, Serialize};

use super::flow::ExactFlow;
use super::solver::{Method, SolverError, SolverOptions, ValidSolverOptions};
use crate::model::Mixture;
use crate::tolerance::{ODE_ATOL, ODE_RTOL};

/// A validated solver preset for the exact flow: method, `rtol`, `atol`.
///
/// ```
/// use flowcert::dynamics::{Method, Teacher};
/// let t = Teacher::new(Method::Dop853, 1e-9, 1e-9).unwrap();
/// assert_eq!((t.method(), t.rtol(), t.atol()), (Method::Dop853, 1e-9, 1e-9));
/// assert!(Teacher::new(Method::Dopri5, f64::NAN, 1e-9).unwrap_err().to_string().contains("rtol"));
/// let mix = flowcert::model::builtin::two_mode(0.3);
/// let y = Teacher::PRECISE.flow(&mix).map(&[0.3, 0.0], 2.0, 0.05).unwrap().y;
/// assert!(y[0] > 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TeacherSpec", into = "TeacherSpec")]
pub struct Teacher(ValidSolverOptions);

/// The serialised form of a [`Teacher`] (validated when read).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TeacherSpec {
    /// Runge-Kutta pair.
    pub method: Method,
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
}

impl TryFrom<TeacherSpec> for Teacher {
    type Error = SolverError;
    fn try_from(s: TeacherSpec) -> Result<Self, SolverError> {
        Teacher::new(s.method, s.rtol, s.atol)
    }
}

impl From<Teacher> for TeacherSpec {
    fn from(t: Teacher) -> Self {
        TeacherSpec {
            method: t.method(),
            rtol: t.rtol(),
            atol: t.atol(),
        }
    }
}

impl From<Teacher> for ValidSolverOptions {
    fn from(t: Teacher) -> Self {
        t.0
    }
}

impl Default for Teacher {
    /// [`Teacher::REFERENCE`].
    fn default() -> Self {
        Teacher::REFERENCE
    }
}

impl Teacher {
    /// Dormand-Prince 5(4) at `rtol = atol = 1e-10` ([`ODE_RTOL`], [`ODE_ATOL`]): the
    /// solver's defaults, used by the stability checker.
    pub const REFERENCE: Teacher = Teacher(ValidSolverOptions::preset(
        Method::Dopri5,
        ODE_RTOL,
        ODE_ATOL,
    ));
    /// DOP853 at `rtol = atol = 1e-10`: the checks (composition, mismatch, assessments).
    pub const PRECISE: Teacher = Teacher(ValidSolverOptions::preset(
        Method::Dop853,
        ODE_RTOL,
        ODE_ATOL,
    ));
    /// DOP853 at `rtol = atol = 1e-8`: the teacher pairs of the distillation experiment
    /// (students reach ~1e-3, far above the solver's error).
    pub const EXPERIMENT: Teacher = Teacher(ValidSolverOptions::preset(Method::Dop853, 1e-8, 1e-8));

    /// A teacher at chosen tolerances (validated as [`SolverOptions::check`]).
    pub fn new(method: Method, rtol: f64, atol: f64) -> Result<Teacher, SolverError> {
        Ok(Teacher(
            SolverOptions {
                rtol,
                atol,
                method,
                ..SolverOptions::default()
            }
            .check()?,
        ))
    }

    /// The Runge-Kutta pair.
    pub fn method(&self) -> Method {
        self.0.method()
    }

    /// The relative tolerance.
    pub fn rtol(&self) -> f64 {
        self.0.rtol()
    }

    /// The absolute tolerance.
    pub fn atol(&self) -> f64 {
        self.0.atol()
    }

    /// The validated solver options.
    pub fn options(&self) -> &ValidSolverOptions {
        &self.0
    }

    /// The exact flow of `mix` solved by this teacher.
    pub fn flow(self, mix: &Mixture) -> ExactFlow<'_> {
        ExactFlow::new(mix, self.0)
    }

    /// A short stable label of the preset for result-store keys: `rtol` alone for DOP853
    /// with `rtol = atol` (the form the distillation cells were first keyed with), else
    /// `method:rtol:atol`.
    ///
    /// ```
    /// use flowcert::dynamics::{Method, Teacher};
    /// assert_eq!(Teacher::EXPERIMENT.key(), "0.00000001");
    /// assert_eq!(Teacher::REFERENCE.key(), "dopri5:0.0000000001:0.0000000001");
    /// ```
    pub fn key(&self) -> String {
        if self.method() == Method::Dop853 && self.rtol() == self.atol() {
            format!("{}", self.rtol())
        } else {
            format!("{}:{}:{}", self.method().name(), self.rtol(), self.atol())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_passes_validation() {
        for t in [Teacher::REFERENCE, Teacher::PRECISE, Teacher::EXPERIMENT] {
            assert_eq!(t.options().raw().check().unwrap(), *t.options());
        }
        assert_eq!(*Teacher::REFERENCE.options(), ValidSolverOptions::default());
    }

    #[test]
    fn serde_round_trip_validates() {
        let json = serde_json::to_string(&Teacher::PRECISE).unwrap();
        assert_eq!(
            serde_json::from_str::<Teacher>(&json).unwrap(),
            Teacher::PRECISE
        );
        let bad = r#"{"method":"Dop853","rtol":-1.0,"atol":1e-8}"#;
        assert!(serde_json::from_str::<Teacher>(bad).is_err());
    }
}
