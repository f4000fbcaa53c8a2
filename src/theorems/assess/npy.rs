//! The NPY format (version 1.0), written and read by hand, for 1-D and 2-D float arrays.
//!
//! ```text
//! b"\x93NUMPY" 0x01 0x00  u16-LE header length  header  data
//! header = "{'descr': '<f8', 'fortran_order': False, 'shape': (M, N), }"  padded with
//!          spaces and a final '\n' so that the data starts at a multiple of 64 bytes
//! data   = M N little-endian f64, row-major (C order)
//! ```
//! Reading also accepts versions 2.0 and 3.0 (u32 header length), `descr` `<f4`, `>f8`,
//! `>f4` and `fortran_order: True`, which is what NumPy writes for `float32`, big-endian
//! or transposed arrays; everything else is refused with a message that says how to
//! convert (`np.save(path, np.ascontiguousarray(a, dtype='<f8'))`).
//!
//! Before anything is allocated: the header is at most
//! [`crate::limits::MAX_NPY_HEADER_BYTES`], the element count is the checked product of
//! the shape and at most [`crate::limits::MAX_VALUES`], and the data's byte count (checked
//! too) must equal what follows the header in the file.

use thiserror::Error;

const MAGIC: &[u8; 6] = b"\x93NUMPY";
const FIX: &str = "save a float64 array with np.save(path, np.ascontiguousarray(a, dtype='<f8'))";

/// What is wrong with NPY bytes.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("not a usable .npy array: {message}; {FIX}")]
pub struct NpyError {
    /// What is wrong.
    pub message: String,
}

fn err(message: impl Into<String>) -> NpyError {
    NpyError {
        message: message.into(),
    }
}

/// A float array read from NPY: `shape` and the entries in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape (one or two axes).
    pub shape: Vec<usize>,
    /// Entries, row-major.
    pub data: Vec<f64>,
}

/// Encode a `rows x cols` row-major array of f64 as NPY v1.0.
///
/// # Panics
/// If `data.len() != rows * cols` (a programming error, not user input).
///
/// ```
/// use flowcert::theorems::assess::npy::{from_npy, to_npy};
/// let bytes = to_npy(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(&bytes[..6], b"\x93NUMPY");
/// let header_end = 10 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
/// assert_eq!(header_end % 64, 0);
/// let a = from_npy(&bytes).unwrap();
/// assert_eq!((a.shape.as_slice(), a.data[4]), (&[2, 3][..], 5.0));
/// ```
pub fn to_npy(rows: usize, cols: usize, data: &[f64]) -> Vec<u8> {
    assert_eq!(data.len(), rows * cols, "to_npy: data is not rows x cols");
    let mut header =
        format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 8 * data.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The value of `'key': ...` in the header dict (up to the next top-level comma).
fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let pat = format!("'{key}'");
    let start = header
        .find(&pat)
        .ok_or_else(|| err(format!("the header has no '{key}'")))?;
    let rest = header[start + pat.len()..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| err(format!("malformed header near '{key}'")))?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|i| i + 1)
    } else {
        rest.find([',', '}'])
    }
    .ok_or_else(|| err(format!("malformed header near '{key}'")))?;
    Ok(rest[..end].trim())
}

/// Decode NPY bytes holding a 1-D or 2-D float array (module doc for what is accepted).
///
/// ```
/// use flowcert::theorems::assess::npy::from_npy;
/// assert!(from_npy(b"not an npy file").is_err());
/// ```
pub fn from_npy(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(err("the file does not start with the NPY magic \\x93NUMPY"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(err(format!("NPY version {v} is not supported (1, 2 or 3)"))),
    };
    if header_len > crate::limits::MAX_NPY_HEADER_BYTES {
        return Err(err(format!(
            "the header is {header_len} bytes, more than the {} a NumPy header needs",
            crate::limits::MAX_NPY_HEADER_BYTES
        )));
    }
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| err("the header is longer than the file"))?;
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| err("the header is not text"))?;
    let descr = field(header, "descr")?.trim_matches(['\'', '"']);
    let (size, little) = match descr {
        "<f8" => (8, true),
        "<f4" => (4, true),
        ">f8" => (8, false),
        ">f4" => (4, false),
        other => {
            return Err(err(format!(
                "dtype '{other}' is not a float64 or float32 array"
            )));
        }
    };
    let fortran = match field(header, "fortran_order")? {
        "False" => false,
        "True" => true,
        other => return Err(err(format!("fortran_order '{other}' is not True or False"))),
    };
    let shape_text = field(header, "shape")?;
    let shape: Vec<usize> = shape_text
        .trim_matches(['(', ')'])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| err(format!("shape {shape_text} is not a tuple of integers")))?;
    if shape.is_empty() || shape.len() > 2 {
        return Err(err(format!(
            "shape {shape_text} has {} axes; give a 1-D or 2-D array",
            shape.len()
        )));
    }
    let n = shape
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&n| n <= crate::limits::MAX_VALUES)
        .ok_or_else(|| {
            err(format!(
                "shape {shape_text} has more than {} elements",
                crate::limits::MAX_VALUES
            ))
        })?;
    let body = &bytes[end..];
    let need = n
        .checked_mul(size)
        .ok_or_else(|| err(format!("shape {shape_text} is too large")))?;
    if body.len() != need {
        return Err(err(format!(
            "shape {shape_text} needs {need} data bytes but the file has {} after the header",
            body.len()
        )));
    }
    let mut data: Vec<f64> = body
        .chunks_exact(size)
        .map(|c| match (size, little) {
            (8, true) => f64::from_le_bytes(c.try_into().expect("8 bytes")),
            (8, false) => f64::from_be_bytes(c.try_into().expect("8 bytes")),
            (_, true) => f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))),
            (_, false) => f64::from(f32::from_be_bytes(c.try_into().expect("4 bytes"))),
        })
        .collect();
    if fortran && shape.len() == 2 {
        let (r, c) = (shape[0], shape[1]);
        let col_major = data;
        data = (0..r * c).map(|k| col_major[(k % c) * r + k / c]).collect();
    }
    Ok(NpyArray { shape, data })
}
