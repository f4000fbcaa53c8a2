//! The final guard on outputs: a NaN or an infinity that reaches a result is an error that
//! names the quantity, not a number to print (JSON has no NaN, and `serde_json` would
//! silently write `null`).
//!
//! [`check_finite`] walks any `Serialize` value the way a serialiser would and stops at
//! the first non-finite `f64`/`f32`, returning its path (`rows[2].bound`).

use serde::Serialize;
use serde::ser::{self, Impossible};

/// A non-finite number in an output.
#[derive(Debug, Clone, PartialEq)]
pub struct NonFinite {
    /// Where: field names and indices from the root, e.g. `rows[2].bound`.
    pub path: String,
    /// The value (NaN or +-inf), or NaN for a value that could not be walked.
    pub value: f64,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the result {} is {}: the computation left f64 range, so there is no number to report; check the inputs' magnitudes (README.md, \"Limits and exit status\")",
            if self.path.is_empty() {
                "value"
            } else {
                &self.path
            },
            self.value
        )
    }
}

impl std::error::Error for NonFinite {}

impl ser::Error for NonFinite {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        NonFinite {
            path: format!("(unwalkable: {msg})"),
            value: f64::NAN,
        }
    }
}

/// Check that every number in `value` is finite.
///
/// ```
/// use flowcert::io::check_finite;
/// #[derive(serde::Serialize)]
/// struct Row { t: f64, bound: f64 }
/// #[derive(serde::Serialize)]
/// struct Out { rows: Vec<Row> }
/// let ok = Out { rows: vec![Row { t: 0.1, bound: 2.0 }] };
/// assert!(check_finite(&ok).is_ok());
/// let bad = Out { rows: vec![Row { t: 0.1, bound: 2.0 }, Row { t: 1.0, bound: f64::INFINITY }] };
/// assert_eq!(check_finite(&bad).unwrap_err().path, "rows[1].bound");
/// ```
pub fn check_finite<T: Serialize + ?Sized>(value: &T) -> Result<(), NonFinite> {
    value.serialize(&mut Walker { path: Vec::new() })
}

/// One step of a path: a field name or an index.
enum Step {
    Field(String),
    Index(usize),
}

struct Walker {
    path: Vec<Step>,
}

impl Walker {
    fn path_text(&self) -> String {
        let mut out = String::new();
        for s in &self.path {
            match s {
                Step::Field(f) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(f);
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn float(&self, v: f64) -> Result<(), NonFinite> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(NonFinite {
                path: self.path_text(),
                value: v,
            })
        }
    }

    fn within<T: Serialize + ?Sized>(&mut self, step: Step, v: &T) -> Result<(), NonFinite> {
        self.path.push(step);
        let r = v.serialize(&mut *self);
        self.path.pop();
        r
    }

    /// The next index of the innermost sequence (kept as the last `Index` step).
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        let i = match self.path.last() {
            Some(Step::Index(i)) => *i,
            _ => 0,
        };
        if let Some(Step::Index(slot)) = self.path.last_mut() {
            *slot = i;
        }
        let r = v.serialize(&mut *self);
        if let Some(Step::Index(slot)) = self.path.last_mut() {
            *slot = i + 1;
        }
        r
    }
}

macro_rules! ok_scalars {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(self, _: $t) -> Result<(), NonFinite> { Ok(()) })*
    };
}

impl<'a> ser::Serializer for &'a mut Walker {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    ok_scalars!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8], serialize_unit_struct: &'static str);

    fn serialize_f32(self, v: f32) -> Result<(), NonFinite> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NonFinite> {
        self.float(v)
    }
    fn serialize_none(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), NonFinite> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        self.within(Step::Field(variant.to_string()), v)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Seq<'a>, NonFinite> {
        self.path.push(Step::Index(0));
        Ok(Seq(self))
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>, NonFinite> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Seq<'a>, NonFinite> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        len: usize,
    ) -> Result<Seq<'a>, NonFinite> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Map<'a>, NonFinite> {
        Ok(Map {
            walker: self,
            key: String::new(),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Map<'a>, NonFinite> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Map<'a>, NonFinite> {
        self.serialize_map(None)
    }
}

/// A sequence being walked (its index is the last path step).
#[doc(hidden)]
pub struct Seq<'a>(&'a mut Walker);

impl Seq<'_> {
    fn end_seq(self) -> Result<(), NonFinite> {
        self.0.path.pop();
        Ok(())
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        self.0.element(v)
    }
    fn end(self) -> Result<(), NonFinite> {
        self.end_seq()
    }
}

impl ser::SerializeTuple for Seq<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        self.0.element(v)
    }
    fn end(self) -> Result<(), NonFinite> {
        self.end_seq()
    }
}

impl ser::SerializeTupleStruct for Seq<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        self.0.element(v)
    }
    fn end(self) -> Result<(), NonFinite> {
        self.end_seq()
    }
}

impl ser::SerializeTupleVariant for Seq<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        self.0.element(v)
    }
    fn end(self) -> Result<(), NonFinite> {
        self.end_seq()
    }
}

/// A map or struct being walked.
#[doc(hidden)]
pub struct Map<'a> {
    walker: &'a mut Walker,
    key: String,
}

/// Map keys as text (strings as themselves, numbers formatted).
struct KeyText;

macro_rules! key_scalars {
    ($($name:ident: $t:ty),*) => {
        $(fn $name(self, v: $t) -> Result<String, NonFinite> { Ok(v.to_string()) })*
    };
}

impl ser::Serializer for KeyText {
    type Ok = String;
    type Error = NonFinite;
    type SerializeSeq = Impossible<String, NonFinite>;
    type SerializeTuple = Impossible<String, NonFinite>;
    type SerializeTupleStruct = Impossible<String, NonFinite>;
    type SerializeTupleVariant = Impossible<String, NonFinite>;
    type SerializeMap = Impossible<String, NonFinite>;
    type SerializeStruct = Impossible<String, NonFinite>;
    type SerializeStructVariant = Impossible<String, NonFinite>;

    key_scalars!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_f32: f32, serialize_f64: f64);

    fn serialize_bytes(self, _: &[u8]) -> Result<String, NonFinite> {
        Ok("?".into())
    }
    fn serialize_none(self) -> Result<String, NonFinite> {
        Ok("?".into())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<String, NonFinite> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<String, NonFinite> {
        Ok("?".into())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, NonFinite> {
        Ok(name.into())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
    ) -> Result<String, NonFinite> {
        Ok(v.into())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<String, NonFinite> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        v: &'static str,
        _: &T,
    ) -> Result<String, NonFinite> {
        Ok(v.into())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NonFinite> {
        Err(ser::Error::custom("a sequence as a map key"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NonFinite> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NonFinite> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NonFinite> {
        Err(ser::Error::custom("a tuple as a map key"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NonFinite> {
        Err(ser::Error::custom("a map as a map key"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NonFinite> {
        Err(ser::Error::custom("a struct as a map key"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NonFinite> {
        Err(ser::Error::custom("a struct as a map key"))
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), NonFinite> {
        self.key = k.serialize(KeyText)?;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        let key = std::mem::take(&mut self.key);
        self.walker.within(Step::Field(key), v)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeStruct for Map<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        self.walker.within(Step::Field(name.to_string()), v)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Map<'_> {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        self.walker.within(Step::Field(name.to_string()), v)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}
