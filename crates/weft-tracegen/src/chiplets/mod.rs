//! The range checker and chiplet columns (main columns 49..71), built in parallel from the
//! [`ChipletsReplay`] of an execution.
//!
//! [`Plan::new`] checks the untrusted logs (every node reference, field element, Merkle index,
//! access kind and kernel digest) and computes every region's length from counts alone: hasher
//! rows by prefix sums of each request's row count, 8 rows per bitwise operation, one row per
//! memory access, the ACE rows of each evaluation, kernel ROM rows. The regions are then filled
//! by independent tasks that write straight into the one trace buffer ([`Plan::fill`]); the
//! range checker follows once the core rows (whose u32 operations it counts) and the memory
//! rows (whose deltas it counts) are written ([`range`]).

mod ace;
mod bitwise;
mod hasher;
mod kernel;
mod memory;
pub(crate) mod range;

use std::collections::HashMap;
use std::sync::Arc;

#[cfg(feature = "concurrent")]
use rayon::prelude::*;
use weft_core::{
    Felt, ONE, StarkField, Word, ZERO,
    main_trace::{CHIPLETS_OFFSET, CHIPLETS_WIDTH, TraceLenSummary, chiplets::hasher::CYCLE_LEN},
    maybe_par,
};
use weft_mast::{MastForest, MastNode};
use weft_replay::{ChipletsReplay, HasherRequest};

pub(crate) use self::range::RangeCounts;
use crate::{columns::Columns, error::ChipletError, profile::RegionTimer};

/// A hasher request whose inputs were checked.
#[derive(Debug)]
pub(crate) enum Checked<'a> {
    /// A node's start.
    Node {
        forest: &'a MastForest,
        node: &'a MastNode,
    },
    /// A permutation, with its round states where the recording kept them.
    Permute([Felt; 12], Option<&'a [[Felt; 12]; 7]>),
    /// An `MPVERIFY`, with its path's round states where the recording kept them (one per
    /// level, or none).
    MerkleVerify {
        leaf: Word,
        index: u64,
        path: Vec<Word>,
        rounds: &'a [[[Felt; 12]; 7]],
    },
    /// An `MRUPDATE`, with its old path's round states where the recording kept them.
    MerkleUpdate {
        old: Word,
        new: Word,
        index: u64,
        path: Vec<Word>,
        old_rounds: &'a [[[Felt; 12]; 7]],
    },
}

/// A path's kept round states when there is one per level (the recorder keeps all or none),
/// else none: the builder then hashes the path itself.
fn whole_path(rounds: &[[[Felt; 12]; 7]], depth: usize) -> &[[[Felt; 12]; 7]] {
    if rounds.len() == depth { rounds } else { &[] }
}

/// One hasher request and its first row in the hasher region.
#[derive(Debug)]
pub(crate) struct HasherJob<'a> {
    row: usize,
    /// Its row count.
    n_rows: usize,
    /// For a node entered before: the first row of its first entry, whose rows it copies.
    copy_of: Option<usize>,
    checked: Checked<'a>,
}

/// The checked logs and the region lengths.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    replay: &'a ChipletsReplay,
    hasher: Vec<HasherJob<'a>>,
    /// The kernel's procedures in upstream's order, each with its number of calls.
    kernel: Vec<(Word, usize)>,
    /// Row counts (the core and range rows are filled in later).
    pub(crate) summary: TraceLenSummary,
}

fn felt(value: u64) -> Result<Felt, ChipletError> {
    if value < Felt::MODULUS {
        Ok(Felt::new(value))
    } else {
        Err(ChipletError::NonCanonical { value })
    }
}

fn word(values: &[u64; 4]) -> Result<Word, ChipletError> {
    Ok([
        felt(values[0])?,
        felt(values[1])?,
        felt(values[2])?,
        felt(values[3])?,
    ]
    .into())
}

fn path(values: &[[u64; 4]], index: u64) -> Result<Vec<Word>, ChipletError> {
    let depth = values.len();
    if depth == 0 || depth > 64 || (depth < 64 && index >> depth != 0) {
        return Err(ChipletError::MerkleIndex { index, depth });
    }
    values.iter().map(word).collect()
}

/// The largest number of chiplet rows accepted (each row costs 160 bytes of trace).
pub const MAX_CHIPLET_ROWS: usize = 1 << 32;

impl<'a> Plan<'a> {
    /// Checks `replay` against `forests` and computes the region lengths.
    pub(crate) fn new(
        forests: &'a [Arc<MastForest>],
        replay: &'a ChipletsReplay,
    ) -> Result<Self, ChipletError> {
        let mut hasher = Vec::with_capacity(replay.hasher.requests.len());
        // The first row of each node's first entry, by (forest, node). Keyed by position rather
        // than digest, so a forest whose stored digests do not match its nodes still gets each
        // node's own rows.
        let mut first_entry: HashMap<(u32, u32), usize> = HashMap::new();
        let mut row = 0usize;
        for (i, request) in replay.hasher.requests.iter().enumerate() {
            let mut copy_of = None;
            let (checked, n_rows) = match request {
                HasherRequest::Node(node_ref) => {
                    let unknown = ChipletError::UnknownNode {
                        request: i,
                        forest: node_ref.forest,
                        node: node_ref.node,
                    };
                    let forest = forests
                        .get(node_ref.forest as usize)
                        .ok_or(unknown.clone())?;
                    let node = forest
                        .nodes()
                        .get(node_ref.node as usize)
                        .ok_or(unknown.clone())?;
                    let n_rows = match node {
                        MastNode::External(_) => return Err(unknown),
                        MastNode::Block(block) => {
                            let batches = block
                                .batches()
                                .map_err(|_| ChipletError::Batching { request: i })?;
                            CYCLE_LEN * batches.len()
                        }
                        _ => CYCLE_LEN,
                    };
                    copy_of = first_entry.get(&(node_ref.forest, node_ref.node)).copied();
                    if copy_of.is_none() {
                        first_entry.insert((node_ref.forest, node_ref.node), row);
                    }
                    (Checked::Node { forest, node }, n_rows)
                }
                HasherRequest::Permute(request) => {
                    let mut s = [ZERO; 12];
                    for (d, v) in s.iter_mut().zip(request.input()) {
                        *d = felt(*v)?;
                    }
                    (Checked::Permute(s, request.rounds()), CYCLE_LEN)
                }
                HasherRequest::MerkleVerify(request) => {
                    let index = request.index();
                    let path = path(request.path(), index)?;
                    let n_rows = CYCLE_LEN * path.len();
                    let leaf = word(request.leaf())?;
                    (
                        Checked::MerkleVerify {
                            leaf,
                            index,
                            rounds: whole_path(request.rounds(), path.len()),
                            path,
                        },
                        n_rows,
                    )
                }
                HasherRequest::MerkleUpdate(request) => {
                    let index = request.index();
                    let path = path(request.path(), index)?;
                    let n_rows = 2 * CYCLE_LEN * path.len();
                    let (old, new) = (word(request.old())?, word(request.new_leaf())?);
                    (
                        Checked::MerkleUpdate {
                            old,
                            new,
                            index,
                            old_rounds: whole_path(request.old_rounds(), path.len()),
                            path,
                        },
                        n_rows,
                    )
                }
            };
            hasher.push(HasherJob {
                row,
                n_rows,
                copy_of,
                checked,
            });
            row = row
                .checked_add(n_rows)
                .filter(|r| *r <= MAX_CHIPLET_ROWS)
                .ok_or(ChipletError::TooManyRows)?;
        }
        let hasher_rows = row;

        let bitwise_rows = replay.bitwise.ops.len() * CYCLE_LEN;

        for (i, access) in replay.memory.accesses.iter().enumerate() {
            if access.kind.is_word() && access.addr & 3 != 0 {
                return Err(ChipletError::UnalignedWord {
                    access: i,
                    addr: access.addr,
                });
            }
            for v in access.value {
                felt(v)?;
            }
        }
        let memory_rows = replay.memory.accesses.len();

        let ace_rows = ace::check(replay)?;

        let mut kernel: Vec<(Word, usize)> = replay
            .kernel
            .procedures
            .iter()
            .map(|d| word(d).map(|w| (w, 0)))
            .collect::<Result<_, _>>()?;
        kernel.sort_by_key(|(w, _)| kernel::order_key(w));
        kernel.dedup_by_key(|(w, _)| *w);
        for (i, digest) in replay.kernel.accesses.iter().enumerate() {
            let w = word(digest)?;
            let entry = kernel
                .iter_mut()
                .find(|(k, _)| *k == w)
                .ok_or(ChipletError::NotInKernel { access: i })?;
            entry.1 += 1;
        }
        let kernel_rom_rows = kernel.len() + replay.kernel.accesses.len();

        let summary = TraceLenSummary {
            core_rows: 0,
            range_rows: 0,
            hasher_rows,
            bitwise_rows,
            memory_rows,
            ace_rows,
            kernel_rom_rows,
        };
        if summary.chiplets_rows() > MAX_CHIPLET_ROWS {
            return Err(ChipletError::TooManyRows);
        }
        word(&replay.program_hash)?;
        Ok(Self {
            replay,
            hasher,
            kernel,
            summary,
        })
    }

    /// The program's digest (checked canonical).
    pub(crate) fn program_hash(&self) -> Word {
        self.replay.program_hash.map(Felt::new).into()
    }

    /// Fills every chiplet region (not the padding), side by side on the current pool, and
    /// returns the memory deltas' counts.
    pub(crate) fn fill(&self, columns: &Columns) -> RangeCounts {
        #[cfg(feature = "concurrent")]
        {
            let ((), (counts, ())) = rayon::join(
                || rayon::join(|| self.fill_hasher(columns), || self.fill_bitwise(columns)).0,
                || {
                    rayon::join(
                        || self.fill_memory(columns),
                        || self.fill_ace_kernel(columns),
                    )
                },
            );
            counts
        }
        #[cfg(not(feature = "concurrent"))]
        {
            self.fill_hasher(columns);
            self.fill_bitwise(columns);
            self.fill_ace_kernel(columns);
            self.fill_memory(columns)
        }
    }

    /// [`Plan::fill`] one region after another, each on the whole pool, timed by `timer`.
    pub(crate) fn fill_timed(&self, columns: &Columns, timer: &mut RegionTimer) -> RangeCounts {
        let s = &self.summary;
        let width = CHIPLETS_WIDTH;
        timer.time("hasher", s.hasher_rows, width, || self.fill_hasher(columns));
        timer.time("bitwise", s.bitwise_rows, width, || {
            self.fill_bitwise(columns);
        });
        let counts = timer.time("memory", s.memory_rows, width, || self.fill_memory(columns));
        let rows = s.ace_rows + s.kernel_rom_rows;
        timer.time("ace+kernel_rom", rows, width, || {
            self.fill_ace_kernel(columns)
        });
        counts
    }

    /// The hasher region. Two passes: first every request that computes its rows, then every
    /// node entered again copies the rows of its first entry (as upstream memoizes), so a loop
    /// body entered 20,000 times costs one set of permutations.
    fn fill_hasher(&self, columns: &Columns) {
        let all = CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH;
        let jobs = &self.hasher;
        maybe_par!(jobs.par_iter(), jobs.iter())
            .filter(|job| job.copy_of.is_none())
            .for_each(|job| {
                // SAFETY: requests own the disjoint ranges their prefix sums give, inside the
                // hasher region.
                let mut out = unsafe { columns.cells(job.row, job.row + job.n_rows, all.clone()) };
                hasher::fill(&mut out, job.row, job);
            });
        maybe_par!(jobs.par_iter(), jobs.iter()).for_each(|job| {
            if let Some(src) = job.copy_of {
                // SAFETY: the source rows were written by the first pass, which has finished,
                // and only first entries are sources, so no one writes them now; the
                // destination rows are this request's alone.
                unsafe { columns.copy_rows(src, job.row, job.n_rows, all.clone()) };
            }
        });
    }

    /// The bitwise region: eight rows per operation.
    fn fill_bitwise(&self, columns: &Columns) {
        let all = CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH;
        let bitwise_start = self.summary.chiplet_starts()[1];
        let ops = &self.replay.bitwise.ops;
        maybe_par!(ops.par_iter(), ops.iter())
            .enumerate()
            .for_each(|(i, op)| {
                let row = bitwise_start + i * CYCLE_LEN;
                // SAFETY: operation `i` owns its eight rows of the bitwise region.
                let mut out = unsafe { columns.cells(row, row + CYCLE_LEN, all.clone()) };
                bitwise::fill(&mut out, row, op);
            });
    }

    /// The memory region (one sort of the accesses, then the rows); returns the counts of the
    /// deltas the range checker must hold.
    fn fill_memory(&self, columns: &Columns) -> RangeCounts {
        let memory_start = self.summary.chiplet_starts()[2];
        let accesses = &self.replay.memory.accesses;
        let order = memory::sort(accesses);
        memory::fill(columns, memory_start, accesses, &order)
    }

    /// The ACE and kernel ROM regions.
    fn fill_ace_kernel(&self, columns: &Columns) {
        let all = CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH;
        let [_, _, _, ace_start, kernel_start, _] = self.summary.chiplet_starts();
        ace::fill(columns, ace_start, self.replay);
        // SAFETY: the kernel ROM region is this task's alone.
        let mut out = unsafe {
            columns.cells(
                kernel_start,
                kernel_start + self.summary.kernel_rom_rows,
                all,
            )
        };
        kernel::fill(&mut out, kernel_start, &self.kernel);
    }
}

/// Fills the chiplet padding rows `start..end`: selectors `c0..c4` one, the rest zero.
pub(crate) fn fill_padding(columns: &Columns, start: usize, end: usize) {
    const CHUNK: usize = 1 << 14;
    maybe_par!((start..end).into_par_iter(), start..end)
        .step_by(CHUNK)
        .for_each(|s| {
            let e = (s + CHUNK).min(end);
            // SAFETY: chunks are disjoint rows of the chiplet padding.
            let mut out =
                unsafe { columns.cells(s, e, CHIPLETS_OFFSET..CHIPLETS_OFFSET + CHIPLETS_WIDTH) };
            for c in 0..CHIPLETS_WIDTH {
                let v = if c < 5 { ONE } else { ZERO };
                out.fill_unwritten(CHIPLETS_OFFSET + c, s, e, v);
            }
        });
}
