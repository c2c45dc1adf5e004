//! Stream records (as Lambda's DynamoDB event source delivers them, and as the
//! local runner replays them) decoded into the domain's [`Change`]s: which item
//! kinds the desk acts on is a matter of the key design, so it is decided here.

use aws_lambda_events::event::dynamodb::EventRecord;
use desk_domain::stream::{Change, Record};
use desk_domain::DeskError;
use serde::de::DeserializeOwned;

use crate::keys;

fn image<T: DeserializeOwned>(item: &serde_dynamo::Item) -> Result<Option<T>, DeskError> {
    if item.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(item.clone())
        .map(Some)
        .map_err(|e| DeskError::Storage(format!("stream image: {e}")))
}

fn key_text<'a>(record: &'a EventRecord, name: &str) -> Option<&'a str> {
    match record.change.keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// The record's partition key: records of one partition are applied in order.
pub fn partition(record: &EventRecord) -> &str {
    key_text(record, keys::PK).unwrap_or_default()
}

/// The change a record carries, `None` for items the index, counts and events
/// ignore (activity, postings, counters…). An image that does not decode is an
/// error: the record is reported, retried, and finally set aside.
pub fn decode(record: &EventRecord) -> Result<Option<Change>, DeskError> {
    let (Some(pk), Some(sk)) = (key_text(record, keys::PK), key_text(record, keys::SK)) else {
        return Ok(None);
    };
    if !pk.starts_with("TICKET#") {
        return Ok(None);
    }
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let record_of = if sk == keys::TICKET_SK {
        Record::Ticket {
            old: image(old)?.map(Box::new),
            new: image(new)?.map(Box::new),
        }
    } else if sk.starts_with("NOTE#") {
        Record::Note {
            old: image(old)?,
            new: image(new)?,
        }
    } else if sk.starts_with("MSG#") {
        Record::Message {
            old: image(old)?.map(Box::new),
            new: image(new)?.map(Box::new),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(Change {
        event_id: record.event_id.clone(),
        record: record_of,
    }))
}

/// A stored item as if it had just been inserted: what a rebuild of the index
/// applies, through the same decoding as the stream's records.
pub fn decode_stored(item: &crate::item::Item) -> Result<Option<Change>, DeskError> {
    let mut record = EventRecord::default();
    let keys: crate::item::Item = item
        .iter()
        .filter(|(k, _)| k.as_str() == keys::PK || k.as_str() == keys::SK)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    record.event_id = format!("rebuild:{}", key_text_of(&keys));
    record.event_name = "INSERT".into();
    record.change.keys = serde_dynamo::Item::from(keys);
    record.change.new_image = serde_dynamo::Item::from(item.clone());
    decode(&record)
}

fn key_text_of(keys: &crate::item::Item) -> String {
    let text = |k: &str| {
        keys.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    format!("{}/{}", text(keys::PK), text(keys::SK))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::dynamodb::Event;

    #[test]
    fn decodes_a_ticket_insert_as_lambda_delivers_it() {
        let event: Event =
            serde_json::from_str(include_str!("../../../infra/sizes/events/indexer.json"))
                .expect("a DynamoDB stream event");
        let record = &event.records[0];
        assert_eq!(partition(record), "TICKET#900001");
        let change = decode(record).unwrap().expect("a ticket change");
        assert_eq!(change.event_id, "sizes-1");
        let Record::Ticket { old, new } = &change.record else {
            panic!("{change:?}");
        };
        assert!(old.is_none());
        assert_eq!(
            new.as_ref().unwrap().name,
            "Printer on the third floor jams on every job"
        );
        let postings = change.record.posting_change().unwrap();
        assert!(
            postings.add.contains(&"spooler".to_string()),
            "{postings:?}"
        );
        assert_eq!(change.events()[0].detail_type, "TicketCreated");
    }

    #[test]
    fn ignores_items_the_index_does_not_follow_and_refuses_broken_images() {
        let mut event: Event =
            serde_json::from_str(include_str!("../../../infra/sizes/events/indexer.json")).unwrap();
        let mut record = event.records.remove(0);
        record.change.keys.insert(
            "sk".into(),
            serde_dynamo::AttributeValue::S("ACT#0001".into()),
        );
        assert_eq!(decode(&record).unwrap(), None, "activity is not indexed");
        record.change.keys.insert(
            "sk".into(),
            serde_dynamo::AttributeValue::S("TICKET".into()),
        );
        record.change.new_image.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("done".into()),
        );
        assert!(
            decode(&record).is_err(),
            "an image that does not decode is an error"
        );
    }
}
