//! Constructive approximation of the mixture score by ReLU-ReQU networks
//! (theory/06-score-approximation.md).
//!
//! - [`network`]: the network representation (sparse layers, counts, evaluation,
//!   combinators);
//! - [`builder`]: a computation graph that lowers to layers, carrying values through
//!   identity neurons so that parallel branches line up;
//! - [`blocks`]: exact products, Chebyshev and power trees, max, clipping;
//! - [`reciprocal`], [`softmax`]: Newton's reciprocal, range-reduced exp and the softmax,
//!   each with its proven error;
//! - [`chebyshev`]: interpolation of the time features with proven bounds;
//! - [`tail`]: the box radius from the `p_t`-mass outside the box;
//! - [`budget`]: from `eps` to the box radius, degrees and iteration counts (the error
//!   analysis lives in its module documentation);
//! - [`construct`]: the score network itself (OU);
//! - [`on_path`]: the network on any Gaussian path, the OU network composed with the
//!   clock `tau(t)` and the scaling `k(t)` of theory/07 (Theorem 6);
//!
//! # What the construction achieves, and its limits
//!
//! The budget is proven in exact arithmetic and leaves `APPROX_ROUNDING_SHARE` of `eps` to
//! floating-point rounding. It is conservative: on the built-in suite (`t in [0.01, 1]`)
//! the measured `sup_t ||s_theta - s||_{L^2(p_t)}` is 200 to 1200 times below `eps`, for
//! every `eps` from `1e-1` down to `MIN_EPS = 1e-7` (at `eps = 1e-5`: 3.9e-8 for
//! `two_mode(0.1)`, 1.7e-8 for `hetero3`). The measured error is largest at `t_min` and is
//! dominated there by the Chebyshev error of `alpha_t` (a constant offset
//! `S_k^{-1} Q_k^T mu_k delta_alpha` per component). The sizes grow like
//! `log(1/eps)^b` with small fitted `b` (depth about 0.05, width and parameters about
//! 0.25 over `eps in [1e-5, 1e-1]`): a fixed part (Newton steps for `S_k^{-1}` with a wide
//! argument range, the softmax) dominates, and the Chebyshev degree grows linearly in
//! `log(1/eps)`. The Chebyshev degree of `ln det S_k(t)` grows as `t_min` approaches the
//! singularity at `t = ln(1 - lambda_min)/2 < 0` (small `lambda_min` and small `t_min`);
//! a degree above `chebyshev::MAX_DEGREE` is refused with an error.

pub mod blocks;
pub mod budget;
pub mod builder;
pub mod chebyshev;
pub mod construct;
pub mod error;
pub mod network;
pub mod on_path;
pub mod reciprocal;
pub mod softmax;
pub mod tail;

pub use budget::{BudgetReport, ScoreNetConfig, ScoreNetParams};
pub use builder::{Builder, Lin, Node};
pub use chebyshev::{ChebFit, ChebSeries, TimeFunction, fit_time_function};
pub use construct::{NetworkSizes, ScoreNetwork};
pub use error::ApproxError;
pub use network::{Activation, Layer, Network, Row, SizeCounts};
pub use on_path::PathScoreNetwork;
pub use reciprocal::RecipPlan;
pub use softmax::{ExpPlan, SoftmaxPlan};
pub use tail::{box_radius, tail_bound};
