//! The integrity checksum of both binary formats (see the format module's documentation for
//! why it detects every single-byte change).

const CHECKSUM_K: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(CHECKSUM_K).rotate_left(29)
}

/// The integrity checksum of both binary formats (see the module documentation for why it
/// detects every single-byte change).
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut lanes: [u64; 4] = [
        0x243F_6A88_85A3_08D3,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            if let Some(w) = word.first_chunk::<8>() {
                *lane = mix(*lane, u64::from_le_bytes(*w));
            }
        }
    }
    let rest = chunks.remainder();
    for (lane, word) in lanes.iter_mut().zip(rest.chunks(8)) {
        let mut w = [0u8; 8];
        w[..word.len()].copy_from_slice(word);
        *lane = mix(*lane, u64::from_le_bytes(w));
    }
    let mut h = mix(lanes[0], bytes.len() as u64);
    for lane in &lanes[1..] {
        h = mix(h, *lane);
    }
    h ^= h >> 31;
    h.wrapping_mul(CHECKSUM_K)
}
