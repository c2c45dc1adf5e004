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

/// Encodes the key attributes `names` of `item` as a cursor.
pub fn encode(fp: &str, item: &HashMap<String, AttributeValue>, names: &[&str]) -> Option<String> {
    let mut k = BTreeMap::new();
    for n in names {
        let v = item.get(*n)?.as_s().ok()?;
        k.insert((*n).to_string(), v.clone());
    }
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
    if c.f != fp || c.k.len() != names.len() || !names.iter().all(|n| c.k.contains_key(*n)) {
        return Err(DeskError::InvalidCursor);
    }
    let keys = Keys(c.k);
    if keys.0.values().any(|v| v.is_empty() || v.len() > 1024) || !valid(&keys) {
        return Err(DeskError::InvalidCursor);
    }
    let c = Cursor { f: c.f, k: keys.0 };
    Ok(c.k
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
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
}
