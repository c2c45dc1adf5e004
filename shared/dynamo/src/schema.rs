//! Creating the table from a definition (read from `template.yaml` by the local
//! tooling, so the template stays the one source of truth).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use desk_domain::DeskError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeSpec {
    pub name: String,
    /// `S`, `N` or `B`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: String,
    pub hash: String,
    pub range: Option<String>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE` (with `non_key`).
    pub projection: String,
    pub non_key: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub attributes: Vec<AttributeSpec>,
    pub hash: String,
    pub range: Option<String>,
    pub indexes: Vec<IndexSpec>,
    /// The stream's view type (`NEW_AND_OLD_IMAGES`), if the table has a stream.
    pub stream: Option<String>,
}

fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>, DeskError> {
    let mut keys = vec![KeySchemaElement::builder()
        .attribute_name(hash)
        .key_type(KeyType::Hash)
        .build()
        .map_err(|e| DeskError::Storage(e.to_string()))?];
    if let Some(r) = range {
        keys.push(
            KeySchemaElement::builder()
                .attribute_name(r)
                .key_type(KeyType::Range)
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        );
    }
    Ok(keys)
}

/// Creates `name` as `spec` describes (on-demand, indexes projecting all attributes).
pub async fn create_table(client: &Client, name: &str, spec: &TableSpec) -> Result<(), DeskError> {
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(&spec.hash, spec.range.as_deref())?));
    for a in &spec.attributes {
        let kind = match a.kind.as_str() {
            "S" => ScalarAttributeType::S,
            "N" => ScalarAttributeType::N,
            "B" => ScalarAttributeType::B,
            other => {
                return Err(DeskError::Storage(format!(
                    "attribute {}: unknown type {other}",
                    a.name
                )))
            }
        };
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(kind)
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        );
    }
    for i in &spec.indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&i.name)
                .set_key_schema(Some(key_schema(&i.hash, i.range.as_deref())?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(i.projection.as_str()))
                        .set_non_key_attributes((!i.non_key.is_empty()).then(|| i.non_key.clone()))
                        .build(),
                )
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        );
    }
    if let Some(view) = &spec.stream {
        req = req.stream_specification(
            aws_sdk_dynamodb::types::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::from(view.as_str()))
                .build()
                .map_err(|e| DeskError::Storage(e.to_string()))?,
        );
    }
    req.send().await.map_err(crate::storage("CreateTable"))?;
    Ok(())
}
