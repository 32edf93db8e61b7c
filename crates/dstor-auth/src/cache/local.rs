//! Per-thread copies of the cached token, so that a read on one core never writes to memory
//! another core reads.
//!
//! Handing out an `AccessToken` clones an `Arc`, and an `Arc` clone is an atomic write to its
//! count: on two cores reading the same token, that count's cache line bounces between them.
//! Each thread therefore keeps its own copy of the current token (made with
//! [`AccessToken::deep_clone`]) and clones that one.
//!
//! A copy lives until its thread next reads that cache (which replaces it), until the
//! thread stores a copy for any cache after that cache was dropped (which purges it), or
//! until the thread ends; the secret is wiped when the copy is dropped.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Weak;

use dstor_types::AccessToken;

use super::config::Schedule;

/// How many caches a thread keeps a copy for; more caches than this simply miss.
const SLOTS: usize = 4;

struct Slot {
    cache: u64,
    generation: u64,
    token: AccessToken,
    schedule: Schedule,
    /// Dead once the cache is dropped.
    alive: Weak<dyn Any + Send + Sync>,
}

thread_local! {
    static COPIES: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// This thread's copy of generation `generation` of cache `cache`, if it has one and
/// `keep` accepts its schedule (checked before the copy is cloned).
#[inline]
pub(super) fn get_if(
    cache: u64,
    generation: u64,
    keep: impl FnOnce(&Schedule) -> bool,
) -> Option<AccessToken> {
    COPIES
        .try_with(|copies| {
            let copies = copies.try_borrow().ok()?;
            let slot = copies
                .iter()
                .find(|s| s.cache == cache && s.generation == generation)?;
            keep(&slot.schedule).then(|| slot.token.clone())
        })
        .ok()
        .flatten()
}

/// Keeps a copy of `token`, generation `generation` of cache `cache`, for this thread.
pub(super) fn put(
    cache: u64,
    generation: u64,
    token: &AccessToken,
    schedule: Schedule,
    alive: Weak<dyn Any + Send + Sync>,
) {
    let _ = COPIES.try_with(|copies| {
        let Ok(mut copies) = copies.try_borrow_mut() else {
            return;
        };
        copies.retain(|s| s.alive.strong_count() > 0);
        let slot = Slot {
            cache,
            generation,
            token: token.deep_clone(),
            schedule,
            alive,
        };
        if let Some(old) = copies.iter_mut().find(|s| s.cache == cache) {
            *old = slot;
        } else {
            if copies.len() >= SLOTS {
                copies.remove(0);
            }
            copies.push(slot);
        }
    });
}

/// Drops this thread's copy for `cache`, if any.
pub(super) fn forget(cache: u64) {
    let _ = COPIES.try_with(|copies| {
        if let Ok(mut copies) = copies.try_borrow_mut() {
            copies.retain(|s| s.cache != cache);
        }
    });
}
