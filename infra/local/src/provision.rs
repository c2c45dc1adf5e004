//! The local stand-ins for what `template.yaml` deploys besides the table: the
//! outbox queue with its dead-letter queue, the event bus (with a rule copying
//! every desk event to an inspection queue), the verified SES sender and the
//! reply-token key ring in Secrets Manager — on moto.

use aws_sdk_sqs::types::QueueAttributeName;

/// Where the local resources are.
#[derive(Debug, Clone)]
pub struct Resources {
    /// Where SES would store raw inbound mail.
    pub inbound_bucket: String,
    /// S3 event notifications of stored mail, consumed by ingest.
    pub inbound_url: String,
    pub inbound_dlq_url: String,
    pub outbox_url: String,
    pub outbox_dlq_url: String,
    pub bus: String,
    /// Receives a copy of every event on `bus` (for tests and curious developers).
    pub events_url: String,
    /// The Secrets Manager secret holding the reply-token key ring (its name).
    pub reply_token_secret: String,
}

/// The local name of the reply-token secret of the resources named with `prefix`.
pub fn reply_token_secret_name(prefix: &str) -> String {
    format!("{prefix}-reply-token")
}

fn err(op: &str) -> impl Fn(String) -> String + '_ {
    move |e| format!("{op}: {e}")
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String), String> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| err("CreateQueue")(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?
        .queue_url
        .ok_or("CreateQueue returned no URL")?;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| {
            err("GetQueueAttributes")(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
        })?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or("no queue ARN")?;
    Ok((url, arn))
}

/// Creates (or finds) the resources named with `prefix` and verifies `sender` in SES.
pub async fn provision(
    config: &aws_config::SdkConfig,
    prefix: &str,
    sender: &str,
) -> Result<Resources, String> {
    let sqs = aws_sdk_sqs::Client::new(config);
    let (dlq_url, dlq_arn) = queue(&sqs, &format!("{prefix}-outbox-dlq")).await?;
    let (outbox_url, _) = queue(&sqs, &format!("{prefix}-outbox")).await?;
    // As in the template: redelivered up to 5 times, then dead-lettered.
    sqs.set_queue_attributes()
        .queue_url(&outbox_url)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .send()
        .await
        .map_err(|e| {
            err("SetQueueAttributes")(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
        })?;

    // Inbound mail: bucket, queue and its dead-letter queue (3 tries, as in the template).
    let (inbound_dlq_url, inbound_dlq_arn) = queue(&sqs, &format!("{prefix}-inbound-dlq")).await?;
    let (inbound_url, _) = queue(&sqs, &format!("{prefix}-inbound")).await?;
    sqs.set_queue_attributes()
        .queue_url(&inbound_url)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{inbound_dlq_arn}","maxReceiveCount":"3"}}"#),
        )
        .send()
        .await
        .map_err(|e| {
            err("SetQueueAttributes")(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
        })?;
    let inbound_bucket = format!("{prefix}-inbound").replace('_', "-").to_lowercase();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    if s3
        .head_bucket()
        .bucket(&inbound_bucket)
        .send()
        .await
        .is_err()
    {
        s3.create_bucket()
            .bucket(&inbound_bucket)
            .send()
            .await
            .map_err(|e| {
                err("CreateBucket")(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
            })?;
    }
    // Versioned, as in the template: an erasure must find and delete old versions too.
    s3.put_bucket_versioning()
        .bucket(&inbound_bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            err("PutBucketVersioning")(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
        })?;

    let events = aws_sdk_eventbridge::Client::new(config);
    let bus = format!("{prefix}-bus");
    let exists = events.describe_event_bus().name(&bus).send().await.is_ok();
    if !exists {
        events
            .create_event_bus()
            .name(&bus)
            .send()
            .await
            .map_err(|e| {
                err("CreateEventBus")(
                    aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string(),
                )
            })?;
    }
    let (events_url, events_arn) = queue(&sqs, &format!("{prefix}-events")).await?;
    events
        .put_rule()
        .name(format!("{prefix}-all"))
        .event_bus_name(&bus)
        .event_pattern(format!(
            r#"{{"source":["{}"]}}"#,
            desk_messaging::EVENT_SOURCE
        ))
        .send()
        .await
        .map_err(|e| {
            err("PutRule")(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
        })?;
    events
        .put_targets()
        .rule(format!("{prefix}-all"))
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("inspect")
                .arn(events_arn)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| {
            err("PutTargets")(aws_sdk_eventbridge::error::DisplayErrorContext(&e).to_string())
        })?;

    // Sending needs a verified sender (moto checks this as SES does).
    if let Err(e) = aws_sdk_sesv2::Client::new(config)
        .create_email_identity()
        .email_identity(sender)
        .send()
        .await
    {
        let msg = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
        if !msg.contains("AlreadyExists") {
            return Err(format!("CreateEmailIdentity: {msg}"));
        }
    }
    let reply_token_secret =
        crate::reply_keys::ensure(config, &reply_token_secret_name(prefix)).await?;
    Ok(Resources {
        reply_token_secret,
        inbound_bucket,
        inbound_url,
        inbound_dlq_url,
        outbox_url,
        outbox_dlq_url: dlq_url,
        bus,
        events_url,
    })
}

/// Delivers raw messages exactly as SES + S3 would: the object into the inbound
/// bucket, then the S3 event notification onto the inbound queue. Returns the keys.
pub async fn deliver(
    config: &aws_config::SdkConfig,
    resources: &Resources,
    raws: &[Vec<u8>],
) -> Result<Vec<String>, String> {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::new(config);
    let mut keys = Vec::new();
    for raw in raws {
        // SES names objects by its message id.
        let key = format!("inbound/{}", uuid::Uuid::new_v4().simple());
        s3.put_object()
            .bucket(&resources.inbound_bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from(raw.clone()))
            .send()
            .await
            .map_err(|e| {
                err("PutObject")(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
            })?;
        sqs.send_message()
            .queue_url(&resources.inbound_url)
            .message_body(s3_event(&resources.inbound_bucket, &key, raw.len()))
            .send()
            .await
            .map_err(|e| {
                err("SendMessage")(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
            })?;
        keys.push(key);
    }
    Ok(keys)
}

/// The S3 `ObjectCreated:Put` notification for one object, as S3 sends it to SQS.
pub fn s3_event(bucket: &str, key: &str, size: usize) -> String {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": chrono::Utc::now().to_rfc3339(), "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": size}}
    }]})
    .to_string()
}
