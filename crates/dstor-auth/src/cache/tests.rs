//! Tests of the cache (written next).
