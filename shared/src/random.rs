//! The randomness port: retry jitter (and anything else that must not be predictable in
//! production) draws from a [`Random`] it is given, so tests fix the seed and every delay
//! they see is the same on every run.

use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

/// A source of uniformly distributed random numbers.
pub trait Random: Send + Sync {
    /// The next 64 random bits.
    fn next_u64(&self) -> u64;

    /// A number in `0..=max`, uniformly enough for jitter.
    fn up_to(&self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(span) => self.next_u64() % span,
            None => self.next_u64(),
        }
    }
}

/// SplitMix64: small, fast and statistically sound for jitter (not for secrets).
#[derive(Debug)]
pub struct SeededRandom {
    state: Mutex<u64>,
}

impl SeededRandom {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(seed),
        }
    }

    /// A generator seeded from the process's hash-map keys, which the standard library
    /// draws from the operating system: different in every process, no extra dependency.
    pub fn from_entropy() -> Self {
        Self::new(RandomState::new().hash_one(std::process::id()))
    }
}

impl Random for SeededRandom {
    fn next_u64(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_fixes_the_sequence_and_different_seeds_differ() {
        let a = SeededRandom::new(7);
        let b = SeededRandom::new(7);
        let c = SeededRandom::new(8);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(first, (0..4).map(|_| c.next_u64()).collect::<Vec<_>>());
    }

    #[test]
    fn up_to_stays_in_range_and_covers_it() {
        let random = SeededRandom::new(1);
        let mut seen = [false; 5];
        for _ in 0..200 {
            let n = random.up_to(4);
            assert!(n <= 4);
            seen[n as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "every value of 0..=4 turns up");
    }
}
