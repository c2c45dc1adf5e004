//! Item <-> domain value conversion (serde_dynamo) plus the key attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use desk_domain::DeskError;
use serde::{de::DeserializeOwned, Serialize};

pub type Item = HashMap<String, AttributeValue>;

pub fn to_item<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item, DeskError> {
    let mut item: Item =
        serde_dynamo::to_item(value).map_err(|e| DeskError::Storage(format!("encode: {e}")))?;
    item.insert(crate::keys::PK.into(), AttributeValue::S(pk));
    item.insert(crate::keys::SK.into(), AttributeValue::S(sk));
    Ok(item)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, DeskError> {
    serde_dynamo::from_item(item).map_err(|e| DeskError::Storage(format!("decode: {e}")))
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
