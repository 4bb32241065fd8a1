//! Finding delimiter bytes in the short runs between them.
//!
//! NVM values are mostly 2 to 40 bytes long, where the set-up of a vector
//! search costs more than the search. These look at eight bytes per step
//! in a `u64` ("SWAR"), inline, with no set-up at all.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first index at or after `from` holding `needle`.
pub(super) fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    find_where(bytes, from, |word| {
        zero_bytes(word ^ (ONES * u64::from(needle)))
    })
}

/// The first index at or after `from` holding `a` or `b`.
pub(super) fn find_either(bytes: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    find_where(bytes, from, |word| {
        zero_bytes(word ^ (ONES * u64::from(a))) | zero_bytes(word ^ (ONES * u64::from(b)))
    })
}

/// Steps through `bytes[from..]` eight bytes at a time; `hits` marks the
/// high bit of each byte sought in a little-endian word, exact at least
/// for the lowest one.
fn find_where(bytes: &[u8], from: usize, hits: impl Fn(u64) -> u64) -> Option<usize> {
    let rest = bytes.get(from..)?;
    let mut words = rest.chunks_exact(8);
    let mut at = from;
    for chunk in words.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let found = hits(u64::from_le_bytes(word));
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder();
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    // Bytes past the tail are zero, which may look like a hit: mask them.
    let valid = match tail.len() {
        0 => 0,
        len => u64::MAX >> (64 - 8 * len),
    };
    let found = hits(u64::from_le_bytes(word)) & valid;
    (found != 0).then(|| at + (found.trailing_zeros() / 8) as usize)
}

/// The high bit of every zero byte of `x` set; bytes above the lowest
/// zero byte may be marked wrongly, the lowest never is.
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGHS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_match_at_every_offset_and_length() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                if at < len {
                    bytes[at] = b'"';
                }
                let want = (at < len).then_some(at);
                for from in 0..=len {
                    let want = want.filter(|w| *w >= from);
                    assert_eq!(find_byte(&bytes, from, b'"'), want, "{len} {at} {from}");
                    assert_eq!(find_either(&bytes, from, b'\\', b'"'), want);
                }
            }
        }
        assert_eq!(find_byte(b"abc", 4, b'a'), None);
    }

    #[test]
    fn zero_and_high_bytes_are_never_mistaken() {
        let bytes = [0u8, 0x80, 0xff, 0x01, b'"', 0, 0x22, 0xa2];
        assert_eq!(find_byte(&bytes, 0, b'"'), Some(4));
        assert_eq!(find_byte(&bytes, 5, b'"'), Some(6));
        assert_eq!(find_byte(&bytes, 0, 0), Some(0));
        assert_eq!(find_byte(&bytes[1..4], 0, 0), None);
        assert_eq!(find_either(&bytes, 0, 0xff, b'"'), Some(2));
    }
}
