//! The compact indexes the audit joins apps with, read before the first app is judged: which
//! client ids have a service principal here (and its id), which credentials signed in when, and
//! the privileged grants. A GUID is kept as a `u128` and each index is a sorted `Vec` searched by
//! halves — no hashing overhead, no JSON kept: 32 bytes per service principal, 24 per credential
//! with sign-in activity, and a few dozen per privileged grant (rare).

/// A GUID as a number (`None` for anything else: a hostile id is simply not indexed).
pub fn guid(text: &str) -> Option<u128> {
    let lower = text.to_ascii_lowercase();
    if !crate::auth::tenant::is_guid(&lower) {
        return None;
    }
    u128::from_str_radix(&lower.replace('-', ""), 16).ok()
}

/// A sorted map from a GUID to a small value, built once then searched.
#[derive(Debug, Default, Clone)]
pub struct GuidMap<V> {
    entries: Vec<(u128, V)>,
}

impl<V: Copy> GuidMap<V> {
    pub fn push(&mut self, key: u128, value: V) {
        self.entries.push((key, value));
    }

    /// Sorts for searching; of equal keys, the last pushed is kept.
    pub fn seal(&mut self) {
        self.entries.reverse();
        self.entries.sort_by_key(|(k, _)| *k);
        self.entries.dedup_by_key(|(k, _)| *k);
        self.entries.shrink_to_fit();
    }

    pub fn get(&self, key: u128) -> Option<V> {
        self.entries
            .binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the index holds (its allocation).
    pub fn bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(u128, V)>()
    }
}

/// One privileged app role granted to a client service principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub principal: u128,
    /// Index in [`super::catalog::PRIVILEGED`].
    pub role: u8,
    /// The assignment's id (what a DELETE names).
    pub assignment_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_index_and_hostile_ids_do_not() {
        assert_eq!(
            guid("00000003-0000-0000-c000-000000000000"),
            Some(0x0000_0003_0000_0000_c000_0000_0000_0000)
        );
        assert_eq!(
            guid("00000003-0000-0000-C000-000000000000"),
            guid("00000003-0000-0000-c000-000000000000")
        );
        assert_eq!(guid("not-a-guid"), None);
        assert_eq!(guid("0000000g-0000-0000-c000-000000000000"), None);
        let mut map = GuidMap::default();
        map.push(3, 1u8);
        map.push(1, 2);
        map.push(3, 9);
        map.seal();
        assert_eq!(map.get(3), Some(9));
        assert_eq!(map.get(1), Some(2));
        assert_eq!(map.get(2), None);
        assert_eq!(map.len(), 2);
    }
}
