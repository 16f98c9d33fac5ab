//! Event ids and the system events the VM handles itself.

use core::fmt;

use miden_crypto::hash::blake::Blake3_256;
use weft_core::Felt;

/// The id of an event: a field element, derived from a name exactly as upstream derives it
/// (the first eight bytes of the name's BLAKE3-256 digest, little-endian, reduced into the field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u64);

impl EventId {
    /// Computes the id of the event called `name`.
    pub fn from_name(name: &str) -> Self {
        let digest: [u8; 32] = Blake3_256::hash(name.as_bytes()).into();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Self::from_felt(Felt::new(u64::from_le_bytes(first)))
    }

    /// Wraps a field element (for example the top of the stack at an `EMIT`).
    pub fn from_felt(value: Felt) -> Self {
        Self(value.as_int())
    }

    /// Returns the id as a field element.
    pub fn as_felt(self) -> Felt {
        Felt::new(self.0)
    }

    /// Returns the id as a canonical integer.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! system_events {
    ($($variant:ident => $name:literal = $id:literal,)*) => {
        /// The events the VM handles itself, without calling the host. Their ids are those of
        /// their names, which all start with `sys::`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum SystemEvent {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl SystemEvent {
            /// Every system event.
            pub const ALL: &'static [SystemEvent] = &[$(SystemEvent::$variant),*];

            /// Returns the event's full name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(SystemEvent::$variant => $name,)*
                }
            }

            /// Returns the event's id: [`EventId::from_name`] of its name, written out so that
            /// recognising a system event at an `EMIT` hashes nothing (a test checks every
            /// constant against its name's hash). Hashing all the names on first use cost a
            /// short program's first execution ~10 µs, cold BLAKE3 code included.
            pub const fn event_id(self) -> EventId {
                match self {
                    $(SystemEvent::$variant => EventId($id),)*
                }
            }

            /// Returns the system event with id `id`, if any.
            pub const fn from_event_id(id: EventId) -> Option<Self> {
                match id.0 {
                    $($id => Some(SystemEvent::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

system_events! {
    MerkleNodeMerge => "sys::merkle_node_merge" = 0x6487_8729_c452_cf06,
    MerkleNodeToStack => "sys::merkle_node_to_stack" = 0x5f61_d422_9159_03bc,
    MapValueToStack => "sys::map_value_to_stack" = 0xf7a0_cac2_2ee0_4196,
    MapValueCountToStack => "sys::map_value_count_to_stack" = 0x3028_e3f4_fedd_098c,
    MapValueToStackN0 => "sys::map_value_to_stack_n_0" = 0xa36c_5ad1_be4e_2c5a,
    MapValueToStackN4 => "sys::map_value_to_stack_n_4" = 0x2fc9_1412_9a68_37ce,
    MapValueToStackN8 => "sys::map_value_to_stack_n_8" = 0x182b_5bbb_c804_34c1,
    HasMapKey => "sys::has_map_key" = 0x4e4e_7b60_29bd_8fa9,
    Ext2Inv => "sys::ext2_inv" = 0x8611_cd8f_67a6_fcf0,
    U32Clz => "sys::u32_clz" = 0x14de_3de0_c52d_7254,
    U32Ctz => "sys::u32_ctz" = 0x93e4_de5a_07e2_7fc5,
    U32Clo => "sys::u32_clo" = 0xb248_3cfa_fbd9_a870,
    U32Cto => "sys::u32_cto" = 0x5e00_9265_607e_4ec8,
    ILog2 => "sys::ilog2" = 0x674f_a61a_c42e_7eef,
    MemToMap => "sys::mem_to_map" = 0x500d_f384_235d_d7be,
    HdwordToMap => "sys::hdword_to_map" = 0x531a_370a_881d_8991,
    HdwordToMapWithDomain => "sys::hdword_to_map_with_domain" = 0x5543_152d_52eb_ce32,
    HqwordToMap => "sys::hqword_to_map" = 0xa2b1_1719_592a_54a9,
    HpermToMap => "sys::hperm_to_map" = 0x55ea_3f53_0158_e20f,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_event_ids_are_distinct_and_round_trip() {
        for event in SystemEvent::ALL {
            assert_eq!(
                event.event_id(),
                EventId::from_name(event.name()),
                "{event:?}'s id constant"
            );
            assert_eq!(SystemEvent::from_event_id(event.event_id()), Some(*event));
        }
        assert_eq!(
            SystemEvent::from_event_id(EventId::from_name("user::x")),
            None
        );
    }
}
