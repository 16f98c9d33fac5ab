//! The text format's tokens and literals: the lexer, operations with their immediates,
//! numbers, words and string literals.

use std::collections::HashMap;

use weft_core::{Felt, OpCode, Word};

use crate::format::{cursor::felt_from_u64, error::FormatError};

/// Parses `mnemonic` or `mnemonic(imm)`.
pub(super) fn operation(
    mnemonics: &HashMap<&'static str, OpCode>,
    token: &str,
    at: usize,
) -> Result<(OpCode, Option<Felt>), FormatError> {
    let (name, imm) = match token.split_once('(') {
        Some((name, rest)) => {
            let digits = rest.strip_suffix(')').ok_or(FormatError::Syntax {
                offset: at + token.len(),
                expected: "`)`",
            })?;
            let imm_at = at + name.len() + 1;
            let value = parse_u64(digits, imm_at)?;
            (name, Some(felt_from_u64(value, imm_at)?))
        }
        None => (token, None),
    };
    let code = mnemonics.get(name).copied().ok_or(FormatError::Syntax {
        offset: at,
        expected: "an operation mnemonic",
    })?;
    let expects_imm = code.imm_kind() != weft_core::operations::ImmKind::None;
    match (expects_imm, imm.is_some()) {
        (true, false) => Err(FormatError::InvalidOperation {
            offset: at,
            source: weft_core::OpDecodeError::MissingImmediate { op: code },
        }),
        (false, true) => Err(FormatError::InvalidOperation {
            offset: at,
            source: weft_core::OpDecodeError::UnexpectedImmediate { op: code },
        }),
        _ => Ok((code, imm)),
    }
}

pub(super) fn parse_u64(digits: &str, at: usize) -> Result<u64, FormatError> {
    // Only plain decimal digits: `u64::from_str` would also accept a leading `+`.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FormatError::Syntax {
            offset: at,
            expected: "a decimal number",
        });
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(FormatError::Syntax {
            offset: at,
            expected: "a decimal number without leading zeros",
        });
    }
    digits.parse::<u64>().map_err(|_| FormatError::Syntax {
        offset: at,
        expected: "a number below 2^64",
    })
}

pub(super) fn word_literal(lex: &mut Lexer<'_>) -> Result<Word, FormatError> {
    let (at, w) = word(lex, "a word (0x and 64 hex digits)")?;
    let hex = w
        .strip_prefix("0x")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(FormatError::Syntax {
            offset: at,
            expected: "a word (0x and 64 hex digits)",
        })?;
    let mut felts = [Felt::new(0); 4];
    for (k, felt) in felts.iter_mut().enumerate() {
        let mut bytes = [0u8; 8];
        for (j, byte) in bytes.iter_mut().enumerate() {
            let s = 16 * k + 2 * j;
            *byte = u8::from_str_radix(&hex[s..s + 2], 16).map_err(|_| FormatError::Syntax {
                offset: at + 2 + s,
                expected: "a hex digit",
            })?;
        }
        *felt = felt_from_u64(u64::from_le_bytes(bytes), at + 2 + 16 * k)?;
    }
    Ok(Word::new(felts))
}

pub(super) fn unescape(raw: &str, at: usize) -> Result<String, FormatError> {
    let bad = |offset| FormatError::Syntax {
        offset,
        expected: "a valid escape sequence",
    };
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let offset = at + 1 + i;
        match chars.next().map(|(_, c)| c) {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('u') => {
                if chars.next().map(|(_, c)| c) != Some('{') {
                    return Err(bad(offset));
                }
                let mut value: u32 = 0;
                let mut n_digits = 0;
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('}') if n_digits > 0 => break,
                        Some(d)
                            if n_digits < 6
                                && let Some(digit) = d.to_digit(16) =>
                        {
                            value = value * 16 + digit;
                            n_digits += 1;
                        }
                        _ => return Err(bad(offset)),
                    }
                }
                out.push(char::from_u32(value).ok_or(bad(offset))?);
            }
            _ => return Err(bad(offset)),
        }
    }
    Ok(out)
}

// LEXER
// ================================================================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token<'a> {
    Word(&'a str),
    /// A string literal's raw contents, between the quotes.
    Str(&'a str),
    Open,
    Close,
}

pub(super) struct Lexer<'a> {
    pub(super) text: &'a str,
    pub(super) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn next(&mut self) -> Result<Option<(usize, Token<'a>)>, FormatError> {
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(self.pos) {
                None => return Ok(None),
                Some(b) if b.is_ascii_whitespace() => self.pos += 1,
                Some(b';') => {
                    self.pos = self.text[self.pos..]
                        .find('\n')
                        .map_or(self.text.len(), |i| self.pos + i);
                }
                Some(_) => break,
            }
        }
        let start = self.pos;
        match bytes[start] {
            b'[' => {
                self.pos += 1;
                Ok(Some((start, Token::Open)))
            }
            b']' => {
                self.pos += 1;
                Ok(Some((start, Token::Close)))
            }
            b'"' => {
                let mut i = start + 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(FormatError::Syntax {
                                offset: start,
                                expected: "a closing `\"`",
                            });
                        }
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                self.pos = i + 1;
                // Both ends are ASCII quotes, so the slice is on char boundaries.
                Ok(Some((start, Token::Str(&self.text[start + 1..i]))))
            }
            _ => {
                let len = self.text[start..]
                    .find(|c: char| c.is_ascii_whitespace() || matches!(c, '[' | ']' | '"' | ';'))
                    .unwrap_or(self.text.len() - start);
                self.pos = start + len;
                Ok(Some((start, Token::Word(&self.text[start..start + len]))))
            }
        }
    }
}

pub(super) fn word<'a>(
    lex: &mut Lexer<'a>,
    expected: &'static str,
) -> Result<(usize, &'a str), FormatError> {
    match lex.next()? {
        Some((at, Token::Word(w))) => Ok((at, w)),
        other => Err(FormatError::Syntax {
            offset: other.map_or(lex.text.len(), |(a, _)| a),
            expected,
        }),
    }
}

pub(super) fn number(
    lex: &mut Lexer<'_>,
    expected: &'static str,
) -> Result<(usize, u64), FormatError> {
    let (at, w) = word(lex, expected)?;
    Ok((at, parse_u64(w, at)?))
}

pub(super) fn expect_word(
    lex: &mut Lexer<'_>,
    keyword: &str,
    expected: &'static str,
) -> Result<(), FormatError> {
    let (at, w) = word(lex, expected)?;
    if w == keyword {
        Ok(())
    } else {
        Err(FormatError::Syntax {
            offset: at,
            expected,
        })
    }
}

pub(super) fn expect_token(
    lex: &mut Lexer<'_>,
    token: Token<'_>,
    expected: &'static str,
) -> Result<(), FormatError> {
    match lex.next()? {
        Some((_, t)) if t == token => Ok(()),
        other => Err(FormatError::Syntax {
            offset: other.map_or(lex.text.len(), |(a, _)| a),
            expected,
        }),
    }
}
