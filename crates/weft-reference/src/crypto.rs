//! The hashing operations: `HPERM`, `MPVERIFY`, `MRUPDATE`, `LOGPRECOMPILE` and `CRYPTOSTREAM`,
//! each taking its hasher chiplet rows from the [`Vm`] as upstream does.

use miden_crypto::merkle::MerklePath;
use weft_core::{Felt, Rpo256, Word, ZERO};
use weft_host::{ExecutionError, Host};

use crate::{
    log::HasherRequest,
    vm::{Helpers, Vm},
};

/// `HPERM`: applies the RPO permutation to the top twelve elements.
pub(crate) fn hperm<H: Host>(p: &mut Vm<'_, H>) -> Helpers {
    let state: [Felt; 12] = core::array::from_fn(|i| p.stack.get(11 - i));
    let (addr, out) = p.permute(state);
    for i in 0..12 {
        p.stack.top[i] = out[11 - i];
    }
    [addr, ZERO, ZERO, ZERO, ZERO, ZERO]
}

/// `MPVERIFY`: checks that the node on the stack sits at `index` under `root`.
pub(crate) fn mp_verify<H: Host>(
    p: &mut Vm<'_, H>,
    err_code: Felt,
) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let s = |i: usize| p.stack.get(i);
    let node: Word = [s(3), s(2), s(1), s(0)].into();
    let (depth, index) = (s(4), s(5));
    let root: Word = [s(9), s(8), s(7), s(6)].into();
    let path = p
        .advice
        .get_merkle_path(root, depth, index)
        .map_err(|e| ExecutionError::advice(clk, e))?;
    let computed = compute_root(node, &path, index.as_int());
    let addr = p.hash_request(HasherRequest::MerkleVerify {
        leaf: node,
        path: path.iter().copied().collect(),
        index: index.as_int(),
    });
    if computed != root {
        return Err(ExecutionError::MerklePathVerificationFailed {
            clk,
            value: node,
            index,
            root,
            err_code: err_code.as_int(),
        });
    }
    Ok([addr, ZERO, ZERO, ZERO, ZERO, ZERO])
}

/// `MRUPDATE`: replaces a node of a tree in the advice provider's Merkle store and puts the new
/// root on the stack.
pub(crate) fn mr_update<H: Host>(p: &mut Vm<'_, H>) -> Result<Helpers, ExecutionError> {
    let clk = p.clk;
    let s = |i: usize| p.stack.get(i);
    let old_node: Word = [s(3), s(2), s(1), s(0)].into();
    let (depth, index) = (s(4), s(5));
    let old_root: Word = [s(9), s(8), s(7), s(6)].into();
    let new_node: Word = [s(13), s(12), s(11), s(10)].into();
    let (path, _) = p
        .advice
        .update_merkle_node(old_root, depth, index, new_node)
        .map_err(|e| ExecutionError::advice(clk, e))?;
    if path.len() as u64 != depth.as_int() {
        return Err(ExecutionError::FailedToExecuteProgram(
            "MRUPDATE: the store's path is not as long as the depth",
        ));
    }
    if compute_root(old_node, &path, index.as_int()) != old_root {
        return Err(ExecutionError::MerklePathVerificationFailed {
            clk,
            value: old_node,
            index,
            root: old_root,
            err_code: 0,
        });
    }
    let addr = p.hash_request(HasherRequest::MerkleUpdate {
        old: old_node,
        new: new_node,
        path: path.iter().copied().collect(),
        index: index.as_int(),
    });
    let new_root = compute_root(new_node, &path, index.as_int());
    p.stack.top[..4].copy_from_slice(&[new_root[3], new_root[2], new_root[1], new_root[0]]);
    Ok([addr, ZERO, ZERO, ZERO, ZERO, ZERO])
}

/// `LOGPRECOMPILE`: absorbs a precompile commitment and tag into the precompile transcript.
pub(crate) fn log_precompile<H: Host>(p: &mut Vm<'_, H>) -> Helpers {
    let s = |i: usize| p.stack.get(i);
    let comm = [s(3), s(2), s(1), s(0)];
    let tag = [s(7), s(6), s(5), s(4)];
    let cap = p.pc_transcript;
    let mut state = [ZERO; 12];
    state[..4].copy_from_slice(cap.as_elements());
    state[4..8].copy_from_slice(&tag);
    state[8..].copy_from_slice(&comm);
    let (addr, out) = p.permute(state);
    p.pc_transcript = [out[0], out[1], out[2], out[3]].into();
    for i in 0..12 {
        p.stack.top[i] = out[11 - i];
    }
    [addr, cap[0], cap[1], cap[2], cap[3], ZERO]
}

/// `CRYPTOSTREAM`: encrypts two words of memory with the rate on the stack.
pub(crate) fn crypto_stream<H: Host>(p: &mut Vm<'_, H>) -> Result<(), ExecutionError> {
    let clk = p.clk;
    let (src, dst) = (p.stack.get(12), p.stack.get(13));
    let range = |addr: Felt| -> Result<(u32, u32), ExecutionError> {
        let a =
            u32::try_from(addr.as_int()).map_err(|_| ExecutionError::MemoryAddressOutOfBounds {
                clk,
                addr: addr.as_int(),
            })?;
        let end = a
            .checked_add(8)
            .ok_or(ExecutionError::MemoryAddressOutOfBounds {
                clk,
                addr: addr.as_int(),
            })?;
        Ok((a, end))
    };
    let (src_start, src_end) = range(src)?;
    let (dst_start, dst_end) = range(dst)?;
    if src_start < dst_end && dst_start < src_end {
        return Err(ExecutionError::OverlappingMemoryRanges { clk });
    }
    let plain0 = p.memory.read_word(p.ctx, src, clk)?;
    let plain1 = p.memory.read_word(p.ctx, src + Felt::new(4), clk)?;
    let rate: [Felt; 8] = core::array::from_fn(|i| p.stack.get(7 - i));
    let c0: Word = core::array::from_fn::<_, 4, _>(|i| plain0[i] + rate[i]).into();
    let c1: Word = core::array::from_fn::<_, 4, _>(|i| plain1[i] + rate[4 + i]).into();
    p.memory.write_word(p.ctx, dst, clk, c0)?;
    p.memory.write_word(p.ctx, dst + Felt::new(4), clk, c1)?;
    p.stack.set_dword(c0, c1);
    p.stack.top[12] = src + Felt::new(8);
    p.stack.top[13] = dst + Felt::new(8);
    Ok(())
}

/// Computes the root of the tree where `node` sits at `index` under `path` (leaf level first).
fn compute_root(node: Word, path: &MerklePath, mut index: u64) -> Word {
    let mut value = node;
    for sibling in path.iter() {
        value = if index & 1 == 0 {
            Rpo256::merge(&[value, *sibling])
        } else {
            Rpo256::merge(&[*sibling, value])
        };
        index >>= 1;
    }
    value
}
