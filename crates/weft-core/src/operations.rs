//! The 93 operations of the Miden VM as of upstream 0.20.6, with their exact 7-bit opcodes.
//!
//! Two types describe an operation:
//! - [`OpCode`] is the bare 7-bit code, a fieldless enum that decodes from a byte with a checked
//!   [`TryFrom<u8>`] (unknown codes are an [`OpDecodeError`]);
//! - [`Operation`] is the executable operation, carrying its immediate where it has one: the value
//!   of `PUSH`, and the error code of `ASSERT`, `U32ASSERT2` and `MPVERIFY`.
//!
//! Opcode classes (which the trace's extra decoder columns rely on):
//! 0–31 leave the stack depth unchanged, 32–47 shift the stack left, 48–63 shift it right,
//! 64–79 are the u32 operations that consume range checks, 80–95 are degree-3 operations (some
//! control flow), and 96–127 (multiples of 4 only) are degree-5 operations.

use core::fmt;

use crate::Felt;

/// The number of bits in an opcode.
pub const OP_BITS: usize = 7;

/// The number of operations packed into one operation group (one field element).
pub const GROUP_SIZE: usize = 9;

/// The number of operation groups in one operation batch.
pub const BATCH_SIZE: usize = 8;

/// What kind of immediate value an operation carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImmKind {
    /// No immediate.
    None,
    /// A value pushed onto the stack; it occupies its own operation group, so it is part of the
    /// block's digest.
    Value,
    /// An assertion error code; it is not part of any operation group nor of the digest.
    ErrorCode,
}

/// Why a byte could not be decoded as an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpDecodeError {
    /// The byte is not the opcode of any operation.
    #[error("invalid opcode {opcode:#04x}")]
    InvalidOpCode {
        /// The offending byte.
        opcode: u8,
    },
    /// The operation needs an immediate value and none was supplied.
    #[error("operation {op} requires an immediate value")]
    MissingImmediate {
        /// The operation's code.
        op: OpCode,
    },
    /// The operation takes no immediate value and one was supplied.
    #[error("operation {op} takes no immediate value")]
    UnexpectedImmediate {
        /// The operation's code.
        op: OpCode,
    },
}

macro_rules! define_operations {
    ($( $variant:ident $( ($imm:ident) )? = $code:literal, $mnemonic:literal, $kind:ident; )*) => {
        /// The bare 7-bit code of an operation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u8)]
        pub enum OpCode {
            $(
                #[doc = concat!("`", $mnemonic, "`")]
                $variant = $code,
            )*
        }

        impl OpCode {
            /// Every opcode, in increasing numeric order.
            pub const ALL: [OpCode; 93] = [$(OpCode::$variant),*];

            /// Returns the operation's mnemonic as upstream prints it (lowercase).
            pub const fn mnemonic(self) -> &'static str {
                match self {
                    $(OpCode::$variant => $mnemonic,)*
                }
            }

            /// Returns the kind of immediate this operation carries.
            pub const fn imm_kind(self) -> ImmKind {
                match self {
                    $(OpCode::$variant => ImmKind::$kind,)*
                }
            }
        }

        /// An executable VM operation, with its immediate where it has one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Operation {
            $(
                #[doc = concat!("`", $mnemonic, "`")]
                $variant $( ($imm) )?,
            )*
        }

        impl Operation {
            /// Returns this operation's opcode.
            #[inline(always)]
            pub const fn op_code(&self) -> OpCode {
                match self {
                    $(define_operations!(@pat $variant $( $imm )?) => OpCode::$variant,)*
                }
            }

            /// Builds an operation from its opcode and its immediate.
            ///
            /// # Errors
            /// Returns an error if the immediate is missing for an operation that needs one, or
            /// present for an operation that takes none.
            pub fn from_parts(op: OpCode, imm: Option<Felt>) -> Result<Self, OpDecodeError> {
                let value = match (op.imm_kind(), imm) {
                    (ImmKind::None, None) => crate::ZERO,
                    (ImmKind::None, Some(_)) => {
                        return Err(OpDecodeError::UnexpectedImmediate { op });
                    },
                    (_, Some(value)) => value,
                    (_, None) => return Err(OpDecodeError::MissingImmediate { op }),
                };
                Ok(match op {
                    $(OpCode::$variant => define_operations!(@build $variant $( $imm )?, value),)*
                })
            }
        }
    };
    (@pat $variant:ident $imm:ident) => { Operation::$variant(_) };
    (@pat $variant:ident) => { Operation::$variant };
    (@build $variant:ident $imm_ty:ident, $value:ident) => { Operation::$variant($value) };
    (@build $variant:ident, $value:ident) => {{ let _ = $value; Operation::$variant }};
}

define_operations! {
    Noop = 0, "noop", None;
    Eqz = 1, "eqz", None;
    Neg = 2, "neg", None;
    Inv = 3, "inv", None;
    Incr = 4, "incr", None;
    Not = 5, "not", None;
    MLoad = 7, "mload", None;
    Swap = 8, "swap", None;
    Caller = 9, "caller", None;
    MovUp2 = 10, "movup2", None;
    MovDn2 = 11, "movdn2", None;
    MovUp3 = 12, "movup3", None;
    MovDn3 = 13, "movdn3", None;
    AdvPopW = 14, "advpopw", None;
    Expacc = 15, "expacc", None;
    MovUp4 = 16, "movup4", None;
    MovDn4 = 17, "movdn4", None;
    MovUp5 = 18, "movup5", None;
    MovDn5 = 19, "movdn5", None;
    MovUp6 = 20, "movup6", None;
    MovDn6 = 21, "movdn6", None;
    MovUp7 = 22, "movup7", None;
    MovDn7 = 23, "movdn7", None;
    SwapW = 24, "swapw", None;
    Ext2Mul = 25, "ext2mul", None;
    MovUp8 = 26, "movup8", None;
    MovDn8 = 27, "movdn8", None;
    SwapW2 = 28, "swapw2", None;
    SwapW3 = 29, "swapw3", None;
    SwapDW = 30, "swapdw", None;
    Emit = 31, "emit", None;
    Assert(Felt) = 32, "assert", ErrorCode;
    Eq = 33, "eq", None;
    Add = 34, "add", None;
    Mul = 35, "mul", None;
    And = 36, "and", None;
    Or = 37, "or", None;
    U32and = 38, "u32and", None;
    U32xor = 39, "u32xor", None;
    FriE2F4 = 40, "frie2f4", None;
    Drop = 41, "drop", None;
    CSwap = 42, "cswap", None;
    CSwapW = 43, "cswapw", None;
    MLoadW = 44, "mloadw", None;
    MStore = 45, "mstore", None;
    MStoreW = 46, "mstorew", None;
    Pad = 48, "pad", None;
    Dup0 = 49, "dup0", None;
    Dup1 = 50, "dup1", None;
    Dup2 = 51, "dup2", None;
    Dup3 = 52, "dup3", None;
    Dup4 = 53, "dup4", None;
    Dup5 = 54, "dup5", None;
    Dup6 = 55, "dup6", None;
    Dup7 = 56, "dup7", None;
    Dup9 = 57, "dup9", None;
    Dup11 = 58, "dup11", None;
    Dup13 = 59, "dup13", None;
    Dup15 = 60, "dup15", None;
    AdvPop = 61, "advpop", None;
    SDepth = 62, "sdepth", None;
    Clk = 63, "clk", None;
    U32add = 64, "u32add", None;
    U32sub = 66, "u32sub", None;
    U32mul = 68, "u32mul", None;
    U32div = 70, "u32div", None;
    U32split = 72, "u32split", None;
    U32assert2(Felt) = 74, "u32assert2", ErrorCode;
    U32add3 = 76, "u32add3", None;
    U32madd = 78, "u32madd", None;
    HPerm = 80, "hperm", None;
    MpVerify(Felt) = 81, "mpverify", ErrorCode;
    Pipe = 82, "pipe", None;
    MStream = 83, "mstream", None;
    Split = 84, "split", None;
    Loop = 85, "loop", None;
    Span = 86, "span", None;
    Join = 87, "join", None;
    Dyn = 88, "dyn", None;
    HornerBase = 89, "horner_eval_base", None;
    HornerExt = 90, "horner_eval_ext", None;
    Push(Felt) = 91, "push", Value;
    Dyncall = 92, "dyncall", None;
    EvalCircuit = 93, "eval_circuit", None;
    LogPrecompile = 94, "log_precompile", None;
    MrUpdate = 96, "mrupdate", None;
    CryptoStream = 100, "crypto_stream", None;
    SysCall = 104, "syscall", None;
    Call = 108, "call", None;
    End = 112, "end", None;
    Repeat = 116, "repeat", None;
    Respan = 120, "respan", None;
    Halt = 124, "halt", None;
}

/// Maps every 7-bit value to its opcode, or `None` for the unused codes.
static OPCODE_TABLE: [Option<OpCode>; 128] = {
    let mut table = [None; 128];
    let mut i = 0;
    while i < OpCode::ALL.len() {
        let op = OpCode::ALL[i];
        table[op as usize] = Some(op);
        i += 1;
    }
    table
};

impl TryFrom<u8> for OpCode {
    type Error = OpDecodeError;

    #[inline]
    fn try_from(opcode: u8) -> Result<Self, Self::Error> {
        OPCODE_TABLE
            .get(usize::from(opcode))
            .copied()
            .flatten()
            .ok_or(OpDecodeError::InvalidOpCode { opcode })
    }
}

impl OpCode {
    /// Returns the numeric 7-bit code.
    #[inline(always)]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// Returns true for the control-flow codes, which never appear inside a basic block.
    pub const fn is_control_flow(self) -> bool {
        matches!(
            self,
            OpCode::Join
                | OpCode::Split
                | OpCode::Loop
                | OpCode::Call
                | OpCode::SysCall
                | OpCode::Dyn
                | OpCode::Dyncall
                | OpCode::Span
                | OpCode::Respan
                | OpCode::End
                | OpCode::Repeat
                | OpCode::Halt
        )
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

impl Operation {
    /// Returns the numeric 7-bit opcode.
    #[inline(always)]
    pub const fn op_code_u8(&self) -> u8 {
        self.op_code() as u8
    }

    /// Returns the value this operation places in its own operation group (only `PUSH` has one).
    #[inline]
    pub const fn imm_value(&self) -> Option<Felt> {
        match self {
            Operation::Push(value) => Some(*value),
            _ => None,
        }
    }

    /// Returns the error code carried by an assertion (`ASSERT`, `U32ASSERT2`, `MPVERIFY`).
    #[inline]
    pub const fn error_code(&self) -> Option<Felt> {
        match self {
            Operation::Assert(code) | Operation::U32assert2(code) | Operation::MpVerify(code) => {
                Some(*code)
            }
            _ => None,
        }
    }

    /// Returns the immediate this operation carries of either kind.
    #[inline]
    pub const fn immediate(&self) -> Option<Felt> {
        match self {
            Operation::Push(v)
            | Operation::Assert(v)
            | Operation::U32assert2(v)
            | Operation::MpVerify(v) => Some(*v),
            _ => None,
        }
    }

    /// Returns true if this operation places values in the decoder's helper registers (the
    /// user-operation helpers `h2..h7`), which upstream calls populating the hasher registers.
    pub const fn populates_decoder_hasher_registers(&self) -> bool {
        matches!(
            self,
            Operation::End
                | Operation::Join
                | Operation::Split
                | Operation::Loop
                | Operation::Repeat
                | Operation::Respan
                | Operation::Span
                | Operation::Halt
                | Operation::Call
                | Operation::SysCall
                | Operation::Dyn
                | Operation::Dyncall
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.op_code();
        match self.immediate() {
            Some(imm) => write!(f, "{}({})", op.mnemonic(), imm.as_int()),
            None => f.write_str(op.mnemonic()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_93_distinct_increasing_opcodes() {
        assert_eq!(OpCode::ALL.len(), 93);
        for pair in OpCode::ALL.windows(2) {
            assert!(
                pair[0].as_u8() < pair[1].as_u8(),
                "{:?} before {:?}",
                pair[0],
                pair[1]
            );
        }
        assert!(OpCode::ALL.iter().all(|op| op.as_u8() < 128));
    }

    #[test]
    fn every_byte_decodes_or_errors() {
        let mut n_valid = 0;
        for byte in 0..=u8::MAX {
            match OpCode::try_from(byte) {
                Ok(op) => {
                    assert_eq!(op.as_u8(), byte);
                    n_valid += 1;
                }
                Err(err) => assert_eq!(err, OpDecodeError::InvalidOpCode { opcode: byte }),
            }
        }
        assert_eq!(n_valid, 93);
        for unused in [
            6u8, 47, 65, 67, 69, 71, 73, 75, 77, 79, 95, 97, 98, 99, 101, 127, 128,
        ] {
            assert!(OpCode::try_from(unused).is_err(), "{unused} must be unused");
        }
    }

    #[test]
    fn from_parts_checks_immediates() {
        let seven = Felt::new(7);
        for op in OpCode::ALL {
            let with = Operation::from_parts(op, Some(seven));
            let without = Operation::from_parts(op, None);
            match op.imm_kind() {
                ImmKind::None => {
                    assert_eq!(without.expect("no imm").op_code(), op);
                    assert_eq!(with, Err(OpDecodeError::UnexpectedImmediate { op }));
                }
                ImmKind::Value | ImmKind::ErrorCode => {
                    let built = with.expect("imm");
                    assert_eq!(built.op_code(), op);
                    assert_eq!(built.immediate().map(|v| v.as_int()), Some(7));
                    assert_eq!(without, Err(OpDecodeError::MissingImmediate { op }));
                }
            }
        }
    }

    #[test]
    fn extra_columns_classes_match_opcode_ranges() {
        assert_eq!(OpCode::HPerm.as_u8(), 80);
        assert_eq!(OpCode::MrUpdate.as_u8(), 96);
        assert_eq!(OpCode::Halt.as_u8(), 124);
        assert_eq!(Operation::Push(Felt::new(3)).to_string(), "push(3)");
    }
}
