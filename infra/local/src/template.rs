//! Reads the table definition out of `template.yaml`, so local tables are created
//! from exactly what SAM deploys.

use std::path::Path;

use aws_sdk_dynamodb::Client;
use desk_dynamo::{AttributeSpec, IndexSpec, TableSpec};
use serde_yaml::Value;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error("template is not YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("template: {0}")]
    Shape(String),
}

fn text(v: &Value, what: &str) -> Result<String, TemplateError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| TemplateError::Shape(format!("{what} is not a string")))
}

fn key_schema(v: &Value, what: &str) -> Result<(String, Option<String>), TemplateError> {
    let list = v
        .as_sequence()
        .ok_or_else(|| TemplateError::Shape(format!("{what}.KeySchema is not a list")))?;
    let mut hash = None;
    let mut range = None;
    for k in list {
        let name = text(&k["AttributeName"], "AttributeName")?;
        match k["KeyType"].as_str() {
            Some("HASH") => hash = Some(name),
            Some("RANGE") => range = Some(name),
            _ => {
                return Err(TemplateError::Shape(format!(
                    "{what}: KeyType must be HASH or RANGE"
                )))
            }
        }
    }
    Ok((
        hash.ok_or_else(|| TemplateError::Shape(format!("{what} has no HASH key")))?,
        range,
    ))
}

/// The table resource `logical_id` of the template at `path`.
pub fn table_spec(path: &Path, logical_id: &str) -> Result<TableSpec, TemplateError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| TemplateError::Read(path.display().to_string(), e))?;
    let doc: Value = serde_yaml::from_str(&raw)?;
    let res = &doc["Resources"][logical_id];
    if res["Type"].as_str() != Some("AWS::DynamoDB::Table") {
        return Err(TemplateError::Shape(format!(
            "{logical_id} is not an AWS::DynamoDB::Table"
        )));
    }
    let props = &res["Properties"];
    let attributes = props["AttributeDefinitions"]
        .as_sequence()
        .ok_or_else(|| TemplateError::Shape("AttributeDefinitions missing".into()))?
        .iter()
        .map(|a| {
            Ok(AttributeSpec {
                name: text(&a["AttributeName"], "AttributeName")?,
                kind: text(&a["AttributeType"], "AttributeType")?,
            })
        })
        .collect::<Result<Vec<_>, TemplateError>>()?;
    let (hash, range) = key_schema(&props["KeySchema"], logical_id)?;
    let mut indexes = Vec::new();
    if let Some(list) = props["GlobalSecondaryIndexes"].as_sequence() {
        for i in list {
            let name = text(&i["IndexName"], "IndexName")?;
            let (hash, range) = key_schema(&i["KeySchema"], &name)?;
            let projection = i["Projection"]["ProjectionType"]
                .as_str()
                .unwrap_or("ALL")
                .to_string();
            let non_key = i["Projection"]["NonKeyAttributes"]
                .as_sequence()
                .map(|attrs| {
                    attrs
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            indexes.push(IndexSpec {
                name,
                hash,
                range,
                projection,
                non_key,
            });
        }
    }
    let stream = &props["StreamSpecification"]["StreamViewType"];
    Ok(TableSpec {
        attributes,
        hash,
        range,
        indexes,
        stream: stream.as_str().map(str::to_string),
    })
}

/// The desk table's definition from the repository's `template.yaml`.
pub fn desk_table_spec() -> Result<TableSpec, TemplateError> {
    table_spec(&crate::repo_root().join("template.yaml"), "DeskTable")
}

/// The attribute the desk table's `TimeToLiveSpecification` enables, if any.
pub fn desk_table_ttl() -> Result<Option<String>, TemplateError> {
    let path = crate::repo_root().join("template.yaml");
    let raw = std::fs::read_to_string(&path)
        .map_err(|e| TemplateError::Read(path.display().to_string(), e))?;
    let doc: Value = serde_yaml::from_str(&raw)?;
    let ttl = &doc["Resources"]["DeskTable"]["Properties"]["TimeToLiveSpecification"];
    Ok(match ttl["Enabled"].as_bool() {
        Some(true) => Some(text(
            &ttl["AttributeName"],
            "TimeToLiveSpecification.AttributeName",
        )?),
        _ => None,
    })
}

/// A function's memory (MB) and timeout (seconds) in the repository's
/// `template.yaml`: its own settings, else the template's `Globals`.
pub fn function_limits(logical_id: &str) -> Result<(u64, u64), TemplateError> {
    let path = crate::repo_root().join("template.yaml");
    let raw = std::fs::read_to_string(&path)
        .map_err(|e| TemplateError::Read(path.display().to_string(), e))?;
    let doc: Value = serde_yaml::from_str(&raw)?;
    let resource = &doc["Resources"][logical_id];
    if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
        return Err(TemplateError::Shape(format!(
            "{logical_id} is not an AWS::Serverless::Function"
        )));
    }
    let props = &resource["Properties"];
    let globals = &doc["Globals"]["Function"];
    let setting = |key: &str| {
        props[key]
            .as_u64()
            .or_else(|| globals[key].as_u64())
            .ok_or_else(|| TemplateError::Shape(format!("{logical_id} has no {key}")))
    };
    Ok((setting("MemorySize")?, setting("Timeout")?))
}

/// Creates `name` from the template unless it exists. Returns whether it created it.
pub async fn ensure_table(client: &Client, name: &str) -> Result<bool, String> {
    create_table(client, name, true).await
}

/// As [`ensure_table`], but without the table's stream: for a benchmark that
/// writes what the stream would build itself and only reads. DynamoDB Local
/// keeps a stream's records in its one SQLite database and gets slower on every
/// call to the table as they pile up (each write looks up the stream's shards):
/// a table loaded with 100,000 items through a stream answered a `GetItem` about
/// twice as slowly as a small one — the emulator's cost, not the design's
/// (DynamoDB's latency for a key-bounded call does not depend on the table's size).
pub async fn ensure_table_without_stream(client: &Client, name: &str) -> Result<bool, String> {
    create_table(client, name, false).await
}

async fn create_table(client: &Client, name: &str, stream: bool) -> Result<bool, String> {
    let exists = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .is_ok();
    if exists {
        return Ok(false);
    }
    let mut spec = desk_table_spec().map_err(|e| e.to_string())?;
    if !stream {
        spec.stream = None;
    }
    desk_dynamo::create_table(client, name, &spec)
        .await
        .map_err(|e| e.to_string())?;
    // As CloudFormation does: expiring items (rate counters) remove themselves.
    if let Some(attribute) = desk_table_ttl().map_err(|e| e.to_string())? {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("UpdateTimeToLive: {e}"))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_function_limits_with_globals_as_defaults() {
        let (memory, timeout) = function_limits("IngestFunction").unwrap();
        assert!(memory >= 512 && timeout >= 60, "{memory} MB, {timeout} s");
        assert!(function_limits("NoSuchFunction").is_err());
    }

    #[test]
    fn reads_the_tables_time_to_live_attribute() {
        assert_eq!(desk_table_ttl().unwrap().as_deref(), Some("ttl"));
    }

    #[test]
    fn reads_the_desk_table_with_every_list_index() {
        let spec = desk_table_spec().unwrap();
        assert_eq!(spec.hash, "pk");
        assert_eq!(spec.range.as_deref(), Some("sk"));
        // Every index the adapter queries is defined by the template, with the same keys.
        let case_indexes = [
            desk_dynamo::keys::CASES_BY_CREATED,
            desk_dynamo::keys::CASES_DUE,
        ];
        for idx in desk_dynamo::keys::LIST_INDEXES
            .iter()
            .chain(case_indexes.iter())
        {
            let found = spec.indexes.iter().find(|i| i.name == idx.name);
            let found =
                found.unwrap_or_else(|| panic!("index {} missing from template.yaml", idx.name));
            assert_eq!(found.hash, idx.pk, "{}", idx.name);
            assert_eq!(found.range.as_deref(), Some(idx.sk), "{}", idx.name);
        }
    }
}
