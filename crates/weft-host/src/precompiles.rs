//! The core library's precompiles other than Keccak-256: SHA-512, ECDSA over secp256k1 (Keccak
//! digests), EdDSA over Ed25519, and the advice for AEAD (RPO) decryption.
//!
//! A precompile's handler reads its inputs from memory, computes the answer natively and
//! pushes it onto the advice stack; the MASM code that emitted the event then commits to
//! inputs and answer, and logs a precompile request whose call data lets a verifier redo the
//! computation later. The answers, the order they land on the advice stack and the call data
//! are upstream 0.20.6's; the cryptography is miden-crypto's (the same code upstream uses) and
//! the `sha2` crate's.
//!
//! Stack positions are at the `EMIT` (0 holds the event id). Every input is checked: a bad
//! pointer, unwritten memory, a value that is not a u32, non-zero padding, a malformed key or
//! signature, or a ciphertext that does not decrypt is an [`EventError`], never a panic.

use miden_crypto::{
    aead::{
        DataType,
        aead_rpo::{AuthTag, EncryptedData, Nonce, SecretKey},
    },
    dsa::{ecdsa_k256_keccak, eddsa_25519_sha512},
    utils::{Deserializable, Serializable},
};
use sha2::{Digest, Sha512};
use weft_core::Felt;

use crate::{
    AdviceMutation, AdviceProvider, EventError, EventId, PrecompileRequest, ProcessView,
    handlers::read_packed_bytes,
};

/// The name of the core library's SHA-512 precompile event.
pub const SHA512_HASH_BYTES_EVENT_NAME: &str = "miden::core::hash::sha512::hash_bytes";
/// The name of the core library's ECDSA (secp256k1, Keccak digest) verification event.
pub const ECDSA_VERIFY_EVENT_NAME: &str = "miden::core::crypto::dsa::ecdsa_k256_keccak::verify";
/// The name of the core library's EdDSA (Ed25519) verification event.
pub const EDDSA_VERIFY_EVENT_NAME: &str = "miden::core::dsa::eddsa_ed25519::verify";
/// The name of the core library's AEAD decryption event (upstream kept its old library prefix).
pub const AEAD_DECRYPT_EVENT_NAME: &str = "stdlib::crypto::aead::decrypt";

/// ECDSA public keys are compressed secp256k1 points.
const ECDSA_PUBLIC_KEY_BYTES: u64 = 33;
/// ECDSA signatures are `r`, `s` and the recovery byte `v`.
const ECDSA_SIGNATURE_BYTES: u64 = 65;
/// Both signature schemes sign 32-byte digests, except EdDSA's `k`, a SHA-512 digest.
const DIGEST_BYTES: u64 = 32;
const EDDSA_PUBLIC_KEY_BYTES: u64 = 32;
const EDDSA_K_DIGEST_BYTES: u64 = 64;
const EDDSA_SIGNATURE_BYTES: u64 = 64;

/// Why a precompile handler failed.
#[derive(Debug, thiserror::Error)]
enum PrecompileError {
    #[error("cannot read the {what}: {source}")]
    Read {
        what: &'static str,
        source: crate::handlers::HandlerError,
    },
    #[error("the {what} does not deserialize: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("cannot read {len} elements of memory at {addr}")]
    MemoryRegion { addr: u64, len: u64 },
    #[error("the ciphertext does not decrypt: {0}")]
    Decryption(String),
}

fn read_bytes(
    process: &dyn ProcessView,
    idx: usize,
    len: u64,
    what: &'static str,
) -> Result<Vec<u8>, PrecompileError> {
    let ptr = process.stack_item(idx).as_int();
    read_packed_bytes(process, ptr, len).map_err(|source| PrecompileError::Read { what, source })
}

fn deserialize<T: Deserializable>(bytes: &[u8], what: &'static str) -> Result<T, PrecompileError> {
    T::read_from_bytes(bytes).map_err(|e| PrecompileError::Malformed {
        what,
        reason: e.to_string(),
    })
}

/// The little-endian u32s of `bytes` (a multiple of 4 long), as elements.
fn packed_u32s(bytes: &[u8]) -> impl DoubleEndedIterator<Item = Felt> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| Felt::new(u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
}

fn request(name: &str, calldata: Vec<u8>) -> AdviceMutation {
    AdviceMutation::ExtendPrecompileRequests {
        data: vec![PrecompileRequest {
            event_id: EventId::from_name(name),
            calldata,
        }],
    }
}

/// `sha512::hash_bytes`: with a pointer at position 1 and a byte length at position 2, hashes
/// the packed bytes in memory with SHA-512 and pushes the digest as sixteen little-endian u32
/// elements with the first one on top (the reverse of Keccak-256's order, as upstream does);
/// logs a precompile request with the bytes.
///
/// # Errors
/// A bad range or memory contents (the packing rules of Keccak-256's handler).
pub fn handle_sha512_hash_bytes(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let len_bytes = process.stack_item(2).as_int();
    let bytes = read_bytes(process, 1, len_bytes, "SHA-512 input")?;
    let digest = Sha512::digest(&bytes);
    Ok(vec![
        AdviceMutation::extend_stack(packed_u32s(&digest).rev()),
        request(SHA512_HASH_BYTES_EVENT_NAME, bytes),
    ])
}

/// `ecdsa_k256_keccak::verify`: with pointers to the public key (33 bytes), the 32-byte message
/// digest and the signature (65 bytes) at positions 1, 2 and 3, pushes 1 if the signature
/// verifies and 0 if not; logs a precompile request with key, digest and signature.
///
/// # Errors
/// Unreadable memory, or a key or signature that does not deserialize.
pub fn handle_ecdsa_verify(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let key_bytes = read_bytes(process, 1, ECDSA_PUBLIC_KEY_BYTES, "ECDSA public key")?;
    let key: ecdsa_k256_keccak::PublicKey = deserialize(&key_bytes, "ECDSA public key")?;
    let sig_bytes = read_bytes(process, 3, ECDSA_SIGNATURE_BYTES, "ECDSA signature")?;
    let signature: ecdsa_k256_keccak::Signature = deserialize(&sig_bytes, "ECDSA signature")?;
    let digest: [u8; DIGEST_BYTES as usize] = read_bytes(process, 2, DIGEST_BYTES, "ECDSA digest")?
        .try_into()
        .expect("read_packed_bytes returns exactly the bytes asked for");
    let verified = key.verify_prehash(digest, &signature);
    let mut calldata = key.to_bytes();
    calldata.extend_from_slice(&digest);
    calldata.extend(signature.to_bytes());
    Ok(vec![
        AdviceMutation::extend_stack([Felt::new(u64::from(verified))]),
        request(ECDSA_VERIFY_EVENT_NAME, calldata),
    ])
}

/// `eddsa_ed25519::verify`: with pointers to the public key (32 bytes), the 64-byte digest `k`
/// (SHA-512 of the signature's `R`, the key and the message, computed by the caller) and the
/// signature (64 bytes) at positions 1, 2 and 3, pushes 1 if the signature verifies with that
/// `k` and 0 if not; logs a precompile request with key, `k` and signature.
///
/// # Errors
/// Unreadable memory, or a key or signature that does not deserialize.
pub fn handle_eddsa_verify(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let key_bytes = read_bytes(process, 1, EDDSA_PUBLIC_KEY_BYTES, "EdDSA public key")?;
    let key: eddsa_25519_sha512::PublicKey = deserialize(&key_bytes, "EdDSA public key")?;
    let k: [u8; EDDSA_K_DIGEST_BYTES as usize] =
        read_bytes(process, 2, EDDSA_K_DIGEST_BYTES, "EdDSA k digest")?
            .try_into()
            .expect("read_packed_bytes returns exactly the bytes asked for");
    let sig_bytes = read_bytes(process, 3, EDDSA_SIGNATURE_BYTES, "EdDSA signature")?;
    let signature: eddsa_25519_sha512::Signature = deserialize(&sig_bytes, "EdDSA signature")?;
    let verified = key.verify_with_unchecked_k(k, &signature).is_ok();
    let mut calldata = key.to_bytes();
    calldata.extend_from_slice(&k);
    calldata.extend(signature.to_bytes());
    Ok(vec![
        AdviceMutation::extend_stack([Felt::new(u64::from(verified))]),
        request(EDDSA_VERIFY_EVENT_NAME, calldata),
    ])
}

/// The `len` elements of memory from the word-aligned address `start` in the current context,
/// every one written. The length is the program's word, so the result grows with what memory
/// holds (bounded by the run's cycles) rather than being sized from it.
fn read_region(process: &dyn ProcessView, start: u64, len: u64) -> Option<Vec<Felt>> {
    let start = u32::try_from(start).ok()?;
    let end = start.checked_add(u32::try_from(len).ok()?)?;
    if !start.is_multiple_of(4) {
        return None;
    }
    let ctx = process.ctx();
    let mut out = Vec::with_capacity(len.min(1 << 12) as usize);
    for addr in start..end {
        out.push(process.mem_element(ctx, addr)?);
    }
    Some(out)
}

/// `aead::decrypt`'s advice: with the nonce word at positions 1..5, the key word at 5..9, the
/// ciphertext's address at 9 and its number of 8-element blocks at 11, reads the ciphertext
/// (the blocks and one block of padding, then the tag word), decrypts it with AEAD-RPO and
/// pushes the blocks' plaintext (without the padding) so that its first element ends on top.
/// The MASM procedure encrypts that plaintext again and checks the tag, so the advice is
/// never trusted.
///
/// # Errors
/// Unaligned, out-of-range or unwritten memory, or a tag that does not authenticate.
pub fn handle_aead_decrypt(
    process: &dyn ProcessView,
    _advice: &AdviceProvider,
) -> Result<Vec<AdviceMutation>, EventError> {
    let nonce = process.stack_word_be(1);
    let key = process.stack_word_be(5);
    let src = process.stack_item(9).as_int();
    let n_blocks = process.stack_item(11).as_int();
    let n_elements = n_blocks
        .checked_add(1)
        .and_then(|n| n.checked_mul(8))
        .ok_or(PrecompileError::MemoryRegion {
            addr: src,
            len: u64::MAX,
        })?;
    let ciphertext =
        read_region(process, src, n_elements).ok_or(PrecompileError::MemoryRegion {
            addr: src,
            len: n_elements,
        })?;
    let tag_addr = src + n_elements;
    let tag = read_region(process, tag_addr, 4)
        .ok_or(PrecompileError::MemoryRegion {
            addr: tag_addr,
            len: 4,
        })?
        .try_into()
        .expect("read_region returns exactly the elements asked for");
    let secret = SecretKey::from_elements(key.into());
    let data = EncryptedData::from_parts(
        DataType::Elements,
        ciphertext,
        AuthTag::new(tag),
        Nonce::from(nonce),
    );
    let mut plaintext = secret
        .decrypt_elements(&data)
        .map_err(|e| PrecompileError::Decryption(e.to_string()))?;
    plaintext.truncate((n_blocks * 8) as usize);
    Ok(vec![AdviceMutation::extend_stack(
        plaintext.into_iter().rev(),
    )])
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A stack (top first) and the written memory of context 0.
    struct View {
        stack: Vec<u64>,
        memory: HashMap<u32, u64>,
    }

    impl ProcessView for View {
        fn clk(&self) -> u32 {
            0
        }
        fn ctx(&self) -> u32 {
            0
        }
        fn stack_item(&self, idx: usize) -> Felt {
            Felt::new(self.stack.get(idx).copied().unwrap_or(0))
        }
        fn stack_depth(&self) -> usize {
            self.stack.len().max(16)
        }
        fn mem_element(&self, ctx: u32, addr: u32) -> Option<Felt> {
            (ctx == 0).then(|| self.memory.get(&addr).map(|v| Felt::new(*v)))?
        }
    }

    fn pushed(mutations: &[AdviceMutation]) -> Vec<u64> {
        match &mutations[0] {
            AdviceMutation::ExtendStack { values } => values.iter().map(Felt::as_int).collect(),
            other => panic!("expected the advice stack first, got {other:?}"),
        }
    }

    #[test]
    fn sha512_pushes_the_digest_first_limb_last() {
        // "abc" packed little-endian at address 8.
        let view = View {
            stack: vec![0, 8, 3],
            memory: HashMap::from([(8, 0x0063_6261)]),
        };
        let out = handle_sha512_hash_bytes(&view, &AdviceProvider::default()).expect("hashes");
        let values = pushed(&out);
        assert_eq!(values.len(), 16);
        // SHA-512("abc") = ddaf35a1 93617aba ...: the first four bytes as a little-endian u32
        // end on top (last pushed), the second four under them.
        assert_eq!(values[15], 0xa135_afdd);
        assert_eq!(values[14], 0xba7a_6193);
        match &out[1] {
            AdviceMutation::ExtendPrecompileRequests { data } => {
                assert_eq!(data[0].calldata, b"abc");
                assert_eq!(
                    data[0].event_id,
                    EventId::from_name(SHA512_HASH_BYTES_EVENT_NAME)
                );
            }
            other => panic!("expected a precompile request, got {other:?}"),
        }
    }

    /// Lengths the program chose are errors once memory runs out. (Reserving from the length
    /// itself, as before, did not fail here: Linux overcommits a 16 GiB reservation that is
    /// never touched; under strict overcommit it aborts the process.)
    #[test]
    fn lengths_from_the_stack_do_not_size_allocations() {
        // 2^34 - 4 bytes from address 0: within the address space, far beyond memory.
        let huge = (1u64 << 34) - 4;
        let view = View {
            stack: vec![0, 0, huge],
            memory: HashMap::from([(0, 7)]),
        };
        assert!(handle_sha512_hash_bytes(&view, &AdviceProvider::default()).is_err());
        // An AEAD ciphertext of 2^29 - 2 blocks (its last element at 2^32 - 1).
        let mut stack = vec![0u64; 12];
        stack[11] = (1 << 29) - 2;
        let view = View {
            stack,
            memory: HashMap::new(),
        };
        assert!(handle_aead_decrypt(&view, &AdviceProvider::default()).is_err());
        // A block count whose element count overflows.
        let mut stack = vec![0u64; 12];
        stack[11] = u64::MAX;
        let view = View {
            stack,
            memory: HashMap::new(),
        };
        assert!(handle_aead_decrypt(&view, &AdviceProvider::default()).is_err());
    }

    #[test]
    fn malformed_keys_and_unwritten_memory_are_errors() {
        // ECDSA: key at 0 (33 bytes of 0x05: no such point), digest at 16, signature at 48.
        let mut memory: HashMap<u32, u64> = (0..9).map(|a| (a, 0x0505_0505)).collect();
        memory.insert(8, 0x05);
        memory.extend((16..24).map(|a| (a, 1)));
        memory.extend((48..65).map(|a| (a, 1)));
        let view = View {
            stack: vec![0, 0, 16, 48],
            memory: memory.clone(),
        };
        let err = handle_ecdsa_verify(&view, &AdviceProvider::default()).expect_err("bad key");
        assert!(err.to_string().contains("ECDSA public key"), "{err}");
        // EdDSA with nothing written at the key's address.
        let view = View {
            stack: vec![0, 200, 16, 48],
            memory,
        };
        let err = handle_eddsa_verify(&view, &AdviceProvider::default()).expect_err("no key");
        assert!(err.to_string().contains("EdDSA public key"), "{err}");
    }
}
