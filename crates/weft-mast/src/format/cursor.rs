//! A bounds-checked reader over untrusted bytes that knows its offset, in the manner of
//! wasmparser's `BinaryReader`: every read either returns data or a [`FormatError`] at the
//! offset where it failed; nothing panics.

use weft_core::{Felt, StarkField, Word};

use super::error::FormatError;

/// Reads little-endian integers, varints, felts and words from a byte slice.
#[derive(Clone, Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Returns the current offset.
    #[inline]
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Returns the number of bytes left.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Takes the next `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        let rest = &self.bytes[self.pos..];
        if n > rest.len() {
            return Err(FormatError::UnexpectedEof {
                offset: self.pos,
                needed: n - rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, FormatError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, FormatError> {
        let b = self.take(8)?;
        Ok(le_u64(b))
    }

    /// Reads a canonical field element stored as a little-endian u64.
    #[inline]
    pub(crate) fn felt(&mut self) -> Result<Felt, FormatError> {
        let offset = self.pos;
        felt_from_u64(self.u64()?, offset)
    }

    /// Reads a word of four canonical field elements.
    pub(crate) fn word(&mut self) -> Result<Word, FormatError> {
        Ok(Word::new([
            self.felt()?,
            self.felt()?,
            self.felt()?,
            self.felt()?,
        ]))
    }

    /// Reads an unsigned LEB128 varint of at most 64 bits, rejecting over-long encodings.
    pub(crate) fn varint(&mut self) -> Result<u64, FormatError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if i == 9 && byte > 1 {
                return Err(FormatError::InvalidVarint { offset: start });
            }
            value |= bits << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(FormatError::InvalidVarint { offset: start });
                }
                return Ok(value);
            }
        }
        Err(FormatError::InvalidVarint { offset: start })
    }

    /// Reads a count and checks it against `limit` and against the remaining input, given that
    /// each counted item takes at least `min_bytes` bytes.
    pub(crate) fn count_varint(
        &mut self,
        what: &'static str,
        limit: usize,
        min_bytes: usize,
    ) -> Result<usize, FormatError> {
        let offset = self.pos;
        let value = self.varint()?;
        self.check_count(offset, what, value, limit, min_bytes)
    }

    /// As [`Self::count_varint`], for a little-endian u32 count.
    pub(crate) fn count_u32(
        &mut self,
        what: &'static str,
        limit: usize,
        min_bytes: usize,
    ) -> Result<usize, FormatError> {
        let offset = self.pos;
        let value = u64::from(self.u32()?);
        self.check_count(offset, what, value, limit, min_bytes)
    }

    pub(crate) fn check_count(
        &self,
        offset: usize,
        what: &'static str,
        value: u64,
        limit: usize,
        min_bytes: usize,
    ) -> Result<usize, FormatError> {
        if value > limit as u64 {
            return Err(FormatError::LimitExceeded {
                offset,
                what,
                value,
                limit: limit as u64,
            });
        }
        let cap = self.remaining() / min_bytes.max(1);
        if value > cap as u64 {
            return Err(FormatError::LimitExceeded {
                offset,
                what,
                value,
                limit: cap as u64,
            });
        }
        Ok(value as usize)
    }

    /// Reads a length-prefixed (varint) UTF-8 string of at most `limit` bytes.
    pub(crate) fn string_varint(&mut self, limit: usize) -> Result<String, FormatError> {
        let len = self.count_varint("string length", limit, 1)?;
        let offset = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| FormatError::InvalidUtf8 { offset })
    }
}

/// Reads a little-endian u64 from the first eight bytes of `b` (zero if shorter).
#[inline(always)]
pub(crate) fn le_u64(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |w| u64::from_le_bytes(*w))
}

/// Returns `value` as a field element if it is canonical.
#[inline]
pub(crate) fn felt_from_u64(value: u64, offset: usize) -> Result<Felt, FormatError> {
    if value < Felt::MODULUS {
        Ok(Felt::new(value))
    } else {
        Err(FormatError::NonCanonicalFelt { offset, value })
    }
}

/// Appends `value` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
