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
//! entry 4                                ; program files only: the entry node, a root
//! kernel 0x<64 hex digits>               ; program files only: one line per kernel procedure
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
//!
//! A file with an `entry` line holds a program (see [`super::program`]); `kernel` lines need
//! one. A file without holds a forest, as every file written before programs existed.

mod lex;

use std::{collections::HashMap, fmt::Write};

use weft_core::{OpCode, Word};

use lex::{
    Lexer, Token, expect_token, expect_word, number, operation, parse_u64, unescape, word,
    word_literal,
};

use super::{
    cursor::felt_from_u64,
    error::{FormatError, WriteError},
    program::{MastFile, RawEntry, RawProgram},
    raw::{RawNode, UntrustedMastForest},
    writable::check_writable,
};
use crate::format::error::check_input_len;
use crate::limits;
use crate::{MastForest, MastNode, Program};

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
    print_file(forest, None)
}

/// Prints `program` in the text format: its forest, entry point and kernel.
///
/// # Errors
/// As [`print`].
pub fn print_program(program: &Program) -> Result<String, WriteError> {
    print_file(program.forest(), Some(program))
}

fn print_file(forest: &MastForest, program: Option<&Program>) -> Result<String, WriteError> {
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
    if let Some(program) = program {
        let _ = writeln!(out, "entry {}", program.entrypoint().as_u32());
        for digest in program.kernel().proc_hashes() {
            out.push_str("kernel ");
            put_word(&mut out, digest);
            out.push('\n');
        }
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

/// Parses and validates text that may hold a program (see [`super::program`]).
///
/// # Errors
/// A [`TextError`] at the line and column of the first problem.
pub fn parse_file(text: &str) -> Result<MastFile, TextError> {
    read(text)?
        .validate_file()
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
    check_input_len(text.len())?;
    let mnemonics: HashMap<&'static str, OpCode> =
        OpCode::ALL.iter().map(|&op| (op.mnemonic(), op)).collect();
    let mut lex = Lexer { text, pos: 0 };
    let mut forest = UntrustedMastForest::default();
    let (mut opcodes, mut imms) = (Vec::new(), Vec::new());
    let mut program: Option<(u32, u32)> = None;
    let mut kernel: Vec<(Word, u32)> = Vec::new();

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
            Token::Word("entry") => {
                let (e_at, e) = number(&mut lex, "an entry node index")?;
                if program.is_some() {
                    return Err(FormatError::Syntax {
                        offset: at,
                        expected: "one `entry` line",
                    });
                }
                let entry = u32::try_from(e).map_err(|_| FormatError::IndexOutOfRange {
                    offset: e_at,
                    what: "entry node",
                    index: e,
                    bound: forest.nodes.len(),
                })?;
                program = Some((entry, e_at as u32));
            }
            Token::Word("kernel") => {
                let digest = word_literal(&mut lex)?;
                if kernel.len() >= limits::MAX_KERNEL_PROCS {
                    return Err(FormatError::LimitExceeded {
                        offset: at,
                        what: "kernel procedure count",
                        value: kernel.len() as u64 + 1,
                        limit: limits::MAX_KERNEL_PROCS as u64,
                    });
                }
                kernel.push((digest, at as u32));
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
                    expected: "`node`, `root`, `entry`, `kernel`, `advice` or `error`",
                });
            }
        }
    }
    forest.program = match (program, kernel.first()) {
        (Some((entry, entry_offset)), _) => Some(RawProgram {
            entry: RawEntry::Node(entry),
            entry_offset,
            kernel,
        }),
        (None, Some(&(_, at))) => {
            return Err(FormatError::Syntax {
                offset: at as usize,
                expected: "an `entry` line before a kernel (a kernel belongs to a program)",
            });
        }
        (None, None) => None,
    };
    forest.opcodes = opcodes.into();
    forest.imms = imms.into();
    Ok(forest)
}
