//! Transaction building blocks shared by every store: a conditional Put item,
//! which item's condition cancelled a transaction, and sending with retries on
//! transaction conflicts.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use desk_domain::{DeskError, DeskResult};

use crate::item::Item;

/// A Put of `item`, conditioned on `condition` if given.
pub(crate) fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> DeskResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_string))
        .build()
        .map_err(|e| DeskError::Storage(e.to_string()))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Whether the transaction was cancelled because item `index`'s condition failed.
pub(crate) fn condition_failed_at(
    err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    index: usize,
) -> bool {
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tc)) => tc
            .cancellation_reasons()
            .get(index)
            .is_some_and(|r| r.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

/// Sends a transaction, retrying when DynamoDB cancelled it only because another
/// transaction was touching the same items at that moment (`TransactionConflict`):
/// nothing was written, and trying again is what AWS recommends. A failed
/// condition is never retried here — that is the caller's answer.
pub(crate) async fn transact(
    request: aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder,
) -> Result<
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
    aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
    >,
> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    const ATTEMPTS: u32 = 8;
    let mut attempt = 0;
    loop {
        let result = request.clone().send().await;
        let retry = match &result {
            Err(e) => match e.as_service_error() {
                Some(E::TransactionCanceledException(tc)) => {
                    let codes: Vec<_> = tc
                        .cancellation_reasons()
                        .iter()
                        .filter_map(|r| r.code())
                        .collect();
                    codes.contains(&"TransactionConflict")
                        && !codes.contains(&"ConditionalCheckFailed")
                }
                Some(E::TransactionInProgressException(_)) => true,
                _ => false,
            },
            Ok(_) => false,
        };
        attempt += 1;
        if !retry || attempt >= ATTEMPTS {
            return result;
        }
        // Back off with jitter (the sub-second clock is random enough here).
        let jitter = u64::from(chrono::Utc::now().timestamp_subsec_micros() % 20);
        tokio::time::sleep(std::time::Duration::from_millis(
            (5u64 << attempt.min(6)) + jitter,
        ))
        .await;
    }
}
