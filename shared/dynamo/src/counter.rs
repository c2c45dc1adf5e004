//! Counts DynamoDB calls by operation, so tests can prove how many round trips an
//! operation costs (and that list pages never Scan).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput,
    delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput,
    query::QueryInput, scan::ScanInput, transact_write_items::TransactWriteItemsInput,
    update_item::UpdateItemInput,
};

#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<&'static str>>>,
    capacity: Arc<Mutex<f64>>,
    items_read: Arc<Mutex<u64>>,
}

impl CallCounter {
    /// Operation names since the last `take`, in order.
    pub fn take(&self) -> Vec<&'static str> {
        self.calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// Items Query calls evaluated (ScannedCount) since the last call.
    pub fn take_items_read(&self) -> u64 {
        self.items_read
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// Read capacity units reported by Query responses since the last call.
    pub fn take_read_capacity(&self) -> f64 {
        self.capacity
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let name = if input.downcast_ref::<QueryInput>().is_some() {
            "Query"
        } else if input.downcast_ref::<ScanInput>().is_some() {
            "Scan"
        } else if input.downcast_ref::<GetItemInput>().is_some() {
            "GetItem"
        } else if input.downcast_ref::<PutItemInput>().is_some() {
            "PutItem"
        } else if input.downcast_ref::<UpdateItemInput>().is_some() {
            "UpdateItem"
        } else if input.downcast_ref::<DeleteItemInput>().is_some() {
            "DeleteItem"
        } else if input.downcast_ref::<TransactWriteItemsInput>().is_some() {
            "TransactWriteItems"
        } else if input.downcast_ref::<BatchWriteItemInput>().is_some() {
            "BatchWriteItem"
        } else if input.downcast_ref::<BatchGetItemInput>().is_some() {
            "BatchGetItem"
        } else {
            "Other"
        };
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(name);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let units = context
            .output_or_error()
            .and_then(|r| r.ok())
            .and_then(|o| o.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>())
            .and_then(|q| q.consumed_capacity())
            .and_then(|c| c.capacity_units());
        let items = context
            .output_or_error()
            .and_then(|r| r.ok())
            .and_then(|o| o.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>())
            .map(|q| q.scanned_count());
        if let (Some(n), Ok(mut total)) = (items, self.items_read.lock()) {
            *total += n as u64;
        }
        if let (Some(units), Ok(mut total)) = (units, self.capacity.lock()) {
            *total += units;
        }
        Ok(())
    }
}
