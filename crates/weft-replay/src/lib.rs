//! Fragment contexts and replay logs.
