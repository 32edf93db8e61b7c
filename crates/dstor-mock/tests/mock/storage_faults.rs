//! Storage faults.
