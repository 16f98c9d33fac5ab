//! The [`Host`] trait, the read-only [`ProcessView`] handed to it, event handlers, and the
//! [`DefaultHost`] (a forest store plus an event-handler registry).

use std::{collections::BTreeMap, sync::Arc};

use weft_core::{Felt, Word, ZERO};
use weft_mast::{DebugOptions, MastForest};

use crate::{AdviceMutation, AdviceProvider, EventId, SystemEvent, handlers, precompiles};

/// The error an event handler returns.
pub type EventError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The shape of a core library handler.
type HandlerFn = fn(&dyn ProcessView, &AdviceProvider) -> Result<Vec<AdviceMutation>, EventError>;

/// weft's handler for every event upstream 0.20.6's core library registers.
const CORE_LIB_HANDLERS: [(&str, HandlerFn); 10] = [
    (handlers::U64_DIV_EVENT_NAME, handlers::handle_u64_div),
    (handlers::SMT_PEEK_EVENT_NAME, handlers::handle_smt_peek),
    (handlers::FALCON_DIV_EVENT_NAME, handlers::handle_falcon_div),
    (
        handlers::KECCAK_HASH_BYTES_EVENT_NAME,
        handlers::handle_keccak_hash_bytes,
    ),
    (
        handlers::LOWERBOUND_ARRAY_EVENT_NAME,
        handlers::handle_lowerbound_array,
    ),
    (
        handlers::LOWERBOUND_KEY_VALUE_EVENT_NAME,
        handlers::handle_lowerbound_key_value,
    ),
    (
        precompiles::SHA512_HASH_BYTES_EVENT_NAME,
        precompiles::handle_sha512_hash_bytes,
    ),
    (
        precompiles::ECDSA_VERIFY_EVENT_NAME,
        precompiles::handle_ecdsa_verify,
    ),
    (
        precompiles::EDDSA_VERIFY_EVENT_NAME,
        precompiles::handle_eddsa_verify,
    ),
    (
        precompiles::AEAD_DECRYPT_EVENT_NAME,
        precompiles::handle_aead_decrypt,
    ),
];

/// A read-only view of the VM state during an `EMIT` (or a debug/trace decorator).
///
/// Stack positions count from the top (0 = top); positions past the depth read as zero.
pub trait ProcessView {
    /// The current clock cycle.
    fn clk(&self) -> u32;
    /// The current execution context.
    fn ctx(&self) -> u32;
    /// The stack element at `idx` (0 = top).
    fn stack_item(&self, idx: usize) -> Felt;
    /// The stack depth (at least 16).
    fn stack_depth(&self) -> usize;
    /// The memory element at `addr` of context `ctx`, or `None` if never written.
    fn mem_element(&self, ctx: u32, addr: u32) -> Option<Felt>;

    /// The word at stack positions `idx..idx + 4`, with element `idx + 3` first (upstream's
    /// "big-endian" stack word).
    fn stack_word_be(&self, idx: usize) -> Word {
        [
            self.stack_item(idx + 3),
            self.stack_item(idx + 2),
            self.stack_item(idx + 1),
            self.stack_item(idx),
        ]
        .into()
    }

    /// The word at stack positions `idx..idx + 4`, with element `idx` first.
    fn stack_word_le(&self, idx: usize) -> Word {
        [
            self.stack_item(idx),
            self.stack_item(idx + 1),
            self.stack_item(idx + 2),
            self.stack_item(idx + 3),
        ]
        .into()
    }

    /// The whole stack, top first.
    fn stack_state(&self) -> Vec<Felt> {
        (0..self.stack_depth())
            .map(|i| self.stack_item(i))
            .collect()
    }

    /// The memory element at `addr` in the current context, zero if never written.
    fn mem_element_or_zero(&self, addr: u32) -> Felt {
        self.mem_element(self.ctx(), addr).unwrap_or(ZERO)
    }
}

/// The environment a program runs in: it supplies forests for external nodes and handles
/// non-system events. See the crate documentation for the event contract.
pub trait Host {
    /// Returns a forest holding the procedure with root `digest`, if the host knows one.
    fn get_mast_forest(&self, digest: &Word) -> Option<Arc<MastForest>>;

    /// Handles the event `event` (also on top of the stack), returning the advice mutations the
    /// processor must apply, in order.
    ///
    /// # Errors
    /// Any handler error; the processor reports it as
    /// [`crate::ExecutionError::EventError`].
    fn on_event(
        &mut self,
        event: EventId,
        process: &dyn ProcessView,
        advice: &AdviceProvider,
    ) -> Result<Vec<AdviceMutation>, EventError>;

    /// Called for a `Debug` decorator when debugging is enabled; does nothing by default.
    ///
    /// # Errors
    /// Any handler error.
    fn on_debug(
        &mut self,
        _process: &dyn ProcessView,
        _options: &DebugOptions,
    ) -> Result<(), EventError> {
        Ok(())
    }

    /// Called for a `Trace` decorator when tracing is enabled; does nothing by default.
    ///
    /// # Errors
    /// Any handler error.
    fn on_trace(&mut self, _process: &dyn ProcessView, _trace_id: u32) -> Result<(), EventError> {
        Ok(())
    }

    /// Returns the name of an event, for error messages.
    fn resolve_event(&self, _event: EventId) -> Option<String> {
        None
    }
}

/// A handler for one event.
pub trait EventHandler: Send + Sync {
    /// Handles the event.
    ///
    /// # Errors
    /// Any failure; it aborts execution.
    fn on_event(
        &self,
        process: &dyn ProcessView,
        advice: &AdviceProvider,
    ) -> Result<Vec<AdviceMutation>, EventError>;
}

impl<F> EventHandler for F
where
    F: Fn(&dyn ProcessView, &AdviceProvider) -> Result<Vec<AdviceMutation>, EventError>
        + Send
        + Sync,
{
    fn on_event(
        &self,
        process: &dyn ProcessView,
        advice: &AdviceProvider,
    ) -> Result<Vec<AdviceMutation>, EventError> {
        self(process, advice)
    }
}

/// Why a host could not be configured.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// A handler is already registered for the event.
    #[error("event handler for '{name}' is already registered")]
    DuplicateEventHandler {
        /// The event name.
        name: String,
    },
    /// The name is in the `sys::` namespace, which the VM handles itself.
    #[error("event '{name}' is in the reserved sys:: namespace")]
    ReservedEventNamespace {
        /// The event name.
        name: String,
    },
}

/// An unhandled event.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("no event handler registered")]
struct UnhandledEvent;

struct Registered {
    name: String,
    handler: Arc<dyn EventHandler>,
}

/// A host with a store of forests (every procedure root of every loaded forest maps to it) and a
/// registry of event handlers. An event with no handler is an error, as upstream.
#[derive(Default)]
pub struct DefaultHost {
    forests: BTreeMap<Word, Arc<MastForest>>,
    handlers: BTreeMap<EventId, Registered>,
}

impl core::fmt::Debug for DefaultHost {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DefaultHost")
            .field("n_procedures", &self.forests.len())
            .field(
                "events",
                &self.handlers.values().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl DefaultHost {
    /// Creates a host with no forest and no handler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a host with weft's implementations of the core library's event handlers
    /// (`u64_div`, `falcon_div`, `smt_peek`, `lowerbound_array`, `lowerbound_key_value`, and
    /// the precompiles `keccak256::hash_bytes`, `sha512::hash_bytes`, ECDSA and EdDSA
    /// verification, and AEAD decryption): every handler upstream 0.20.6's core library
    /// registers.
    pub fn with_core_lib_handlers() -> Self {
        let mut host = Self::new();
        host.register_core_lib_handlers();
        host
    }

    /// Registers weft's core library handlers, replacing any already registered for them.
    pub fn register_core_lib_handlers(&mut self) {
        for (name, handler) in CORE_LIB_HANDLERS {
            self.replace_handler(name, Arc::new(handler));
        }
    }

    /// Makes every procedure root of `forest` resolvable through this host.
    pub fn load_forest(&mut self, forest: Arc<MastForest>) {
        for &root in forest.procedure_roots() {
            self.forests
                .insert(forest[root].digest(), Arc::clone(&forest));
        }
    }

    /// Registers `handler` for the event called `name`.
    ///
    /// # Errors
    /// [`HostError::ReservedEventNamespace`] for a `sys::` name or a system event id, and
    /// [`HostError::DuplicateEventHandler`] if the event already has a handler.
    pub fn register_handler(
        &mut self,
        name: &str,
        handler: Arc<dyn EventHandler>,
    ) -> Result<(), HostError> {
        let id = EventId::from_name(name);
        if name.starts_with("sys::") || SystemEvent::from_event_id(id).is_some() {
            return Err(HostError::ReservedEventNamespace { name: name.into() });
        }
        if self.handlers.contains_key(&id) {
            return Err(HostError::DuplicateEventHandler { name: name.into() });
        }
        self.handlers.insert(
            id,
            Registered {
                name: name.into(),
                handler,
            },
        );
        Ok(())
    }

    /// Registers `handler` for `name`, replacing any existing one; returns whether one existed.
    pub fn replace_handler(&mut self, name: &str, handler: Arc<dyn EventHandler>) -> bool {
        self.handlers
            .insert(
                EventId::from_name(name),
                Registered {
                    name: name.into(),
                    handler,
                },
            )
            .is_some()
    }

    /// Removes the handler of `id`; returns whether one existed.
    pub fn unregister_handler(&mut self, id: EventId) -> bool {
        self.handlers.remove(&id).is_some()
    }
}

impl Host for DefaultHost {
    fn get_mast_forest(&self, digest: &Word) -> Option<Arc<MastForest>> {
        self.forests.get(digest).cloned()
    }

    fn on_event(
        &mut self,
        event: EventId,
        process: &dyn ProcessView,
        advice: &AdviceProvider,
    ) -> Result<Vec<AdviceMutation>, EventError> {
        match self.handlers.get(&event) {
            Some(registered) => registered.handler.on_event(process, advice),
            None => Err(Box::new(UnhandledEvent)),
        }
    }

    fn resolve_event(&self, event: EventId) -> Option<String> {
        self.handlers.get(&event).map(|r| r.name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_rejects_sys_and_duplicates() {
        let mut host = DefaultHost::new();
        let noop: Arc<dyn EventHandler> = Arc::new(
            |_: &dyn ProcessView, _: &AdviceProvider| -> Result<Vec<AdviceMutation>, EventError> {
                Ok(Vec::new())
            },
        );
        assert!(matches!(
            host.register_handler("sys::foo", noop.clone()),
            Err(HostError::ReservedEventNamespace { .. })
        ));
        assert!(host.register_handler("a::b", noop.clone()).is_ok());
        assert!(matches!(
            host.register_handler("a::b", noop),
            Err(HostError::DuplicateEventHandler { .. })
        ));
        assert_eq!(
            host.resolve_event(EventId::from_name("a::b")).as_deref(),
            Some("a::b")
        );
    }
}
