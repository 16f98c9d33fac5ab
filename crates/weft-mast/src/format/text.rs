//! The text format: a readable, round-trippable listing of a forest, in the spirit of WAT.
//!
//! ```text
//! ; comments run from `;` to the end of the line
//! mast 1
//! node 0 block [push(5) add assert(0)]   ; digest 0x…
//! node 1 join 0 0
//! node 2 split 0 1
//! node 3 loop 0
//! node 4 call 3
//! node 5 syscall 3
//! node 6 dyn
//! node 7 dyncall
//! node 8 external 0x<64 hex digits>
//! root 4
//! advice 0x<64 hex digits> [1 2 3]
//! error 17 "message with \"escapes\"\n"
//! ```
//!
//! Tokens are separated by whitespace; `[`, `]` and string literals are tokens of their own.
//! Nodes are numbered from 0 in order and children must precede their parent. Operations are
//! upstream's lowercase mnemonics, with their immediate in parentheses (`push(5)`); words are
//! `0x` and 64 hex digits (four little-endian `u64`s, as upstream prints digests); strings use
//! Rust's escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\0`, `\'`, `\u{…}`). Digests are printed as
//! comments and recomputed on reading. Every error carries its line and column (1-based, column
//! counted in characters).

use std::{collections::HashMap, fmt::Write};

use weft_core::{Felt, OpCode, Word};

use super::{
    cursor::felt_from_u64,
    error::{FormatError, WriteError},
    raw::{RawNode, UntrustedMastForest},
    writable::check_writable,
};
use crate::limits;
use crate::{MastForest, MastNode};

/// The version line this module writes and reads (`mast 1`).
pub const VERSION: u32 = 1;

/// A text-format error with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {error}")]
pub struct TextError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The error, whose offset is the byte offset in the text.
    pub error: FormatError,
}

impl TextError {
    fn at(text: &str, error: FormatError) -> Self {
        let offset = error.offset().min(text.len());
        let mut cut = offset;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &text[..cut];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Self {
            line,
            column,
            error,
        }
    }
}

// PRINTING
// ================================================================================================

/// Prints `forest` in the text format.
///
/// # Errors
/// [`WriteError`] if the forest carries decorators or has duplicate nodes.
pub fn print(forest: &MastForest) -> Result<String, WriteError> {
    check_writable(forest)?;
    let mut out = String::new();
    out.push_str("; weft MAST text format\nmast 1\n");
    for (i, node) in forest.nodes().iter().enumerate() {
        let _ = write!(out, "node {i} ");
        let c = node.children();
        match node {
            MastNode::Block(block) => {
                out.push_str("block [");
                for (k, op) in block.raw_ops()?.enumerate() {
                    if k > 0 {
                        out.push(if k % 16 == 0 { '\n' } else { ' ' });
                        if k % 16 == 0 {
                            out.push_str("    ");
                        }
                    }
                    let _ = write!(out, "{op}");
                }
                out.push(']');
            }
            MastNode::Join(_) => {
                let _ = write!(out, "join {} {}", c[0].as_u32(), c[1].as_u32());
            }
            MastNode::Split(_) => {
                let _ = write!(out, "split {} {}", c[0].as_u32(), c[1].as_u32());
            }
            MastNode::Loop(_) => {
                let _ = write!(out, "loop {}", c[0].as_u32());
            }
            MastNode::Call(n) => {
                let kw = if n.is_syscall() { "syscall" } else { "call" };
                let _ = write!(out, "{kw} {}", c[0].as_u32());
            }
            MastNode::Dyn(n) => out.push_str(if n.is_dyncall() { "dyncall" } else { "dyn" }),
            MastNode::External(n) => {
                out.push_str("external ");
                put_word(&mut out, &n.digest);
            }
        }
        if !matches!(node, MastNode::External(_)) {
            out.push_str("  ; ");
            put_word(&mut out, &node.digest());
        }
        out.push('\n');
    }
    for root in forest.procedure_roots() {
        let _ = writeln!(out, "root {}", root.as_u32());
    }
    for (key, values) in forest.advice_map().iter() {
        out.push_str("advice ");
        put_word(&mut out, key);
        out.push_str(" [");
        for (k, v) in values.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            let _ = write!(out, "{}", v.as_int());
        }
        out.push_str("]\n");
    }
    for (code, message) in forest.error_messages() {
        let _ = writeln!(out, "error {code} {message:?}");
    }
    Ok(out)
}

fn put_word(out: &mut String, word: &Word) {
    out.push_str("0x");
    for felt in word.iter() {
        for byte in felt.as_int().to_le_bytes() {
            let _ = write!(out, "{byte:02x}");
        }
    }
}

// PARSING
// ================================================================================================

/// Parses and validates text into a forest.
///
/// # Errors
/// A [`TextError`] at the line and column of the first problem.
pub fn parse(text: &str) -> Result<MastForest, TextError> {
    read(text)?
        .validate()
        .map_err(|error| TextError::at(text, error))
}

/// Parses text into an untrusted forest (byte offsets in it are offsets in `text`).
///
/// # Errors
/// A [`TextError`] at the line and column of the first syntax error.
pub fn read(text: &str) -> Result<UntrustedMastForest, TextError> {
    read_inner(text).map_err(|error| TextError::at(text, error))
}

fn read_inner(text: &str) -> Result<UntrustedMastForest, FormatError> {
    if text.len() > limits::MAX_INPUT_LEN {
        return Err(FormatError::LimitExceeded {
            offset: 0,
            what: "input length",
            value: text.len() as u64,
            limit: limits::MAX_INPUT_LEN as u64,
        });
    }
    let mnemonics: HashMap<&'static str, OpCode> =
        OpCode::ALL.iter().map(|&op| (op.mnemonic(), op)).collect();
    let mut lex = Lexer { text, pos: 0 };
    let mut forest = UntrustedMastForest::default();
    let (mut opcodes, mut imms) = (Vec::new(), Vec::new());

    expect_word(&mut lex, "mast", "`mast`")?;
    let (at, version) = number(&mut lex, "the format version")?;
    if version != u64::from(VERSION) {
        return Err(FormatError::UnsupportedVersion {
            offset: at,
            found: u32::try_from(version).unwrap_or(u32::MAX),
            expected: VERSION,
        });
    }
    while let Some((at, token)) = lex.next()? {
        match token {
            Token::Word("node") => {
                let (idx_at, idx) = number(&mut lex, "a node index")?;
                if idx != forest.nodes.len() as u64 {
                    return Err(FormatError::IndexOutOfRange {
                        offset: idx_at,
                        what: "node index (nodes are numbered in order)",
                        index: idx,
                        bound: forest.nodes.len(),
                    });
                }
                if forest.nodes.len() >= limits::MAX_NODES {
                    return Err(FormatError::LimitExceeded {
                        offset: idx_at,
                        what: "node count",
                        value: idx,
                        limit: limits::MAX_NODES as u64,
                    });
                }
                let (kind_at, kind) = word(&mut lex, "a node kind")?;
                let child = |lex: &mut Lexer<'_>| -> Result<u32, FormatError> {
                    let (at, c) = number(lex, "a child index")?;
                    u32::try_from(c).map_err(|_| FormatError::IndexOutOfRange {
                        offset: at,
                        what: "child",
                        index: c,
                        bound: forest.nodes.len(),
                    })
                };
                let node = match kind {
                    "block" => {
                        expect_token(&mut lex, Token::Open, "`[`")?;
                        forest.block_op_offsets.push(lex.pos as u32);
                        let mut n_ops: u32 = 0;
                        loop {
                            match lex.next()? {
                                Some((_, Token::Close)) => break,
                                Some((op_at, Token::Word(w))) => {
                                    let (code, imm) = operation(&mnemonics, w, op_at)?;
                                    opcodes.push(code.as_u8());
                                    if let Some(imm) = imm {
                                        imms.push(imm.as_int());
                                    }
                                    n_ops += 1;
                                    if n_ops as usize > limits::MAX_BLOCK_OPS {
                                        return Err(FormatError::LimitExceeded {
                                            offset: op_at,
                                            what: "block operation count",
                                            value: u64::from(n_ops),
                                            limit: limits::MAX_BLOCK_OPS as u64,
                                        });
                                    }
                                }
                                Some((at, _)) => {
                                    return Err(FormatError::Syntax {
                                        offset: at,
                                        expected: "an operation or `]`",
                                    });
                                }
                                None => {
                                    return Err(FormatError::Syntax {
                                        offset: text.len(),
                                        expected: "`]`",
                                    });
                                }
                            }
                        }
                        RawNode::Block { n_ops }
                    }
                    "join" => RawNode::Join(child(&mut lex)?, child(&mut lex)?),
                    "split" => RawNode::Split(child(&mut lex)?, child(&mut lex)?),
                    "loop" => RawNode::Loop(child(&mut lex)?),
                    "call" => RawNode::Call(child(&mut lex)?),
                    "syscall" => RawNode::Syscall(child(&mut lex)?),
                    "dyn" => RawNode::Dyn,
                    "dyncall" => RawNode::Dyncall,
                    "external" => RawNode::External(word_literal(&mut lex)?),
                    _ => {
                        return Err(FormatError::Syntax {
                            offset: kind_at,
                            expected: "a node kind (block, join, split, loop, call, syscall, \
                                       dyn, dyncall, external)",
                        });
                    }
                };
                forest.nodes.push(node);
                forest.node_offsets.push(at as u32);
            }
            Token::Word("root") => {
                let (r_at, r) = number(&mut lex, "a root node index")?;
                let root = u32::try_from(r).map_err(|_| FormatError::IndexOutOfRange {
                    offset: r_at,
                    what: "root",
                    index: r,
                    bound: forest.nodes.len(),
                })?;
                forest.roots.push((root, r_at as u32));
            }
            Token::Word("advice") => {
                let key = word_literal(&mut lex)?;
                expect_token(&mut lex, Token::Open, "`[`")?;
                let mut values = Vec::new();
                loop {
                    match lex.next()? {
                        Some((_, Token::Close)) => break,
                        Some((v_at, Token::Word(w))) => {
                            let v = parse_u64(w, v_at)?;
                            values.push(felt_from_u64(v, v_at)?);
                            if values.len() > limits::MAX_ADVICE_VALUES {
                                return Err(FormatError::LimitExceeded {
                                    offset: v_at,
                                    what: "advice value count",
                                    value: values.len() as u64,
                                    limit: limits::MAX_ADVICE_VALUES as u64,
                                });
                            }
                        }
                        other => {
                            return Err(FormatError::Syntax {
                                offset: other.map_or(text.len(), |(a, _)| a),
                                expected: "a field element or `]`",
                            });
                        }
                    }
                }
                forest.advice.push((key, values, at as u32));
            }
            Token::Word("error") => {
                let (_, code) = number(&mut lex, "an error code")?;
                let message = match lex.next()? {
                    Some((s_at, Token::Str(raw))) => unescape(raw, s_at)?,
                    other => {
                        return Err(FormatError::Syntax {
                            offset: other.map_or(text.len(), |(a, _)| a),
                            expected: "a string literal",
                        });
                    }
                };
                if message.len() > limits::MAX_ERROR_MESSAGE_LEN {
                    return Err(FormatError::LimitExceeded {
                        offset: at,
                        what: "error message length",
                        value: message.len() as u64,
                        limit: limits::MAX_ERROR_MESSAGE_LEN as u64,
                    });
                }
                forest.errors.push((code, message, at as u32));
            }
            _ => {
                return Err(FormatError::Syntax {
                    offset: at,
                    expected: "`node`, `root`, `advice` or `error`",
                });
            }
        }
    }
    forest.opcodes = opcodes.into();
    forest.imms = imms.into();
    Ok(forest)
}

/// Parses `mnemonic` or `mnemonic(imm)`.
fn operation(
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

fn parse_u64(digits: &str, at: usize) -> Result<u64, FormatError> {
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

fn word_literal(lex: &mut Lexer<'_>) -> Result<Word, FormatError> {
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

fn unescape(raw: &str, at: usize) -> Result<String, FormatError> {
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
                        Some(d) if d.is_ascii_hexdigit() && n_digits < 6 => {
                            value = value * 16 + d.to_digit(16).unwrap_or(0);
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
enum Token<'a> {
    Word(&'a str),
    /// A string literal's raw contents, between the quotes.
    Str(&'a str),
    Open,
    Close,
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Result<Option<(usize, Token<'a>)>, FormatError> {
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

fn word<'a>(lex: &mut Lexer<'a>, expected: &'static str) -> Result<(usize, &'a str), FormatError> {
    match lex.next()? {
        Some((at, Token::Word(w))) => Ok((at, w)),
        other => Err(FormatError::Syntax {
            offset: other.map_or(lex.text.len(), |(a, _)| a),
            expected,
        }),
    }
}

fn number(lex: &mut Lexer<'_>, expected: &'static str) -> Result<(usize, u64), FormatError> {
    let (at, w) = word(lex, expected)?;
    Ok((at, parse_u64(w, at)?))
}

fn expect_word(
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

fn expect_token(
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
