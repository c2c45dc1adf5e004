//! Opaque paging cursors: the DynamoDB key to resume from, bound to the query that
//! produced it so a cursor cannot be replayed against different filters.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use desk_domain::DeskError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Fingerprint of the query.
    f: String,
    /// Key attributes (all strings in this table).
    k: BTreeMap<String, String>,
}

pub fn fingerprint(parts: &str) -> String {
    let digest = Sha256::digest(parts.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A decoded cursor's key values, for checking.
pub struct Keys(BTreeMap<String, String>);

impl Keys {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }
}

/// The string key attributes `names` of `item` (`None` if one is missing).
fn stored_keys(
    item: &HashMap<String, AttributeValue>,
    names: &[&str],
) -> Option<BTreeMap<String, String>> {
    let mut k = BTreeMap::new();
    for n in names {
        k.insert((*n).to_string(), item.get(*n)?.as_s().ok()?.clone());
    }
    Some(k)
}

/// Checks stored key values: exactly `names`, none empty or oversized, `valid`.
fn checked_keys(
    k: BTreeMap<String, String>,
    names: &[&str],
    valid: impl FnOnce(&Keys) -> bool,
) -> Result<HashMap<String, AttributeValue>, DeskError> {
    if k.len() != names.len() || !names.iter().all(|n| k.contains_key(*n)) {
        return Err(DeskError::InvalidCursor);
    }
    let keys = Keys(k);
    if keys.0.values().any(|v| v.is_empty() || v.len() > 1024) || !valid(&keys) {
        return Err(DeskError::InvalidCursor);
    }
    Ok(keys
        .0
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

/// Encodes the key attributes `names` of `item` as a cursor.
pub fn encode(fp: &str, item: &HashMap<String, AttributeValue>, names: &[&str]) -> Option<String> {
    let k = stored_keys(item, names)?;
    let json = serde_json::to_vec(&Cursor {
        f: fp.to_string(),
        k,
    })
    .ok()?;
    Some(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes a cursor made by `encode` for the same fingerprint and key names.
/// `valid` checks the key values (a client can edit an unsigned cursor; a key
/// outside the queried partition must be refused here, not by DynamoDB).
pub fn decode(
    fp: &str,
    raw: &str,
    names: &[&str],
    valid: impl Fn(&Keys) -> bool,
) -> Result<HashMap<String, AttributeValue>, DeskError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .map_err(|_| DeskError::InvalidCursor)?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| DeskError::InvalidCursor)?;
    if c.f != fp {
        return Err(DeskError::InvalidCursor);
    }
    checked_keys(c.k, names, valid)
}

/// Where a paged read stands in one partition of a merged page.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    /// Not read yet.
    Start,
    /// Resume after this key.
    After(HashMap<String, AttributeValue>),
    /// Nothing left.
    Done,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredPosition {
    Start,
    After(BTreeMap<String, String>),
    Done,
}

#[derive(Serialize, Deserialize)]
struct Positions {
    f: String,
    p: Vec<StoredPosition>,
}

/// Encodes one position per partition as one opaque cursor. `None` if a key
/// attribute is missing or not a string.
pub fn encode_positions(fp: &str, positions: &[Position], names: &[&str]) -> Option<String> {
    let mut p = Vec::with_capacity(positions.len());
    for pos in positions {
        p.push(match pos {
            Position::Start => StoredPosition::Start,
            Position::Done => StoredPosition::Done,
            Position::After(item) => StoredPosition::After(stored_keys(item, names)?),
        });
    }
    let json = serde_json::to_vec(&Positions {
        f: fp.to_string(),
        p,
    })
    .ok()?;
    Some(URL_SAFE_NO_PAD.encode(json))
}

/// Decodes `encode_positions` for the same fingerprint, partition count and key
/// names; `valid(i, keys)` checks partition `i`'s key values.
pub fn decode_positions(
    fp: &str,
    raw: &str,
    count: usize,
    names: &[&str],
    valid: impl Fn(usize, &Keys) -> bool,
) -> Result<Vec<Position>, DeskError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.as_bytes())
        .map_err(|_| DeskError::InvalidCursor)?;
    let c: Positions = serde_json::from_slice(&bytes).map_err(|_| DeskError::InvalidCursor)?;
    if c.f != fp || c.p.len() != count {
        return Err(DeskError::InvalidCursor);
    }
    c.p.into_iter()
        .enumerate()
        .map(|(i, p)| match p {
            StoredPosition::Start => Ok(Position::Start),
            StoredPosition::Done => Ok(Position::Done),
            StoredPosition::After(k) => {
                checked_keys(k, names, |keys| valid(i, keys)).map(Position::After)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_queries_and_garbage() {
        let item: HashMap<String, AttributeValue> = [
            ("pk".to_string(), AttributeValue::S("TICKET#1".into())),
            ("sk".to_string(), AttributeValue::S("TICKET".into())),
        ]
        .into();
        let c = encode("aa", &item, &["pk", "sk"]).unwrap();
        let any = |_: &Keys| true;
        assert_eq!(decode("aa", &c, &["pk", "sk"], any).unwrap(), item);
        assert!(decode("bb", &c, &["pk", "sk"], any).is_err());
        assert!(decode("aa", &c, &["pk", "sk", "lpk"], any).is_err());
        assert!(decode("aa", "not-a-cursor!", &["pk"], any).is_err());
        assert!(decode("aa", "e30", &["pk"], any).is_err());
        // Edited key values are refused by the caller's check.
        assert!(decode("aa", &c, &["pk", "sk"], |k: &Keys| k.get("pk")
            == "TICKET#2")
        .is_err());
    }

    #[test]
    fn positions_round_trip_and_are_checked_per_partition() {
        let key: HashMap<String, AttributeValue> = [
            ("pk".to_string(), AttributeValue::S("TICKET#1".into())),
            ("assignee_pk".to_string(), AttributeValue::S("none".into())),
        ]
        .into();
        let names = ["pk", "assignee_pk"];
        let ps = vec![
            Position::Start,
            Position::After(key.clone()),
            Position::Done,
        ];
        let c = encode_positions("aa", &ps, &names).unwrap();
        let any = |_: usize, _: &Keys| true;
        assert_eq!(decode_positions("aa", &c, 3, &names, any).unwrap(), ps);
        assert!(decode_positions("bb", &c, 3, &names, any).is_err());
        assert!(decode_positions("aa", &c, 2, &names, any).is_err());
        assert!(decode_positions("aa", &c, 3, &["pk"], any).is_err());
        // A key outside its partition is refused.
        let in_partition = |i: usize, k: &Keys| i == 1 && k.get("assignee_pk") == "user:bob";
        assert!(decode_positions("aa", &c, 3, &names, in_partition).is_err());
    }
}
