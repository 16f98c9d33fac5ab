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
    ($($variant:ident => $name:literal,)*) => {
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
        }
    };
}

system_events! {
    MerkleNodeMerge => "sys::merkle_node_merge",
    MerkleNodeToStack => "sys::merkle_node_to_stack",
    MapValueToStack => "sys::map_value_to_stack",
    MapValueCountToStack => "sys::map_value_count_to_stack",
    MapValueToStackN0 => "sys::map_value_to_stack_n_0",
    MapValueToStackN4 => "sys::map_value_to_stack_n_4",
    MapValueToStackN8 => "sys::map_value_to_stack_n_8",
    HasMapKey => "sys::has_map_key",
    Ext2Inv => "sys::ext2_inv",
    U32Clz => "sys::u32_clz",
    U32Ctz => "sys::u32_ctz",
    U32Clo => "sys::u32_clo",
    U32Cto => "sys::u32_cto",
    ILog2 => "sys::ilog2",
    MemToMap => "sys::mem_to_map",
    HdwordToMap => "sys::hdword_to_map",
    HdwordToMapWithDomain => "sys::hdword_to_map_with_domain",
    HqwordToMap => "sys::hqword_to_map",
    HpermToMap => "sys::hperm_to_map",
}

impl SystemEvent {
    /// Returns the event's id.
    pub fn event_id(self) -> EventId {
        EventId::from_name(self.name())
    }

    /// Returns the system event with id `id`, if any.
    pub fn from_event_id(id: EventId) -> Option<Self> {
        static IDS: std::sync::OnceLock<Vec<(EventId, SystemEvent)>> = std::sync::OnceLock::new();
        IDS.get_or_init(|| Self::ALL.iter().map(|e| (e.event_id(), *e)).collect())
            .iter()
            .find(|(eid, _)| *eid == id)
            .map(|(_, e)| *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_event_ids_are_distinct_and_round_trip() {
        for event in SystemEvent::ALL {
            assert_eq!(SystemEvent::from_event_id(event.event_id()), Some(*event));
        }
        assert_eq!(
            SystemEvent::from_event_id(EventId::from_name("user::x")),
            None
        );
    }
}
