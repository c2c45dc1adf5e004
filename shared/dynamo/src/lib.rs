//! DynamoDB adapter for the Service Desk storage ports: one table, keys and
//! indexes described in `keys.rs` and in the README's key design.

mod audit;
pub mod blocks;
mod cases;
mod counter;
mod cursor;
mod directory;
mod item;
pub mod keys;
mod ledger;
mod list;
mod mailboxes;
mod messages;
mod purge;
mod rules;
mod schema;
pub mod search;
#[cfg(feature = "stream")]
pub mod stream;
mod texts;
mod tickets;
mod tx;

use aws_sdk_dynamodb::Client;

pub use counter::{CallCounter, WriteBill, WriteMeter};
pub use schema::{create_table, AttributeSpec, IndexSpec, TableSpec};

/// Both stores over one table.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    known_words: search::KnownWords,
    known_blocks: blocks::KnownBlocks,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            known_words: search::KnownWords::default(),
            known_blocks: blocks::KnownBlocks::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Maps an SDK failure to the domain's storage error, keeping the whole cause chain.
pub(crate) fn storage<E: std::error::Error + Send + Sync + 'static>(
    op: &str,
) -> impl FnOnce(aws_sdk_dynamodb::error::SdkError<E>) -> desk_domain::DeskError + '_ {
    move |e| {
        let msg = format!("{op}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e));
        tracing::error!(operation = op, error = %msg, "dynamodb call failed");
        desk_domain::DeskError::Storage(msg)
    }
}

impl DynamoStore {
    /// A store over `table` with the SDK configured from the environment
    /// (`AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local).
    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::load_from_env().await;
        Self::new(Client::new(&config), table)
    }

    /// Like `from_env`, counting every call with `counter` (tests and benchmarks).
    pub async fn from_env_counted(table: impl Into<String>, counter: CallCounter) -> Self {
        let config = aws_config::load_from_env().await;
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(counter)
            .build();
        Self::new(Client::from_conf(dynamo), table)
    }
}

/// Maps a Query failure: with a client cursor, DynamoDB's ValidationException
/// means the cursor's key was refused (a last line of defence behind the checks
/// in `cursor::decode`), which is the client's error, not an outage.
pub(crate) fn query_failed(
    op: &'static str,
    had_cursor: bool,
) -> impl FnOnce(
    aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::query::QueryError>,
) -> desk_domain::DeskError {
    move |e| {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        if had_cursor
            && e.as_service_error().and_then(|se| se.code()) == Some("ValidationException")
        {
            return desk_domain::DeskError::InvalidCursor;
        }
        storage(op)(e)
    }
}
