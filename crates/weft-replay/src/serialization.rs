//! [`FragmentContext`] as a winter-utils [`Serializable`] / [`Deserializable`], the traits
//! upstream Miden code uses (winter-utils 0.13, the version miden-crypto 0.19 depends on).
//!
//! # Wire layout
//! - the length of the body in bytes, a little-endian `u64`;
//! - the body: the context's serde + bincode encoding, exactly the bytes of
//!   [`FragmentContext::to_bytes`].
//!
//! The length prefix lets several contexts (or other values) follow each other in one stream.
//!
//! # Untrusted bytes
//! [`Deserializable::read_from`] treats its input as untrusted:
//! - a length above [`MAX_CONTEXT_BYTES`] is refused before anything is read or allocated, and
//!   the body is then read in chunks, so memory grows with the bytes actually present, never
//!   with a claimed length;
//! - the body must decode completely (no trailing bytes), with bincode reading at most the
//!   claimed length; serde caps what a claimed sequence length preallocates;
//! - the decoded context gets the checks trace generation makes on every context before using
//!   it (`weft-tracegen`'s fragment builder: each overflow has one push clock per value, in the
//!   current context and in every caller's frame), plus two that no execution can violate: the
//!   first row's clock cycle is below [`weft_host::MAX_CYCLES`] and every stored field element
//!   is canonical (below the field modulus; trace generation would otherwise reduce it
//!   silently).
//!
//! Every failure is a [`DeserializationError`]: [`DeserializationError::UnexpectedEOF`] for
//! missing bytes, [`DeserializationError::InvalidValue`] with a message for the rest.
//!
//! ```
//! use weft_replay::{
//!     FragmentContext,
//!     serialization::{Deserializable, Serializable},
//! };
//! # use std::sync::Arc;
//! # use weft_core::Operation;
//! # use weft_host::{AdviceInputs, DefaultHost, StackInputs};
//! # use weft_mast::{Kernel, MastForestBuilder, Program};
//! # let mut builder = MastForestBuilder::new();
//! # let entry = builder.add_block(&[Operation::Pad, Operation::Incr, Operation::Drop]).unwrap();
//! # builder.make_root(entry).unwrap();
//! # let program = Program::new(Arc::new(builder.build()), entry, Kernel::default()).unwrap();
//! let (_, contexts) = weft_replay::execute_for_trace(
//!     &program,
//!     StackInputs::default(),
//!     AdviceInputs::default(),
//!     &mut DefaultHost::new(),
//!     2,
//! )?;
//! let bytes = Serializable::to_bytes(&contexts.fragments[0]);
//! let back = FragmentContext::read_from_bytes(&bytes)?;
//! assert_eq!(back, contexts.fragments[0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use bincode::Options;
use weft_core::{Felt, StarkField};
pub use winter_utils::{
    ByteReader, ByteWriter, Deserializable, DeserializationError, Serializable,
};

use crate::FragmentContext;

/// The largest body [`Deserializable::read_from`] accepts, in bytes (1 GiB).
///
/// Recorded contexts take about one byte per cycle at 4096-row fragments (see the crate
/// documentation); a single fragment spanning a whole execution of [`weft_host::MAX_CYCLES`]
/// hashing-heavy cycles could exceed it, which is why fragments exist.
pub const MAX_CONTEXT_BYTES: usize = 1 << 30;

/// Bytes read at a time from the body, so that a claimed length reserves nothing by itself.
const READ_CHUNK: usize = 1 << 16;

/// The bincode options of [`FragmentContext::to_bytes`] (`bincode::serialize`: fixed-width
/// integers), refusing trailing bytes and reading at most `limit` bytes.
fn body_options(limit: u64) -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .with_limit(limit)
}

fn invalid(message: String) -> DeserializationError {
    DeserializationError::InvalidValue(message)
}

impl Serializable for FragmentContext {
    fn write_into<W: ByteWriter>(&self, target: &mut W) {
        let body = self.to_bytes();
        target.write_u64(body.len() as u64);
        target.write_bytes(&body);
    }
}

impl Deserializable for FragmentContext {
    fn read_from<R: ByteReader>(source: &mut R) -> Result<Self, DeserializationError> {
        let len = source.read_u64()?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= MAX_CONTEXT_BYTES)
            .ok_or_else(|| {
                invalid(format!(
                    "fragment context of {len} bytes exceeds the limit of {MAX_CONTEXT_BYTES} bytes"
                ))
            })?;
        let mut body = Vec::new();
        while body.len() < len {
            let chunk = source.read_slice((len - body.len()).min(READ_CHUNK))?;
            body.extend_from_slice(chunk);
        }
        let context: Self = body_options(len as u64)
            .deserialize(&body)
            .map_err(|e| invalid(format!("malformed fragment context: {e}")))?;
        check_untrusted(&context)?;
        Ok(context)
    }
}

/// The checks a decoded context gets (the module documentation lists them).
fn check_untrusted(context: &FragmentContext) -> Result<(), DeserializationError> {
    let s = &context.state;
    if s.clk >= weft_host::MAX_CYCLES {
        return Err(invalid(format!(
            "fragment context starts at clock cycle {} but executions stop below {}",
            s.clk,
            weft_host::MAX_CYCLES
        )));
    }
    if s.overflow.len() != s.overflow_clks.len() {
        return Err(invalid(format!(
            "fragment context: the overflow has {} values but {} push clocks",
            s.overflow.len(),
            s.overflow_clks.len()
        )));
    }
    for (i, frame) in s.frames.iter().enumerate() {
        if frame.overflow.len() != frame.overflow_clks.len() {
            return Err(invalid(format!(
                "fragment context: caller frame {i}'s overflow has {} values but {} push clocks",
                frame.overflow.len(),
                frame.overflow_clks.len()
            )));
        }
    }
    let frame_elements = s
        .frames
        .iter()
        .flat_map(|f| f.fn_hash.iter().chain(&f.overflow));
    let state_elements = s
        .fn_hash
        .iter()
        .chain(&s.pc_transcript)
        .chain(&s.stack_top)
        .chain(&s.overflow)
        .chain(frame_elements);
    let hasher = &context.hasher;
    let log_elements = context
        .advice
        .values
        .iter()
        .chain(&context.memory.elements)
        .chain(context.memory.words.iter().flatten())
        .chain(hasher.permutations.iter().flat_map(|(_, out)| out))
        .chain(hasher.merkle_roots.iter().flat_map(|(_, root)| root))
        .chain(context.external.resolutions.iter().flat_map(|r| &r.digest));
    if let Some(value) = state_elements
        .chain(log_elements)
        .find(|&&v| v >= Felt::MODULUS)
    {
        return Err(invalid(format!(
            "fragment context holds {value}, which is not a canonical field element"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Round trips, truncation, seeded corruption and oversized lengths. A counting allocator
    //! records the largest single allocation made by the thread under test, so that "no huge
    //! allocation" is measured rather than assumed.

    use std::{
        alloc::{GlobalAlloc, Layout, System},
        cell::Cell,
        sync::Arc,
    };

    use weft_core::{Felt, Operation};
    use weft_host::{AdviceInputs, DefaultHost, StackInputs};
    use weft_mast::{Kernel, MastForestBuilder, Program};
    use winter_utils::SliceReader;

    use super::*;
    use crate::{TraceContexts, execute_for_trace};

    /// The system allocator, recording per thread the largest allocation requested.
    struct PeakAllocator;

    thread_local! {
        static PEAK: Cell<usize> = const { Cell::new(0) };
    }

    fn record(size: usize) {
        // `try_with` fails only while the thread is being torn down; nothing to record then.
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(size)));
    }

    // SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
    // `GlobalAlloc` contract holds as it does for `System`; recording a size allocates nothing.
    unsafe impl GlobalAlloc for PeakAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            record(layout.size());
            // SAFETY: the caller upholds `alloc`'s contract, which is `System::alloc`'s.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation goes
            // through `alloc` or `realloc` above).
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            record(new_size);
            // SAFETY: the caller upholds `realloc`'s contract, which is `System::realloc`'s.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: PeakAllocator = PeakAllocator;

    /// The largest single allocation `f` makes on this thread.
    fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
        PEAK.with(|peak| peak.set(0));
        let out = f();
        (out, PEAK.with(Cell::get))
    }

    /// Nothing decoded here needs more than this in one allocation.
    const SMALL_ALLOCATION: usize = 4 << 20;

    fn felt(v: u64) -> Felt {
        Felt::new(v)
    }

    /// A loop with advice pops, a permutation, memory reads and a call made with an element in
    /// the overflow, so contexts have an overflow, a caller frame with its own overflow and
    /// every replay log.
    fn contexts(fragment_size: u32) -> TraceContexts {
        use Operation as O;
        let mut b = MastForestBuilder::new();
        let init = b
            .add_block(&[
                O::Push(felt(3)),
                O::Push(felt(40)),
                O::MStore,
                O::Drop,
                O::Pad,
            ])
            .expect("block");
        let body = b
            .add_block(&[
                O::AdvPop,
                O::HPerm,
                O::Drop,
                O::Push(felt(40)),
                O::MLoad,
                O::Push(-felt(1)),
                O::Add,
                O::Push(felt(40)),
                O::MStore,
                O::Eqz,
                O::Not,
            ])
            .expect("block");
        let lp = b.add_loop(body).expect("loop");
        let callee = b
            .add_block(&[
                O::Push(felt(0)),
                O::MLoadW,
                O::Drop,
                O::Drop,
                O::Drop,
                O::Drop,
            ])
            .expect("block");
        b.make_root(callee).expect("root");
        let call = b.add_call(callee).expect("call");
        let prep = b.add_block(&[O::Push(felt(1))]).expect("block");
        // The `PAD` of `init` is still on the stack during the call (a caller overflow); this
        // block drops it.
        let tail = b.add_block(&[O::Drop]).expect("block");
        let head = b.add_join(init, prep).expect("join");
        let body = b.add_join(head, lp).expect("join");
        let call_then_tail = b.add_join(call, tail).expect("join");
        let root = b.add_join(body, call_then_tail).expect("join");
        b.make_root(root).expect("root");
        let program = Program::new(Arc::new(b.build()), root, Kernel::default()).expect("program");
        let advice = AdviceInputs::default().with_stack((0..16).map(felt));
        let (_, contexts) = execute_for_trace(
            &program,
            StackInputs::default(),
            advice,
            &mut DefaultHost::new(),
            fragment_size,
        )
        .expect("runs");
        contexts
    }

    fn encode(context: &FragmentContext) -> Vec<u8> {
        Serializable::to_bytes(context)
    }

    #[test]
    fn round_trip_at_every_fragment_size() {
        for size in [1, 3, 16, 1 << 16] {
            let contexts = contexts(size);
            assert!(contexts.fragments.len() > 1 || size == 1 << 16);
            for context in &contexts.fragments {
                let bytes = encode(context);
                assert_eq!(bytes[..8], (bytes.len() as u64 - 8).to_le_bytes());
                assert_eq!(
                    bytes[8..],
                    context.to_bytes()[..],
                    "the body is the bincode form"
                );
                let back = FragmentContext::read_from_bytes(&bytes).expect("decodes");
                assert_eq!(&back, context);
            }
        }
    }

    #[test]
    fn contexts_follow_each_other_in_one_stream() {
        let contexts = contexts(5);
        let mut bytes = Vec::new();
        for context in &contexts.fragments {
            context.write_into(&mut bytes);
        }
        let mut reader = SliceReader::new(&bytes);
        for context in &contexts.fragments {
            assert_eq!(
                &FragmentContext::read_from(&mut reader).expect("decodes"),
                context
            );
        }
        assert!(!reader.has_more_bytes());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let contexts = contexts(4);
        let context = contexts
            .fragments
            .iter()
            .find(|c| !c.state.frames.is_empty());
        let bytes = encode(context.expect("a fragment inside the call"));
        for len in 0..bytes.len() {
            assert!(
                FragmentContext::read_from_bytes(&bytes[..len]).is_err(),
                "{len} of {} bytes decoded",
                bytes.len()
            );
            // The same truncated body under a length prefix that matches it.
            if len >= 8 {
                let mut fixed = (len as u64 - 8).to_le_bytes().to_vec();
                fixed.extend_from_slice(&bytes[8..len]);
                assert!(
                    FragmentContext::read_from_bytes(&fixed).is_err(),
                    "a {}-byte body decoded",
                    len - 8
                );
            }
        }
    }

    /// SplitMix64, for reproducible mutations without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// One random edit: a flipped bit, a random byte, a byte inserted or removed, or a run of
    /// `0xFF` (a huge length wherever a length was); with the length prefix fixed half the time,
    /// so that mutations reach the body's own structure.
    fn mutate(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let at = rng.below(out.len());
        match rng.below(5) {
            0 => out[at] ^= 1 << rng.below(8),
            1 => out[at] = rng.next() as u8,
            2 => out.insert(at, rng.next() as u8),
            3 => {
                out.remove(at);
            }
            _ => {
                let end = (at + 8).min(out.len());
                out[at..end].fill(0xFF);
            }
        }
        if rng.below(2) == 0 && out.len() >= 8 {
            let body_len = (out.len() - 8) as u64;
            out[..8].copy_from_slice(&body_len.to_le_bytes());
        }
        out
    }

    #[test]
    fn seeded_mutations_are_an_error_or_the_same_encoding() {
        let contexts = contexts(6);
        let samples: Vec<Vec<u8>> = contexts.fragments.iter().map(encode).collect();
        let mut rng = Rng(0x5EED_F00D);
        let (mut n_err, mut n_ok) = (0, 0);
        for _ in 0..6000 {
            let original = &samples[rng.below(samples.len())];
            let mutated = mutate(&mut rng, original);
            let (result, peak) = peak_allocation(|| FragmentContext::read_from_bytes(&mutated));
            assert!(
                peak < SMALL_ALLOCATION,
                "decoding allocated {peak} bytes at once"
            );
            match result {
                Err(DeserializationError::InvalidValue(message)) => {
                    assert!(!message.is_empty());
                    n_err += 1;
                }
                Err(_) => n_err += 1,
                // A mutation that still decodes must be the exact encoding of what it decoded
                // to (bincode's encoding has one form per value), up to bytes past the context.
                Ok(context) => {
                    let again = encode(&context);
                    assert_eq!(mutated[..again.len()], again[..]);
                    n_ok += 1;
                }
            }
        }
        assert!(n_err > 1000 && n_ok > 100, "{n_err} errors, {n_ok} decoded");
    }

    #[test]
    fn oversized_length_prefixes_allocate_nothing_large() {
        let contexts = contexts(8);
        let body = contexts.fragments[1].to_bytes();
        for claimed in [u64::MAX, MAX_CONTEXT_BYTES as u64 + 1] {
            let mut bytes = claimed.to_le_bytes().to_vec();
            bytes.extend_from_slice(&body);
            let (result, peak) = peak_allocation(|| FragmentContext::read_from_bytes(&bytes));
            assert!(
                matches!(&result, Err(DeserializationError::InvalidValue(m)) if m.contains("exceeds the limit")),
                "{result:?}"
            );
            assert!(peak < SMALL_ALLOCATION, "{peak} bytes allocated at once");
        }
        // A length within the limit but far beyond the input: missing bytes, not a 1 GiB
        // buffer.
        let mut bytes = (MAX_CONTEXT_BYTES as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let (result, peak) = peak_allocation(|| FragmentContext::read_from_bytes(&bytes));
        assert!(matches!(result, Err(DeserializationError::UnexpectedEOF)));
        assert!(peak < SMALL_ALLOCATION, "{peak} bytes allocated at once");
        // A huge sequence length inside the body: the current overflow's length sits after
        // clk, ctx (4 bytes each), fn_hash, pc_transcript (32 each) and the stack top (128).
        let mut body = body;
        body[200..208].copy_from_slice(&(1u64 << 60).to_le_bytes());
        let mut bytes = (body.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(&body);
        let (result, peak) = peak_allocation(|| FragmentContext::read_from_bytes(&bytes));
        assert!(
            matches!(&result, Err(DeserializationError::InvalidValue(m)) if m.starts_with("malformed")),
            "{result:?}"
        );
        assert!(peak < SMALL_ALLOCATION, "{peak} bytes allocated at once");
    }

    #[test]
    fn inconsistent_contexts_are_refused() {
        let contexts = contexts(8);
        let good = contexts.fragments[2].clone();
        let check = |edit: fn(&mut FragmentContext), expected: &str| {
            let mut context = good.clone();
            edit(&mut context);
            match FragmentContext::read_from_bytes(&encode(&context)) {
                Err(DeserializationError::InvalidValue(message)) => {
                    assert!(message.contains(expected), "{message}");
                }
                other => panic!("expected an invalid value ({expected}), got {other:?}"),
            }
        };
        check(|c| c.state.overflow_clks.push(1), "push clocks");
        check(
            |c| {
                c.state.frames.push(crate::FrameState {
                    overflow: vec![1],
                    ..Default::default()
                })
            },
            "caller frame 0",
        );
        check(|c| c.state.clk = weft_host::MAX_CYCLES, "clock cycle");
        check(|c| c.state.stack_top[3] = Felt::MODULUS, "canonical");
        check(|c| c.advice.values.push(u64::MAX), "canonical");
        check(
            |c| {
                c.hasher
                    .merkle_roots
                    .push((9, [0, 0, Felt::MODULUS + 1, 0]))
            },
            "canonical",
        );
        assert!(FragmentContext::read_from_bytes(&encode(&good)).is_ok());
    }
}
