//! Typed `u32` ids for the entities of a forest.
//!
//! Ids are created only by the forest builder (which hands out the next slot of its arena) or by a
//! checked constructor that takes the arena's length as a bound: there is deliberately no public
//! `From<u32>`, so an integer read from untrusted bytes cannot silently become an id.

use core::fmt;

use crate::MastError;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(u32);

        impl $name {
            /// Returns the id for `value` if it indexes an arena of `bound` entries.
            ///
            /// # Errors
            /// Returns [`MastError::IdOutOfRange`] if `value >= bound`.
            pub fn from_u32_checked(value: u32, bound: usize) -> Result<Self, MastError> {
                if (value as usize) < bound {
                    Ok(Self(value))
                } else {
                    Err(MastError::IdOutOfRange { kind: $what, id: value, bound })
                }
            }

            /// Returns the id for `value` if it indexes an arena of `bound` entries.
            ///
            /// # Errors
            /// Returns [`MastError::IdOutOfRange`] if `value >= bound` or does not fit in a `u32`.
            pub fn from_usize_checked(value: usize, bound: usize) -> Result<Self, MastError> {
                let id = u32::try_from(value)
                    .map_err(|_| MastError::IdOutOfRange { kind: $what, id: u32::MAX, bound })?;
                Self::from_u32_checked(id, bound)
            }

            /// Creates the id of the arena slot at `index`; only arenas of this crate call it,
            /// after checking the index fits.
            pub(crate) const fn new_unchecked(index: u32) -> Self {
                Self(index)
            }

            /// Returns the id as a `u32`.
            #[inline(always)]
            pub const fn as_u32(self) -> u32 {
                self.0
            }

            /// Returns the id as an arena index.
            #[inline(always)]
            pub const fn as_usize(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}#{}", $what, self.0)
            }
        }
    };
}

define_id!(
    /// The id of a node in a [`MastForest`](crate::MastForest).
    MastNodeId,
    "node"
);
define_id!(
    /// The id of a decorator in a [`MastForest`](crate::MastForest)'s decorator table.
    DecoratorId,
    "decorator"
);

/// Returns the id of the next slot of an arena holding `len` entries.
///
/// # Errors
/// Returns [`MastError::ArenaFull`] when the arena already holds `limit` entries.
pub(crate) fn next_id(len: usize, limit: usize, kind: &'static str) -> Result<u32, MastError> {
    if len >= limit {
        return Err(MastError::ArenaFull { kind, limit });
    }
    u32::try_from(len).map_err(|_| MastError::ArenaFull { kind, limit })
}
