//! Bounded reading of input files: a file larger than its limit (or endless, such as
//! `/dev/zero`) is refused after reading one byte more than the limit; text loses a
//! leading byte-order mark; JSON syntax errors name NaN and Infinity, which JSON cannot
//! express.

use std::io::Read;
use std::path::Path;

use super::LimitError;

/// Read at most `limit` bytes of the file at `path`: a larger file (or an endless one such
/// as `/dev/zero`) is refused after reading `limit + 1` bytes, before anything larger is
/// allocated. `what` names the kind of file in errors.
///
/// ```
/// use flowcert::limits::read_limited;
/// let p = std::env::temp_dir().join("flowcert-doc-read-limited");
/// std::fs::write(&p, b"12345").unwrap();
/// assert_eq!(read_limited(&p, "points", 5).unwrap(), b"12345");
/// assert!(read_limited(&p, "points", 4).unwrap_err().to_string().contains("larger than 4 bytes"));
/// ```
pub fn read_limited(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, LimitError> {
    let shown = || path.display().to_string();
    let unreadable = |e: std::io::Error| LimitError::Unreadable {
        what,
        path: shown(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if meta.is_dir() {
        return Err(LimitError::Unreadable {
            what,
            path: shown(),
            reason: "it is a directory".into(),
        });
    }
    if meta.is_file() && meta.len() > limit {
        return Err(LimitError::FileSize {
            what,
            path: shown(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() {
        meta.len() as usize
    } else {
        0
    });
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(LimitError::FileSize {
            what,
            path: shown(),
            limit,
        });
    }
    Ok(bytes)
}

/// [`read_limited`] as text; a leading UTF-8 byte-order mark is dropped.
///
/// ```
/// let p = std::env::temp_dir().join("flowcert-doc-read-text");
/// std::fs::write(&p, "\u{feff}[1]").unwrap();
/// assert_eq!(flowcert::limits::read_text(&p, "points", 100).unwrap(), "[1]");
/// ```
pub fn read_text(path: &Path, what: &'static str, limit: u64) -> Result<String, LimitError> {
    let bytes = read_limited(path, what, limit)?;
    let mut text = String::from_utf8(bytes).map_err(|e| LimitError::Unreadable {
        what,
        path: path.display().to_string(),
        reason: format!(
            "it is not UTF-8 text (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        ),
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// The message of a JSON syntax error, with a hint where the text holds `NaN` or
/// `Infinity` (which JSON cannot express) at the error position.
///
/// ```
/// let text = r#"{"a": [1, NaN]}"#;
/// let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
/// let msg = flowcert::limits::json_error(text, &e);
/// assert!(msg.contains("JSON has no NaN or Infinity"), "{msg}");
/// ```
pub fn json_error(text: &str, e: &serde_json::Error) -> String {
    let base = e.to_string();
    match non_finite_token(text, e.line(), e.column()) {
        Some(tok) => format!(
            "{base}: '{tok}' is not a JSON number; JSON has no NaN or Infinity, and every number flowcert reads must be finite: write a finite number there (there is no way to write NaN or infinity in JSON)"
        ),
        None => base,
    }
}

/// The `NaN`/`Infinity`-like token at (or right before) a 1-based line and column.
fn non_finite_token(text: &str, line: usize, column: usize) -> Option<&str> {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let at = start + column.saturating_sub(1);
    const TOKENS: [&str; 8] = [
        "-infinity",
        "+infinity",
        "infinity",
        "-inf",
        "+inf",
        "inf",
        "-nan",
        "nan",
    ];
    for from in at.saturating_sub(2)..=at.saturating_add(1) {
        let Some(rest) = text.get(from..) else {
            continue;
        };
        for tok in TOKENS {
            if rest.len() >= tok.len()
                && rest.is_char_boundary(tok.len())
                && rest[..tok.len()].eq_ignore_ascii_case(tok)
            {
                return Some(&rest[..tok.len()]);
            }
        }
    }
    None
}
