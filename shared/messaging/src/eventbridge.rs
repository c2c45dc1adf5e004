//! Domain events on an EventBridge bus.

use async_trait::async_trait;
use desk_domain::outbound::{DeskEvent, EventBus};
use desk_domain::{DeskError, DeskResult};

use crate::failed;

/// Domain events on an EventBridge bus, source `service-desk`.
#[derive(Clone)]
pub struct EventBridgeBus {
    client: crate::Lazy<aws_sdk_eventbridge::Client>,
    bus_name: String,
}

pub const EVENT_SOURCE: &str = "service-desk";

impl EventBridgeBus {
    pub fn new(
        client: impl Into<crate::Lazy<aws_sdk_eventbridge::Client>>,
        bus_name: impl Into<String>,
    ) -> Self {
        Self {
            client: client.into(),
            bus_name: bus_name.into(),
        }
    }
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DeskEvent]) -> DeskResult<()> {
        // PutEvents takes at most 10 entries per call.
        for chunk in events.chunks(10) {
            let mut req = self.client.put_events();
            for e in chunk {
                req = req.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(EVENT_SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(e.detail.to_string())
                        .build(),
                );
            }
            let out = req.send().await.map_err(failed("EventBridge PutEvents"))?;
            if out.failed_entry_count() > 0 {
                return Err(DeskError::Storage(format!(
                    "EventBridge refused {} event(s)",
                    out.failed_entry_count()
                )));
            }
        }
        Ok(())
    }
}
