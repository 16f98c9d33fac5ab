//! Unit tests of the fast processor on hand-built forests.
