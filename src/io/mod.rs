//! Reading user inputs (mixture and points files, built-in names) and writing outputs
//! atomically.
//! Every error names the file or field and says how to fix it.

pub mod atomic;
pub mod error;
pub mod finite;
pub mod inputs;
pub mod overflow;

pub use atomic::{create_dir, write_atomic};
pub use error::{InputError, OutputError, error_message};
pub use finite::{NonFinite, check_finite};
pub use inputs::{load_mixture, load_points, parse_points};
