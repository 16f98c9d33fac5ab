//! Execution options.

/// The largest cycle limit upstream accepts (and its default).
pub const MAX_CYCLES: u32 = 1 << 29;

/// Options that bound an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecutionOptions {
    /// The largest number of cycles the program may run; exceeding it is
    /// [`crate::ExecutionError::CycleLimitExceeded`]. Defaults to `2^29`, as upstream.
    pub max_cycles: u32,
    /// Whether `Trace` decorators call [`crate::Host::on_trace`].
    pub enable_tracing: bool,
    /// Whether `Debug` decorators call [`crate::Host::on_debug`].
    pub enable_debugging: bool,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        Self {
            max_cycles: MAX_CYCLES,
            enable_tracing: false,
            enable_debugging: false,
        }
    }
}

impl ExecutionOptions {
    /// Returns default options with the given cycle limit (clamped to `2^29`).
    pub fn with_max_cycles(max_cycles: u32) -> Self {
        Self {
            max_cycles: max_cycles.min(MAX_CYCLES),
            ..Self::default()
        }
    }
}
