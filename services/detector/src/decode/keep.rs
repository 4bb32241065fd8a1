//! Decoding only what the rules read.
//!
//! A record of ~50 native keys becomes ~100 fields once normalised, while a
//! rule set reads a handful. [`KeptFields`] is worked out once from the
//! names the rules read: which native keys matter (those kept, those whose
//! normalised names are kept, the inputs of kept derived fields, and the
//! clock and version fields every record is checked on) and under which
//! names each is stored. Decoding then borrows every value from the message
//! and unescapes and allocates only the kept ones.
//!
//! The result is exactly the full record with all other fields removed.
//! Where that is not plain from one pass (a key that matters appearing
//! twice, JSON outside the scanner's subset, any error), decoding falls back
//! to the full decoder and removes the other fields afterwards, so
//! dead-letter reasons are those of the full decoder, word for word.

use super::normalise::{self, DERIVED};
use super::raw::{RawText, Resolved};
use super::{json_scan, kv};
use crate::record::{Encoding, Name, Record};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Native keys decoding itself reads, besides those rules read: the
/// version every record must carry, the clock fields, and what the
/// derived fields are made of.
const ROLES: [&str; 12] = [
    "fv", "fss", "fsms", "pr", "ibc", "obc", "ppath", "pn", "parg", "pppath", "ppn", "pparg",
];
const FV: usize = 0;
const FSS: usize = 1;
const FSMS: usize = 2;

/// Beyond this many native keys that matter, decoding keeps every field
/// and removes the others afterwards; the duplicate check is a bit set.
const MAX_SLOTS: usize = 256;

/// The fields records keep, worked out from the names rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFields {
    names: BTreeSet<String>,
    keys: KeyIndex,
    slots: Vec<Slot>,
    derived: [bool; 6],
    /// The [`ROLES`] decoding reads: always the version and the clock,
    /// the others only for a kept derived field.
    roles_read: [bool; ROLES.len()],
    /// Fields a record can hold at most, to size it once.
    capacity: usize,
}

/// One native key that matters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    /// The names its value is stored under: its normalised names, then
    /// the key itself, as the full decoder inserts them.
    stores: Vec<Name>,
    /// Its place in [`ROLES`], when decoding reads it itself.
    role: Option<usize>,
}

impl KeptFields {
    /// The decoding plan for records that keep only `names`.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let names: BTreeSet<String> = names.into_iter().map(Into::into).collect();
        let derived = DERIVED.map(|name| names.contains(name));
        let mut slots: Vec<(String, Slot)> = Vec::new();
        for role in ROLES {
            slot_of(&mut slots, role);
        }
        for (key, cim) in normalise::native_keys() {
            for name in cim.iter().filter(|n| names.contains(**n)) {
                let at = slot_of(&mut slots, key);
                slots[at].1.stores.push(Cow::Borrowed(*name));
            }
        }
        for name in &names {
            let at = slot_of(&mut slots, name);
            let stored =
                normalise::static_name(name).map_or(Cow::Owned(name.clone()), Cow::Borrowed);
            slots[at].1.stores.push(stored);
        }

        let capacity = slots.iter().map(|(_, s)| s.stores.len()).sum::<usize>() + DERIVED.len();
        let mut roles_read = [false; ROLES.len()];
        roles_read[..=FSMS].fill(true);
        let [transport, bytes, process, parent, ..] = derived;
        for (read, role) in roles_read.iter_mut().zip(ROLES) {
            *read |= match role {
                "pr" => transport,
                "ibc" | "obc" => bytes,
                "ppath" | "pn" | "parg" => process,
                "pppath" | "ppn" | "pparg" => parent,
                _ => false,
            };
        }
        KeptFields {
            keys: KeyIndex::new(slots.iter().map(|(k, _)| k.as_str())),
            slots: slots.into_iter().map(|(_, s)| s).collect(),
            names,
            derived,
            roles_read,
            capacity,
        }
    }

    /// Whether records keep the field `name`.
    pub fn keeps(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// The kept names.
    pub fn names(&self) -> &BTreeSet<String> {
        &self.names
    }
}

/// The slot of a native key, added when new.
fn slot_of(slots: &mut Vec<(String, Slot)>, key: &str) -> usize {
    if let Some(at) = slots.iter().position(|(k, _)| k == key) {
        return at;
    }
    let slot = Slot {
        stores: vec![],
        role: ROLES.iter().position(|r| *r == key),
    };
    slots.push((key.to_owned(), slot));
    slots.len() - 1
}

/// Decodes the kept fields of a message, or `None` when only the full
/// decoder can say what the record is (see the module documentation).
pub(super) fn decode(text: &str, kept: &KeptFields) -> Option<Record> {
    if kept.slots.len() > MAX_SLOTS {
        return None;
    }
    let mut gather = Gather::new(kept);
    let encoding = if text.starts_with('{') {
        json_scan::fields(text, |k, v| gather.field(k, v)).then_some(())?;
        Encoding::Json
    } else {
        kv::pairs(text, |k, v| gather.field(k, v)).ok()?;
        Encoding::KeyValue
    };
    gather.finish(encoding)
}

/// The native keys that matter of one message, as they arrive.
struct Gather<'a, 'k> {
    kept: &'k KeptFields,
    seen: [u64; MAX_SLOTS / 64],
    /// Values to store, in message order.
    stored: Vec<(usize, RawText<'a>)>,
    roles: [Option<RawText<'a>>; ROLES.len()],
    duplicate: bool,
}

impl<'a, 'k> Gather<'a, 'k> {
    fn new(kept: &'k KeptFields) -> Self {
        Gather {
            kept,
            seen: [0; MAX_SLOTS / 64],
            stored: Vec::with_capacity(kept.slots.len()),
            roles: [None; ROLES.len()],
            duplicate: false,
        }
    }

    /// Takes one field; false stops the scan at a repeated key that
    /// matters, whose meaning differs by encoding.
    #[inline]
    fn field(&mut self, key: &'a str, raw: RawText<'a>) -> bool {
        let Some(at) = self.kept.keys.get(key) else {
            return true;
        };
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        if self.seen[word] & bit != 0 {
            self.duplicate = true;
            return false;
        }
        self.seen[word] |= bit;
        let slot = &self.kept.slots[at];
        if let Some(role) = slot.role {
            self.roles[role] = Some(raw);
        }
        if !slot.stores.is_empty() {
            self.stored.push((at, raw));
        }
        true
    }

    fn finish(self, encoding: Encoding) -> Option<Record> {
        if self.duplicate {
            return None;
        }
        let mut roles: [Resolved<'a>; ROLES.len()] = Default::default();
        let read = self.kept.roles_read;
        for ((resolved, raw), read) in roles.iter_mut().zip(self.roles).zip(read) {
            if let (Some(raw), true) = (raw, read) {
                *resolved = raw.resolve()?;
            }
        }
        if !roles[FV].is_present() {
            return None;
        }
        let time_ms = normalise::event_time_ms(roles[FSS].first(), roles[FSMS].first()).ok()?;

        let mut record = Record::with_capacity(time_ms, encoding, self.kept.capacity);
        for (at, raw) in self.stored {
            let Some(value) = raw.resolve()?.into_value() else {
                continue;
            };
            let stores = &self.kept.slots[at].stores;
            if let Some((last, others)) = stores.split_last() {
                for name in others {
                    record.insert_name(name.clone(), value.clone());
                }
                record.insert_name(last.clone(), value);
            }
        }
        let first = |key: &str| {
            let role = ROLES.iter().position(|r| *r == key)?;
            roles[role].first()
        };
        let derived = normalise::derive(first, encoding, time_ms, self.kept.derived);
        for (name, value) in DERIVED.iter().zip(derived) {
            if let Some(value) = value {
                record.insert_name(Cow::Borrowed(name), crate::record::Value::One(value));
            }
        }
        Some(record)
    }
}

/// Native key → slot. Keys of up to seven bytes (every NVM key) are packed
/// with their length into a `u64` and found in a small open-addressed
/// table, without hashing text; longer keys are looked up by comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyIndex {
    /// `(packed key, slot)`; a packed key is never 0, so 0 marks a free entry.
    table: Vec<(u64, u16)>,
    shift: u32,
    long: Vec<(String, u16)>,
}

impl KeyIndex {
    fn new<'s>(keys: impl Iterator<Item = &'s str>) -> Self {
        let keys: Vec<&str> = keys.collect();
        let size = (keys.len() * 4).next_power_of_two().max(64);
        let mut index = KeyIndex {
            table: vec![(0, 0); size],
            shift: 64 - size.trailing_zeros(),
            long: vec![],
        };
        for (slot, key) in keys.into_iter().enumerate() {
            // MAX_SLOTS guards decoding; a larger set is never searched.
            let slot = u16::try_from(slot).unwrap_or(u16::MAX);
            match pack(key) {
                Some(packed) => {
                    let mut at = index.home(packed);
                    while index.table[at].0 != 0 {
                        at = (at + 1) & (size - 1);
                    }
                    index.table[at] = (packed, slot);
                }
                None => index.long.push((key.to_owned(), slot)),
            }
        }
        index
    }

    fn home(&self, packed: u64) -> usize {
        (packed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    fn get(&self, key: &str) -> Option<usize> {
        let Some(packed) = pack(key) else {
            let found = self.long.iter().find(|(k, _)| k == key);
            return found.map(|(_, slot)| usize::from(*slot));
        };
        let mask = self.table.len() - 1;
        let mut at = self.home(packed);
        loop {
            match self.table[at] {
                (0, _) => return None,
                (k, slot) if k == packed => return Some(usize::from(slot)),
                _ => at = (at + 1) & mask,
            }
        }
    }
}

/// A key of 1 to 7 bytes as one number: its bytes, and its length in the
/// top byte so that no two keys share a number.
fn pack(key: &str) -> Option<u64> {
    let bytes = key.as_bytes();
    if bytes.is_empty() || bytes.len() > 7 {
        return None;
    }
    let mut packed = (bytes.len() as u64) << 56;
    for (i, &b) in bytes.iter().enumerate() {
        packed |= u64::from(b) << (8 * i);
    }
    Some(packed)
}

#[cfg(test)]
mod tests;
