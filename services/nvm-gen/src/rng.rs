//! Deterministic randomness built only on `next_u64`.
//!
//! `rand`'s distributions may change their algorithms between releases, and
//! `f64::ln`/`exp` may differ in the last bit between platforms. The bundled
//! data set must regenerate byte for byte anywhere, so every helper here uses
//! the raw ChaCha8 stream (whose output `rand_chacha` keeps stable) and only
//! integer or basic floating-point arithmetic.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Independent random streams of one run. Giving each concern its own stream
/// keeps, for example, the flows identical whether or not malformed lines
/// are injected.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    Fleet = 1,
    Traffic = 2,
    Sessions = 3,
    Late = 4,
    Format = 5,
    Malformed = 6,
}

/// A seeded random source with the few draws the generator needs.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `stream` of the run seeded with `seed`.
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mixed = mix(seed ^ mix(stream as u64));
        Rng(ChaCha8Rng::seed_from_u64(mixed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, n)`; 0 when `n` is 0. Multiply-shift has a bias of
    /// at most n/2^64, far below anything a reader of the data could see.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]` (inclusive).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index drawn in proportion to `weights`; 0 when all are zero.
    pub fn weighted(&mut self, weights: impl Iterator<Item = u64> + Clone) -> usize {
        let total: u64 = weights.clone().sum();
        let mut ticket = self.below(total);
        for (i, w) in weights.enumerate() {
            if ticket < w {
                return i;
            }
            ticket -= w;
        }
        0
    }

    /// Roughly log-uniform in `[lo, hi]`: a random octave, then uniform
    /// inside it. Byte counts and durations spread over orders of magnitude,
    /// and this gets that shape without transcendental functions.
    pub fn spread(&mut self, lo: u64, hi: u64) -> u64 {
        let lo = lo.max(1);
        if hi <= lo {
            return lo;
        }
        let octaves = 64 - (hi / lo).leading_zeros();
        let floor = lo << self.below(u64::from(octaves));
        let ceil = floor.saturating_mul(2).min(hi);
        self.range(floor.min(ceil), ceil)
    }

    /// `len` upper-case hex digits.
    pub fn hex_upper(&mut self, len: usize) -> String {
        hex_digits(len, || self.below(16) as u8, b"0123456789ABCDEF")
    }

    /// `len` lower-case hex digits.
    pub fn hex_lower(&mut self, len: usize) -> String {
        hex_digits(len, || self.below(16) as u8, b"0123456789abcdef")
    }

    /// In-place Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

fn hex_digits(len: usize, mut nibble: impl FnMut() -> u8, alphabet: &[u8; 16]) -> String {
    (0..len)
        .map(|_| alphabet[usize::from(nibble())] as char)
        .collect()
}

/// SplitMix64's finaliser: a cheap, well-spread 64-bit mix.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A stable 64-hex-digit digest of `key`, standing in for the SHA-256 of a
/// binary: the same image gets the same "hash" on every host and every run.
pub fn stable_hash_hex(key: &str) -> String {
    let mut state = key.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    let mut out = String::with_capacity(64);
    for _ in 0..4 {
        state = mix(state);
        out.push_str(&format!("{state:016X}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_one_seed_differ_and_repeat() {
        let a = Rng::new(7, Stream::Fleet).next_u64();
        let b = Rng::new(7, Stream::Traffic).next_u64();
        assert_ne!(a, b);
        assert_eq!(a, Rng::new(7, Stream::Fleet).next_u64());
    }

    #[test]
    fn spread_stays_inside_its_bounds() {
        let mut rng = Rng::new(1, Stream::Traffic);
        for _ in 0..10_000 {
            let v = rng.spread(300, 2_000_000);
            assert!((300..=2_000_000).contains(&v), "{v}");
        }
    }

    #[test]
    fn stable_hash_is_64_upper_hex_and_depends_on_key() {
        let h = stable_hash_hex("rclone");
        assert_eq!(h.len(), 64);
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
        assert_ne!(h, stable_hash_hex("rclone2"));
    }
}
