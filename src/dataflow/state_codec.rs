//! Explicit little-endian encoding of operator state: fixed-width rows of u64 words.
//!
//! Operator state is a checkpoint's payload, so its bytes must not depend on a serializer's
//! version; each built-in writes rows of words and reads them back with the checks here.

use super::operator::StateError;

/// Appends one row of words.
pub fn push_row<const WORDS: usize>(out: &mut Vec<u8>, row: [u64; WORDS]) {
    for word in row {
        out.extend_from_slice(&word.to_le_bytes());
    }
}

/// Splits `state` into rows of `WORDS` words, refusing a length that is not a whole number
/// of rows.
pub fn rows<const WORDS: usize>(state: &[u8]) -> Result<Vec<[u64; WORDS]>, StateError> {
    let row_bytes = WORDS * 8;
    if !state.len().is_multiple_of(row_bytes) {
        return Err(StateError(format!("{} bytes is not a whole number of {row_bytes}-byte rows", state.len())));
    }
    let decoded = state
        .chunks_exact(row_bytes)
        .map(|chunk| {
            let mut row = [0u64; WORDS];
            for (word, bytes) in row.iter_mut().zip(chunk.chunks_exact(8)) {
                *word = u64::from_le_bytes(bytes.try_into().expect("chunks_exact(8) gives 8 bytes"));
            }
            row
        })
        .collect();
    Ok(decoded)
}
