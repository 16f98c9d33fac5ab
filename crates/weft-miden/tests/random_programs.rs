//! Random MASM programs, run by upstream and by every weft path: upstream's trace and outputs
//! against the reference processor's (`conformance::compare_program`, every column of every
//! row), the parallel trace against the reference's at several fragment sizes
//! (`equivalence::check_against_reference`), and the fast processor's plain `execute` against
//! the reference's outputs. Failing programs must fail alike.
//!
//! The generator mixes what hand-written programs rarely combine: deep stacks around `call`
//! boundaries (a callee draining its stack exactly as deep as its caller's overflow once made
//! weft's stack write outside its buffer), memory in several contexts and through locals,
//! loops whose bodies call procedures, `dynexec`/`dyncall`, Merkle trees built and updated in
//! the program, advice, u32 and extension-field arithmetic, hashing, and rare failing checks.
//! Programs stay short (tests build weft's crates at opt-level 1).
//!
//! `WEFT_RANDOM_PROGRAMS=N` runs N programs in the plain mode and N / 2 in the extended one
//! (default 150), from seed `WEFT_RANDOM_SEED` (default 1); a failure prints its seed and
//! source, to be saved under `programs/` with the fix.

use weft_mast::format::fuzz::SplitMix64;
use weft_miden::{conformance, equivalence};
use weft_upstream::{ProgramInputs, load_source};

/// The field modulus.
const P: u64 = 0xFFFF_FFFF_0000_0001;

/// The generator's choices, from weft-mast's seeded SplitMix64 (the same sequence everywhere).
struct Rng(SplitMix64);

impl Rng {
    /// A value in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.0.below(hi - lo)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.0.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() as u64) as usize]
    }

    /// A field element: small, u32, near the modulus or anything.
    fn felt(&mut self) -> u64 {
        match self.range(0, 10) {
            0..=3 => self.range(0, 20),
            4 | 5 => self.range(0, 1 << 32),
            6 => P - 1 - self.range(0, 5),
            _ => self.range(0, P),
        }
    }

    fn word(&mut self) -> String {
        let w: Vec<String> = (0..4).map(|_| self.felt().to_string()).collect();
        w.join(".")
    }
}

/// The program under construction: procedures first, then the entry block.
struct Gen {
    rng: Rng,
    /// Procedures defined so far (callable by later code).
    procs: Vec<String>,
    /// Lines of the body being written.
    lines: Vec<String>,
    /// Loop counters each take a memory word of their own.
    n_loops: u64,
    /// Also `u64` core-library calls and syscalls into [`KERNEL`] (a mode of its own, so that
    /// the plain mode's programs, and its regression seeds, stay what they were).
    extended: bool,
}

impl Gen {
    fn emit(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// Emits `n` random instructions or structures at stack depth `depth` (as modelled: the
    /// depth never falls below 16) and returns the modelled depth after them.
    fn seq(&mut self, mut depth: u64, n: u64, nesting: u32, n_locals: u64) -> u64 {
        for _ in 0..n {
            depth = match self.rng.range(0, 100) {
                0..=9 => self.push(depth),
                10..=19 => self.shuffle(depth),
                20..=31 => self.field(depth),
                32..=45 => self.u32_op(depth),
                46..=55 => self.memory(depth, n_locals),
                56..=67 => self.special(depth),
                68..=73 if nesting > 0 => self.branch(depth, nesting, n_locals),
                74..=77 if nesting > 0 => self.repeat(depth, nesting, n_locals),
                78..=81 if nesting > 0 => self.while_loop(depth, nesting, n_locals),
                82..=90 if !self.procs.is_empty() => self.invoke(depth),
                _ if self.extended => self.library(depth),
                _ => {
                    self.emit("nop");
                    depth
                }
            }
            .max(16);
        }
        depth
    }

    fn push(&mut self, depth: u64) -> u64 {
        let n = self.rng.range(1, 5);
        let values: Vec<String> = (0..n).map(|_| self.rng.felt().to_string()).collect();
        self.emit(format!("push.{}", values.join(".")));
        depth + n
    }

    fn shuffle(&mut self, depth: u64) -> u64 {
        let r = &mut self.rng;
        let (op, delta): (String, i64) = match r.range(0, 12) {
            0 => (format!("dup.{}", r.range(0, 16)), 1),
            1 => (format!("swap.{}", r.range(1, 16)), 0),
            2 => (format!("movup.{}", r.range(2, 16)), 0),
            3 => (format!("movdn.{}", r.range(2, 16)), 0),
            4 => (
                r.pick(&["swapw", "swapw.2", "swapw.3", "swapdw", "reversew"])
                    .into(),
                0,
            ),
            5 => (
                r.pick(&["movupw.2", "movupw.3", "movdnw.2", "movdnw.3"])
                    .into(),
                0,
            ),
            6 => (r.pick(&["dupw", "dupw.1", "dupw.3", "padw"]).into(), 4),
            7 => ("drop".into(), -1),
            8 => ("dropw".into(), -4),
            9 => (format!("push.{} cswap", r.range(0, 2)), 0),
            10 => (format!("push.{} cdropw", r.range(0, 2)), -4),
            _ => ("swap".into(), 0),
        };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    fn field(&mut self, depth: u64) -> u64 {
        let r = &mut self.rng;
        let (op, delta): (String, i64) = match r.range(0, 10) {
            0 => (
                r.pick(&["add", "sub", "mul", "eq", "neq", "lt", "lte", "gt", "gte"])
                    .into(),
                -1,
            ),
            1 => (r.pick(&["neg", "is_odd", "add.1", "not_binary"]).into(), 0),
            2 => (format!("add.{}", r.felt()), 0),
            3 => (format!("mul.{}", r.felt()), 0),
            4 => (format!("push.{} inv mul", r.range(1, P)), 0),
            5 => (format!("push.{} div", r.range(1, P)), 0),
            6 => ("eqw".into(), 1),
            7 => (format!("push.{} exp.u8", r.range(0, 256)), 0),
            8 => ("u32cast push.63 u32and pow2".into(), 0),
            _ => (format!("push.{} exp", r.range(0, 1 << 20)), 0),
        };
        let op = if op == "not_binary" {
            "eq.0".into()
        } else {
            op
        };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    fn u32_op(&mut self, depth: u64) -> u64 {
        let r = &mut self.rng;
        const BINARY: &[&str] = &[
            "u32wrapping_add",
            "u32wrapping_sub",
            "u32wrapping_mul",
            "u32and",
            "u32or",
            "u32xor",
            "u32lt",
            "u32gt",
            "u32lte",
            "u32gte",
            "u32min",
            "u32max",
        ];
        const UNARY: &[&str] = &[
            "u32not",
            "u32popcnt",
            "u32clz",
            "u32ctz",
            "u32clo",
            "u32cto",
        ];
        let (op, delta): (String, i64) = match r.range(0, 9) {
            0 | 1 => (format!("u32cast swap u32cast swap {}", r.pick(BINARY)), -1),
            2 => (
                format!(
                    "u32cast swap u32cast swap {}",
                    r.pick(&[
                        "u32overflowing_add",
                        "u32overflowing_sub",
                        "u32overflowing_mul",
                        "u32assert2"
                    ])
                ),
                0,
            ),
            3 => (format!("u32cast {}", r.pick(UNARY)), 0),
            4 => (
                format!(
                    "u32cast {}.{}",
                    r.pick(&["u32shl", "u32shr", "u32rotl", "u32rotr"]),
                    r.range(0, 32)
                ),
                0,
            ),
            5 => (
                format!(
                    "u32cast push.{} {}",
                    r.range(0, 32),
                    r.pick(&["u32shl", "u32shr", "u32rotl", "u32rotr"])
                ),
                0,
            ),
            6 => {
                let op = r.pick(&["u32divmod", "u32div", "u32mod"]);
                let delta = if op == "u32divmod" { 1 } else { 0 };
                (format!("u32cast push.{} {op}", r.range(1, 1 << 32)), delta)
            }
            7 => {
                let op = r.pick(&[
                    "u32overflowing_add3",
                    "u32wrapping_add3",
                    "u32overflowing_madd",
                    "u32wrapping_madd",
                ]);
                let delta = if op.starts_with("u32wrapping") {
                    -2
                } else {
                    -1
                };
                (
                    format!("u32cast swap u32cast swap movup.2 u32cast movdn.2 {op}"),
                    delta,
                )
            }
            _ => (
                r.pick(&["u32split", "u32test", "u32cast add.1 ilog2"])
                    .into(),
                1,
            ),
        };
        let delta = if op.ends_with("ilog2") { 0 } else { delta };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    fn memory(&mut self, depth: u64, n_locals: u64) -> u64 {
        let r = &mut self.rng;
        let addr = r.range(0, 64) * 4;
        let (op, delta): (String, i64) = match r.range(0, 9) {
            0 => (format!("mem_store.{}", addr + r.range(0, 4)), -1),
            1 => (format!("mem_load.{}", addr + r.range(0, 4)), 1),
            2 => (
                format!(
                    "{}.{addr}",
                    r.pick(&[
                        "mem_storew_be",
                        "mem_storew_le",
                        "mem_loadw_be",
                        "mem_loadw_le"
                    ])
                ),
                0,
            ),
            3 => (format!("push.{} mem_store", addr + r.range(0, 4)), -1),
            4 => (format!("push.{} mem_load", addr + r.range(0, 4)), 1),
            5 => (format!("push.{addr} mem_loadw_be"), 0),
            6 => (
                format!("push.{} padw padw padw mem_stream", r.range(0, 32) * 8),
                13,
            ),
            7 if n_locals > 0 => {
                let i = r.range(0, n_locals);
                let w = r.range(0, n_locals / 4) * 4;
                match r.range(0, 5) {
                    0 => (format!("loc_store.{i}"), -1),
                    1 => (format!("loc_load.{i}"), 1),
                    2 => (format!("loc_storew_be.{w}"), 0),
                    3 => (format!("loc_loadw_be.{w}"), 0),
                    _ => (format!("locaddr.{i}"), 1),
                }
            }
            _ => (
                format!("push.{} padw padw padw adv_pipe", r.range(0, 32) * 8),
                13,
            ),
        };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    /// Hashing, Merkle trees, advice, extension-field arithmetic, deep stacks, rare failures.
    fn special(&mut self, depth: u64) -> u64 {
        let r = &mut self.rng;
        let (op, delta): (String, i64) = match r.range(0, 12) {
            0 => ("hperm".into(), 0),
            1 => ("hmerge".into(), -4),
            2 => (format!("repeat.{} hperm end", r.range(2, 6)), 0),
            3 => {
                // A depth-1 tree, one leaf read back (index 2 fails: outside the tree).
                let index = if r.chance(5) { 2 } else { r.range(0, 2) };
                let (a, b) = (r.word(), r.word());
                (
                    format!(
                        "push.{a} push.{b} mtree_merge push.{index} push.1 mtree_get dropw dropw"
                    ),
                    0,
                )
            }
            4 => {
                // A depth-2 tree, one leaf replaced, then read or verified.
                let words: Vec<String> = (0..5).map(|_| r.word()).collect();
                let index = r.range(0, 4);
                let check = if r.chance(50) {
                    format!("dropw push.{} push.2 mtree_get dropw dropw", r.range(0, 4))
                } else {
                    "dropw dropw".into()
                };
                (
                    format!(
                        "push.{} push.{} mtree_merge push.{} push.{} mtree_merge mtree_merge \
                         push.{} swapw push.{index} push.2 mtree_set {check}",
                        words[0], words[1], words[2], words[3], words[4]
                    ),
                    0,
                )
            }
            5 => {
                let n = r.range(1, 17);
                (format!("adv_push.{n}"), n as i64)
            }
            6 => ("padw adv_loadw".into(), 4),
            7 => match r.range(0, 5) {
                0 => (
                    format!("push.{}.{} ext2inv", r.range(1, 99), r.range(0, 99)),
                    2,
                ),
                1 => ("ext2neg".into(), 0),
                _ => (r.pick(&["ext2add", "ext2sub", "ext2mul"]).into(), -2),
            },
            8 => {
                // Deep stacks: past the stack buffer's first size, and drained back.
                let n = *[20, 300, 1100].get(r.range(0, 3) as usize).unwrap_or(&20);
                (format!("repeat.{n} push.{} end", r.felt()), n as i64)
            }
            9 if depth > 16 => {
                let n = r.range(1, depth - 13);
                (format!("repeat.{n} drop end"), -(n as i64))
            }
            10 if r.chance(25) => {
                let op = r.pick(&[
                    "assert",
                    "assertz",
                    "assert_eq",
                    "u32assert",
                    "push.0 inv",
                    "push.0 u32div",
                    "u32assertw",
                    "push.0 div",
                    "u32and",
                ]);
                let delta = match op {
                    "assert" | "assertz" | "u32and" => -1,
                    "assert_eq" => -2,
                    _ => 0,
                };
                (op.into(), delta)
            }
            _ => (r.pick(&["sdepth", "clk"]).into(), 1),
        };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    fn branch(&mut self, depth: u64, nesting: u32, n_locals: u64) -> u64 {
        let cond = self.rng.range(0, 2);
        self.emit(format!("push.{cond} if.true"));
        self.body(depth, 1..6, nesting - 1, n_locals);
        if self.rng.chance(60) {
            self.emit("else");
            self.body(depth, 1..6, nesting - 1, n_locals);
        }
        self.emit("end");
        depth
    }

    fn repeat(&mut self, depth: u64, nesting: u32, n_locals: u64) -> u64 {
        let times = self.rng.range(1, 5);
        self.emit(format!("repeat.{times}"));
        self.body(depth, 1..6, nesting - 1, n_locals);
        self.emit("end");
        depth
    }

    /// A loop of 1 to 5 passes, counted in a memory word of its own (above the addresses the
    /// other instructions use), so that procedures called in its body cannot disturb it.
    fn while_loop(&mut self, depth: u64, nesting: u32, n_locals: u64) -> u64 {
        self.n_loops += 1;
        let counter = 5000 + 4 * self.n_loops;
        let passes = self.rng.range(1, 6);
        self.emit(format!(
            "push.{passes} mem_store.{counter} push.1 while.true"
        ));
        self.body(depth, 1..8, nesting - 1, n_locals);
        self.emit(format!(
            "mem_load.{counter} sub.1 dup.0 mem_store.{counter} neq.0 end"
        ));
        depth
    }

    /// Calls an earlier procedure: every procedure leaves the depth it started at.
    fn invoke(&mut self, depth: u64) -> u64 {
        let name = self.procs[self.rng.range(0, self.procs.len() as u64) as usize].clone();
        match self.rng.range(0, 10) {
            0..=4 => self.emit(format!("exec.{name}")),
            5..=7 => self.emit(format!("call.{name}")),
            _ => {
                let slot = 4096 + 4 * self.rng.range(0, 4);
                let how = self.rng.pick(&["dynexec", "dyncall"]);
                self.emit(format!(
                    "procref.{name} mem_storew_be.{slot} dropw push.{slot} {how}"
                ));
            }
        }
        depth
    }

    /// A `u64` core-library procedure on u32 limbs, or a syscall into [`KERNEL`].
    fn library(&mut self, depth: u64) -> u64 {
        let r = &mut self.rng;
        let (op, delta): (String, i64) = match r.range(0, 10) {
            0..=2 => (
                format!(
                    "u32cast swap u32cast swap push.{} exec.u64::{}",
                    r.range(0, 64),
                    r.pick(&["shl", "shr", "rotl", "rotr"])
                ),
                0,
            ),
            3..=5 => {
                let op = r.pick(&[
                    "wrapping_add",
                    "wrapping_sub",
                    "wrapping_mul",
                    "overflowing_add",
                    "overflowing_sub",
                    "lt",
                    "gt",
                    "lte",
                    "gte",
                    "eq",
                    "neq",
                    "min",
                    "max",
                    "and",
                    "or",
                    "xor",
                ]);
                let delta = match op {
                    "overflowing_add" | "overflowing_sub" => -1,
                    "lt" | "gt" | "lte" | "gte" | "eq" | "neq" => -3,
                    _ => -2,
                };
                (
                    format!(
                        "u32cast swap u32cast swap movup.2 u32cast movup.3 u32cast movup.3 \
                         movup.3 exec.u64::{op}"
                    ),
                    delta,
                )
            }
            6 => {
                let op = r.pick(&["div", "mod", "divmod"]);
                (
                    format!(
                        "u32cast swap u32cast swap push.{}.{} exec.u64::{op}",
                        r.range(1, 1 << 32),
                        r.range(0, 1 << 32)
                    ),
                    if op == "divmod" { 2 } else { 0 },
                )
            }
            // A syscall, like a call, gives the caller back its depth.
            _ => (
                format!(
                    "syscall.{}",
                    r.pick(&["kadd", "kmul_caller", "kcaller", "kmem"])
                ),
                0,
            ),
        };
        self.emit(op);
        depth.saturating_add_signed(delta)
    }

    /// A block's body: `lens` (a range) random instructions or structures from `depth`, then
    /// back to `depth`, so that a branch, a loop pass or a procedure leaves the depth it found.
    fn body(&mut self, depth: u64, lens: std::ops::Range<u64>, nesting: u32, n_locals: u64) {
        let n = self.rng.range(lens.start, lens.end);
        let after = self.seq(depth, n, nesting, n_locals);
        self.balance(after, depth);
    }

    /// Drops (or pads) from `depth` back to `target`.
    fn balance(&mut self, mut depth: u64, target: u64) {
        while depth > target {
            if depth - target >= 4 && self.rng.chance(50) {
                self.emit("dropw");
                depth -= 4;
            } else {
                self.emit("drop");
                depth -= 1;
            }
        }
        while depth < target {
            self.emit("push.0");
            depth += 1;
        }
    }

    /// Takes the lines written so far.
    fn take(&mut self) -> String {
        let body = std::mem::take(&mut self.lines).join("\n    ");
        format!("    {body}\n")
    }
}

/// The kernel of the extended mode's syscalls (one procedure is never called: the kernel ROM
/// still holds it).
const KERNEL: &str = "\
pub proc kadd
    add
end
pub proc kmul_caller
    caller drop drop drop drop mul
end
pub proc kcaller
    padw caller dropw
end
pub proc kmem
    push.5 mem_store.100 mem_load.100 drop
end
pub proc knever
    push.1 drop
end
";

/// The source and the inputs (JSON) of the program of `seed`, in the plain or the extended
/// mode.
fn program(seed: u64, extended: bool) -> (String, String) {
    let mut g = Gen {
        rng: Rng(SplitMix64::new(seed)),
        procs: Vec::new(),
        lines: Vec::new(),
        n_loops: 0,
        extended,
    };
    let mut source = String::new();
    if extended {
        source.push_str("use miden::core::math::u64\n\n");
    }
    for i in 0..g.rng.range(0, 4) {
        let n_locals = *[0, 0, 4, 8].get(g.rng.range(0, 4) as usize).unwrap_or(&0);
        g.body(16, 1..15, 2, n_locals);
        if n_locals > 0 {
            source.push_str(&format!("@locals({n_locals})\n"));
        }
        source.push_str(&format!("proc p{i}\n{}end\n\n", g.take()));
        g.procs.push(format!("p{i}"));
    }
    g.body(16, 5..80, 3, 0);
    source.push_str(&format!("begin\n{}end\n", g.take()));

    let n_stack = g.rng.range(0, 16);
    let stack: Vec<String> = (0..n_stack)
        .map(|_| format!("\"{}\"", g.rng.range(0, 1 << 32)))
        .collect();
    let n_advice = g.rng.range(200, 2000);
    let advice: Vec<String> = (0..n_advice)
        .map(|_| format!("\"{}\"", g.rng.felt()))
        .collect();
    let inputs = format!(
        "{{\"operand_stack\": [{}], \"advice_stack\": [{}]}}",
        stack.join(", "),
        advice.join(", ")
    );
    (source, inputs)
}

/// Seeds that once found a bug, run on every test run besides the range: 525 and 1040 drained a
/// callee's stack exactly as deep as its caller's overflow (weft-fast's stack then moved its
/// bottom below its buffer).
const REGRESSION_SEEDS: [u64; 2] = [525, 1040];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Everything that differs for the program of `seed`, and whether upstream ran it to its end.
fn check(seed: u64, extended: bool) -> (Vec<String>, bool) {
    let (source, inputs) = program(seed, extended);
    let inputs = match ProgramInputs::from_json(&inputs) {
        Ok(i) => i,
        Err(e) => return (vec![format!("bad inputs: {e}")], false),
    };
    let kernel = source.contains("syscall.").then_some(KERNEL);
    let loaded = match load_source(&source, kernel, inputs) {
        Ok(p) => p,
        Err(e) => return (vec![format!("does not assemble: {e}\n{source}")], false),
    };
    let name = format!("random program {seed} (extended: {extended})");
    let comparison = conformance::compare_program(&name, &loaded);
    let completed = comparison.upstream.is_ok();
    let mut problems: Vec<String> = comparison
        .mismatches
        .iter()
        .map(ToString::to_string)
        .collect();
    let reference = conformance::run_reference(&loaded);
    for size in [5, 64, 4096] {
        if let Err(e) = equivalence::check_against_reference(&loaded, &reference, size) {
            problems.push(format!("fragment size {size}: {e}"));
        }
    }
    let mut host = weft_upstream::host::weft_host(loaded.weft_kernel_forest.as_ref())
        .expect("the core library loads");
    let fast = weft_fast::FastProcessor::new(
        loaded.inputs.weft_stack_inputs(),
        loaded.inputs.weft_advice_inputs(),
        weft_host::ExecutionOptions::default(),
    )
    .execute(&loaded.weft, &mut host);
    match (&reference, &fast) {
        (Ok(r), Ok(f)) if r.stack_outputs.to_ints() != f.stack_outputs.to_ints() => {
            problems.push("execute's outputs differ from the reference's".into());
        }
        (Ok(_), Err(e)) => problems.push(format!("only execute fails: {e}")),
        (Err(e), Ok(_)) => problems.push(format!("only the reference fails: {e}")),
        (Err(r), Err(f)) if r.kind() != f.kind() => {
            problems.push(format!("execute fails otherwise: {r} against {f}"));
        }
        _ => {}
    }
    if !problems.is_empty() {
        problems.push(format!("source:\n{source}"));
    }
    (problems, completed)
}

/// Runs the programs of `seeds` in one mode; asserts that at least two thirds run to their end
/// (so that the comparison reaches their later parts: the rest fail on purpose, on rare failing
/// checks, advice run dry or a Merkle index outside its tree, and are compared as failures) and
/// that none differs.
fn run_seeds(seeds: &[u64], extended: bool) {
    let mut failures = Vec::new();
    let mut n_completed = 0;
    for &seed in seeds {
        // A panic anywhere is a failure of this seed, reported with the others.
        let (problems, completed) = std::panic::catch_unwind(|| check(seed, extended))
            .unwrap_or_else(|e| {
                let message = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                let source = program(seed, extended).0;
                (vec![format!("panicked: {message}\n{source}")], false)
            });
        n_completed += u64::from(completed);
        if !problems.is_empty() {
            failures.push(format!("seed {seed}:\n{}", problems.join("\n")));
        }
    }
    eprintln!(
        "random programs (extended: {extended}): {} seeds, {n_completed} ran to their end, {} \
         differ",
        seeds.len(),
        failures.len()
    );
    assert!(
        n_completed * 3 >= seeds.len() as u64 * 2,
        "only {n_completed} of {} random programs ran to their end",
        seeds.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} random programs differ:\n{}",
        failures.len(),
        seeds.len(),
        failures.join("\n\n")
    );
}

#[test]
fn random_programs_run_alike_on_upstream_and_every_weft_path() {
    let first = env_u64("WEFT_RANDOM_SEED", 1);
    let count = env_u64("WEFT_RANDOM_PROGRAMS", 150);
    let seeds: Vec<u64> = (first..first + count).chain(REGRESSION_SEEDS).collect();
    run_seeds(&seeds, false);
}

/// The extended mode: the same, with `u64` core-library calls and syscalls into a kernel.
#[test]
fn random_programs_with_syscalls_and_core_library_calls_run_alike() {
    let first = env_u64("WEFT_RANDOM_SEED", 1);
    let count = env_u64("WEFT_RANDOM_PROGRAMS", 150) / 2;
    let seeds: Vec<u64> = (first..first + count).collect();
    run_seeds(&seeds, true);
}

/// The generator is deterministic and writes programs of every shape it knows (so that the
/// test above cannot silently shrink to trivial programs).
#[test]
fn the_generator_covers_its_features() {
    assert_eq!(program(7, false), program(7, false));
    assert_ne!(program(7, false), program(7, true));
    assert_uses(
        false,
        &[
            "call.",
            "exec.",
            "dynexec",
            "dyncall",
            "while.true",
            "if.true",
            "repeat.",
            "mtree_set",
            "mtree_get",
            "adv_push",
            "adv_pipe",
            "mem_stream",
            "hperm",
            "ext2mul",
            "u32xor",
            "loc_store",
            "repeat.1100 push",
        ],
    );
    assert_uses(
        true,
        &[
            "syscall.kadd",
            "syscall.kmul_caller",
            "syscall.kcaller",
            "syscall.kmem",
            "exec.u64::divmod",
            "exec.u64::rotl",
            "exec.u64::overflowing_sub",
        ],
    );
}

/// Asserts that the programs of seeds 1 to 40 in a mode (`extended` or plain) use each of
/// `features` somewhere.
fn assert_uses(extended: bool, features: &[&str]) {
    let all: String = (1..=40).map(|s| program(s, extended).0).collect();
    let mode = if extended { "extended" } else { "plain" };
    for feature in features {
        assert!(all.contains(feature), "no {mode} program uses {feature}");
    }
}
