//! Constructive approximation of the mixture score by ReLU-ReQU networks
//! (theory-brief section 7).
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
//! - [`construct`]: the score network itself;
//! - [`checker`]: the Monte Carlo checker of the theorem and the size tables;
//! - [`trained`]: a DSM-trained MLP of the same size, for comparison.

pub mod blocks;
pub mod budget;
pub mod builder;
pub mod chebyshev;
pub mod checker;
pub mod construct;
pub mod error;
pub mod network;
pub mod reciprocal;
pub mod softmax;
pub mod tail;
pub mod trained;

pub use budget::{BudgetReport, ScoreNetConfig, ScoreNetParams};
pub use builder::{Builder, Lin, Node};
pub use chebyshev::{ChebFit, ChebSeries, TimeFunction, fit_time_function};
pub use construct::{NetworkSizes, ScoreNetwork};
pub use error::ApproxError;
pub use network::{Activation, Layer, Network, Row, SizeCounts};
pub use reciprocal::RecipPlan;
pub use softmax::{ExpPlan, SoftmaxPlan};
pub use tail::{box_radius, tail_bound};
