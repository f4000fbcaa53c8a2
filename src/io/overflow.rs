//! A bound that may exceed the f64 range: `+inf` is written as JSON `null` and read back as
//! `+inf` (the bound is vacuous there: `exp(Lambda)` overflows, as for the local bounds of
//! heterogeneous mixtures over long intervals); any other non-finite value is written as a
//! number, so the final guard ([`crate::io::check_finite`]) still refuses a NaN.
//!
//! Use with `#[serde(with = "crate::io::overflow")]` on an `f64` field.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Row { #[serde(with = "flowcert::io::overflow")] bound: f64 }
//! let s = serde_json::to_string(&Row { bound: f64::INFINITY }).unwrap();
//! assert_eq!(s, r#"{"bound":null}"#);
//! assert!(flowcert::io::check_finite(&Row { bound: f64::INFINITY }).is_ok());
//! assert!(flowcert::io::check_finite(&Row { bound: f64::NAN }).is_err());
//! let back: Row = serde_json::from_str(&s).unwrap();
//! assert_eq!(back.bound, f64::INFINITY);
//! let r: Row = serde_json::from_str(r#"{"bound":2.5}"#).unwrap();
//! assert_eq!(r.bound, 2.5);
//! ```

use serde::{Deserialize, Deserializer, Serializer};

/// `+inf` as `None` (JSON `null`), everything else as the number.
pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if *v == f64::INFINITY {
        s.serialize_none()
    } else {
        s.serialize_f64(*v)
    }
}

/// `null` as `+inf`, a number as itself.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
}
