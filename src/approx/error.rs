//! Errors of the constructive score networks: every message names the field and the fix.

use thiserror::Error;

use crate::model::ModelError;

/// What is wrong with a network operation, a construction request or a check.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApproxError {
    /// The OU construction of theory/06 (or the DSM-trained comparison) asked for a path
    /// other than OU.
    #[error(
        "this construction works in OU coordinates only, not on '{process}': its time features are e^{{-t}} and the tail bounds use OU's alpha and sigma; for the explicit network on another path use PathScoreNetwork (the OU network composed with the clock and scaling of theory/07-gaussian-paths.md, \"Score approximation\"); the DSM-trained comparison runs on OU only (drop --process or use --process ou)"
    )]
    OuOnly {
        /// The path asked for.
        process: String,
    },
    /// A layer weight refers to a column beyond the previous layer.
    #[error(
        "layer weight column {column} is out of range: the previous layer has {n_in} neurons; use columns 0..{n_in}"
    )]
    LayerColumn {
        /// The offending column.
        column: usize,
        /// Width of the previous layer.
        n_in: usize,
    },
    /// Consecutive layers do not chain.
    #[error(
        "layers[{layer}] reads {got} values but the previous layer has {expected} neurons: make n_in of each layer equal the previous n_out"
    )]
    LayerShape {
        /// Layer index.
        layer: usize,
        /// Width of the previous layer (or input dimension).
        expected: usize,
        /// `n_in` of the layer.
        got: usize,
    },
    /// `compose` of networks with mismatched shapes.
    #[error(
        "cannot compose: the first network has {outputs} outputs but the second reads {inputs} inputs; they must match"
    )]
    ComposeShape {
        /// Outputs of the first network.
        outputs: usize,
        /// Inputs of the second network.
        inputs: usize,
    },
    /// `parallel` of networks with different input dimensions.
    #[error(
        "cannot run in parallel: the networks read {left} and {right} inputs; parallel branches share one input"
    )]
    ParallelShape {
        /// Inputs of the left network.
        left: usize,
        /// Inputs of the right network.
        right: usize,
    },
    /// The target accuracy is not usable.
    #[error(
        "eps = {value} is not a usable target accuracy: give a finite eps in [{min:e}, 10] (below {min:e} double-precision rounding dominates)"
    )]
    BadEps {
        /// The value given.
        value: f64,
        /// Smallest accepted value.
        min: f64,
    },
    /// The time interval is not usable.
    #[error(
        "time interval [t_min, t_max] = [{t_min}, {t_max}] is not usable: give finite 0 < t_min < t_max"
    )]
    BadTimes {
        /// The lower end.
        t_min: f64,
        /// The upper end.
        t_max: f64,
    },
    /// A Chebyshev degree or iteration count above the cap.
    #[error(
        "{what} needs more than {cap} (bound still {bound:e} at the cap, target {target:e}): raise t_min or eps"
    )]
    TooLarge {
        /// What was being sized.
        what: String,
        /// The cap.
        cap: usize,
        /// The error bound reached at the cap.
        bound: f64,
        /// The target.
        target: f64,
    },
    /// No box radius brings the tail bound below its share of eps in f64 (means so far
    /// out that `R + 1` rounds to `R`, or a tail bound that is not a number).
    #[error(
        "no box radius R >= {r0:e} brings the bound on the score error outside the box below {target:e}: at this scale of the means, f64 cannot resolve the box (R + 1 rounds to R) or the bound is not a number; rescale the mixture so that its means are of moderate size (at most 1e8)"
    )]
    NoBoxRadius {
        /// `alpha_max max |mu_ki|`, where the search starts.
        r0: f64,
        /// The tail budget.
        target: f64,
    },
    /// A bad checker setting.
    #[error("{field} = {value} is not usable: {fix}")]
    BadSetting {
        /// The setting.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// What to do.
        fix: &'static str,
    },
    /// A point or time rejected by the model layer.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The trained comparison network could not be built or trained.
    #[error("DSM training: {0}")]
    Train(#[from] crate::nn::NnError),
}
