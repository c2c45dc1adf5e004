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

    /// Read capacity units of every read (Query, GetItem, BatchGetItem) since the last call.
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

    // Every read asks for its consumed capacity, so that a page's read cost is
    // measured whichever calls it makes.
    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<
            '_,
        >,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ask_consumed_capacity(context, &READS, "TOTAL")
    }

    fn read_after_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let out = context.output_or_error().and_then(|r| r.ok());
        let units = out.and_then(|o| {
            let units = |c: Option<&aws_sdk_dynamodb::types::ConsumedCapacity>| {
                c.and_then(|c| c.capacity_units())
            };
            if let Some(q) = o.downcast_ref::<op::query::QueryOutput>() {
                units(q.consumed_capacity())
            } else if let Some(g) = o.downcast_ref::<op::get_item::GetItemOutput>() {
                units(g.consumed_capacity())
            } else {
                o.downcast_ref::<op::batch_get_item::BatchGetItemOutput>()
                    .map(|b| {
                        b.consumed_capacity()
                            .iter()
                            .filter_map(|c| c.capacity_units())
                            .sum()
                    })
            }
        });
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

/// Measures write capacity: asks DynamoDB for every write's consumed capacity,
/// the indexes included (`ReturnConsumedCapacity: INDEXES`, which DynamoDB
/// Local computes as DynamoDB does), and sums it. For benchmarks: it rewrites
/// each write request's body.
#[derive(Debug, Clone, Default)]
pub struct WriteMeter {
    parts: Arc<Mutex<std::collections::BTreeMap<String, f64>>>,
}

/// The reads the call counter asks for their consumed capacity.
const READS: [&str; 3] = ["Query", "GetItem", "BatchGetItem"];

/// The writes the meter asks for their consumed capacity.
const WRITES: [&str; 5] = [
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "TransactWriteItems",
    "BatchWriteItem",
];

/// Write request units billed, in all and by what they wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteBill {
    pub total: f64,
    /// By operation and table or index (`PutItem table`, `TransactWriteItems
    /// gsi_status`, …), largest first; they sum to `total`.
    pub parts: Vec<(String, f64)>,
}

impl WriteMeter {
    /// The units billed since the last call.
    pub fn take(&self) -> WriteBill {
        let mut parts: Vec<(String, f64)> = self
            .parts
            .lock()
            .map(|mut p| std::mem::take(&mut *p).into_iter().collect())
            .unwrap_or_default();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        WriteBill {
            total: parts.iter().map(|(_, u)| u).sum(),
            parts,
        }
    }

    /// What one response's consumed capacity bills. DynamoDB Local reports a
    /// transaction's index writes twice (prepare and commit) where DynamoDB
    /// bills them once: halved here, the one place that rule lives.
    fn add(&self, op: &str, c: &aws_sdk_dynamodb::types::ConsumedCapacity, transaction: bool) {
        let Ok(mut parts) = self.parts.lock() else {
            return;
        };
        let mut indexes = 0.0;
        for (index, capacity) in c.global_secondary_indexes().into_iter().flatten() {
            let units = capacity.capacity_units().unwrap_or_default();
            indexes += units;
            *parts.entry(format!("{op} {index}")).or_default() +=
                if transaction { units / 2.0 } else { units };
        }
        // The table's share: the total less the indexes' (as reported).
        let table = c.capacity_units().unwrap_or_default() - indexes;
        *parts.entry(format!("{op} table")).or_default() += table;
    }
}

impl Intercept for WriteMeter {
    fn name(&self) -> &'static str {
        "WriteMeter"
    }

    fn modify_before_signing(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<
            '_,
        >,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ask_consumed_capacity(context, &WRITES, "INDEXES")
    }

    fn read_after_execution(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation as op;
        let Some(Ok(out)) = context.output_or_error() else {
            return Ok(());
        };
        let each = |op: &str, c: &[aws_sdk_dynamodb::types::ConsumedCapacity], tx: bool| {
            for c in c {
                self.add(op, c, tx);
            }
        };
        if let Some(o) = out.downcast_ref::<op::put_item::PutItemOutput>() {
            if let Some(c) = o.consumed_capacity() {
                self.add("PutItem", c, false);
            }
        } else if let Some(o) = out.downcast_ref::<op::update_item::UpdateItemOutput>() {
            if let Some(c) = o.consumed_capacity() {
                self.add("UpdateItem", c, false);
            }
        } else if let Some(o) = out.downcast_ref::<op::delete_item::DeleteItemOutput>() {
            if let Some(c) = o.consumed_capacity() {
                self.add("DeleteItem", c, false);
            }
        } else if let Some(o) =
            out.downcast_ref::<op::transact_write_items::TransactWriteItemsOutput>()
        {
            each("TransactWriteItems", o.consumed_capacity(), true);
        } else if let Some(o) = out.downcast_ref::<op::batch_write_item::BatchWriteItemOutput>() {
            each("BatchWriteItem", o.consumed_capacity(), false);
        }
        Ok(())
    }
}

/// Rewrites the body of a request to one of `operations` so that it asks for
/// its consumed capacity (`how`: `TOTAL` or `INDEXES`).
fn ask_consumed_capacity(
    context: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
    operations: &[&str],
    how: &str,
) -> Result<(), BoxError> {
    let request = context.request_mut();
    let target = request
        .headers()
        .get("x-amz-target")
        .unwrap_or_default()
        .to_string();
    if !operations
        .iter()
        .any(|w| target.ends_with(&format!(".{w}")))
    {
        return Ok(());
    }
    let Some(bytes) = request.body().bytes() else {
        return Ok(());
    };
    let mut body: serde_json::Value = serde_json::from_slice(bytes)?;
    body["ReturnConsumedCapacity"] = serde_json::Value::String(how.into());
    let bytes = serde_json::to_vec(&body)?;
    request
        .headers_mut()
        .insert("content-length", bytes.len().to_string());
    *request.body_mut() = aws_smithy_types::body::SdkBody::from(bytes);
    Ok(())
}
