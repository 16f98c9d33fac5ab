//! The fast processor's memory: word-granular, every context in one hash map.

use std::{collections::HashMap, hash::BuildHasherDefault};

use weft_core::{Felt, ZERO};

/// A multiplicative hasher for the memory map's `u64` keys (`ctx << 32 | word address`).
#[derive(Default, Clone, Copy, Debug)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (value ^ (value >> 29)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Word-granular memory of every context; unwritten words read as zero.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    words: HashMap<u64, [Felt; 4], BuildHasherDefault<KeyHasher>>,
}

#[inline(always)]
fn mem_key(ctx: u32, word_addr: u32) -> u64 {
    (u64::from(ctx) << 32) | u64::from(word_addr)
}

impl Memory {
    #[inline(always)]
    pub(super) fn element(&self, ctx: u32, addr: u32) -> Option<Felt> {
        self.words
            .get(&mem_key(ctx, addr & !3))
            .map(|w| w[(addr & 3) as usize])
    }

    #[inline(always)]
    pub(super) fn word(&self, ctx: u32, addr: u32) -> [Felt; 4] {
        self.words
            .get(&mem_key(ctx, addr))
            .copied()
            .unwrap_or([ZERO; 4])
    }

    #[inline(always)]
    pub(super) fn write_element(&mut self, ctx: u32, addr: u32, value: Felt) {
        self.words
            .entry(mem_key(ctx, addr & !3))
            .or_insert([ZERO; 4])[(addr & 3) as usize] = value;
    }

    #[inline(always)]
    pub(super) fn write_word(&mut self, ctx: u32, addr: u32, word: [Felt; 4]) {
        self.words.insert(mem_key(ctx, addr), word);
    }
}
