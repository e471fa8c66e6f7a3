//! The DynamoDB adapter: one table, `pk`/`sk` string keys, `version` for optimistic
//! concurrency, `expires_at` as the TTL attribute, domain attributes as native DynamoDB types.
//!
//! Every "exactly once" decision is a single conditional write, so two Lambda invocations
//! racing on the same item cannot both win. Reads are strongly consistent because they feed
//! those decisions. TTL deletion is lazy (up to days late), so every read and condition also
//! treats `expires_at <= now` as absent.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Number, Value};

use super::{
    Created, Item, ItemChange, Key, NewItem, Query, SortKeys, Store, StoreError, check_attributes,
    is_expired,
};
use crate::clock::Clock;

/// Attempts a blind write makes before contention is reported as a failure.
const PUT_ATTEMPTS: usize = 16;

/// DynamoDB-backed [`Store`].
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

fn backend<E: std::error::Error>(e: E) -> StoreError {
    StoreError::Backend(DisplayErrorContext(e).to_string())
}

/// Whether a put's condition failed because of `item`'s own earlier attempt: the item the
/// failure returned (`ReturnValuesOnConditionCheckFailure::AllOld`) carries its write id at
/// `version` and is live. A retry of a write that was applied finds exactly that.
fn is_own_write(
    e: &aws_sdk_dynamodb::error::SdkError<PutItemError>,
    item: &NewItem,
    version: u64,
    now: DateTime<Utc>,
) -> bool {
    let Some(PutItemError::ConditionalCheckFailedException(failure)) = e.as_service_error() else {
        return false;
    };
    let Some(old) = failure.item() else {
        return false;
    };
    let written_by_us =
        matches!(old.get("write_id"), Some(AttributeValue::S(id)) if id == item.write_id.as_str());
    written_by_us
        && number_of(old.get("version")).and_then(|v| u64::try_from(v).ok()) == Some(version)
        && !is_expired(number_of(old.get("expires_at")), now)
}

fn is_condition_failure<E: ProvideErrorMetadata>(e: &aws_sdk_dynamodb::error::SdkError<E>) -> bool {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// Converts a JSON value to its natural DynamoDB type.
pub fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

fn parse_number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::from(i));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// Converts a DynamoDB value back to JSON; binary values are not part of sitrep's model.
pub fn from_attribute(value: &AttributeValue) -> Result<Value, String> {
    Ok(match value {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::N(n) => parse_number(n).ok_or_else(|| format!("bad number `{n}`"))?,
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::L(items) => {
            Value::Array(items.iter().map(from_attribute).collect::<Result<_, _>>()?)
        }
        AttributeValue::M(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), from_attribute(v)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| parse_number(n).ok_or_else(|| format!("bad number `{n}`")))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unsupported attribute type {other:?}")),
    })
}

fn number_of(value: Option<&AttributeValue>) -> Option<i64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// A stream batch's records (`Records` of the event Lambda delivers) as item changes, and the
/// sequence numbers of those that cannot be read, to report as batch item failures. A record
/// without even a sequence number cannot be named in a partial failure: that fails the whole
/// batch (`Err`), so nothing behind it is skipped.
pub fn changes_from_records(records: &[Value]) -> Result<(Vec<ItemChange>, Vec<String>), String> {
    let mut changes = Vec::with_capacity(records.len());
    let mut unreadable = Vec::new();
    for (i, raw) in records.iter().enumerate() {
        let decoded =
            serde_json::from_value::<aws_lambda_events::event::dynamodb::EventRecord>(raw.clone())
                .map_err(|e| e.to_string())
                .and_then(|record| change_from_stream(&record));
        match decoded {
            Ok(change) => changes.push(change),
            Err(reason) => {
                let Some(sequence) = raw
                    .pointer("/dynamodb/SequenceNumber")
                    .and_then(Value::as_str)
                else {
                    return Err(format!(
                        "stream record {i} cannot be read and has no sequence number: {reason}"
                    ));
                };
                tracing::error!(record = sequence, %reason, "unreadable stream record");
                unreadable.push(sequence.to_owned());
            }
        }
    }
    Ok((changes, unreadable))
}

/// The change one DynamoDB stream record reports (`NEW_AND_OLD_IMAGES`), with its sequence
/// number as id. Expired images are kept: a stream tells what was written, not what is live.
pub fn change_from_stream(
    record: &aws_lambda_events::event::dynamodb::EventRecord,
) -> Result<ItemChange, String> {
    let stream = &record.change;
    let id = stream
        .sequence_number
        .clone()
        .ok_or("the record has no sequence number")?;
    let image = |image: &serde_dynamo::Item| -> Result<Option<Item>, String> {
        if image.is_empty() {
            return Ok(None);
        }
        let map: HashMap<String, AttributeValue> = image
            .iter()
            .map(|(name, value)| (name.clone(), from_stream_value(value)))
            .collect();
        item_from_map(&map, DateTime::UNIX_EPOCH).map_err(|e| e.to_string())
    };
    let keys = image(&stream.keys)?.ok_or("the record has no keys")?.key;
    if keys.pk.is_empty() || keys.sk.is_empty() {
        return Err("the record's keys have no pk and sk strings".into());
    }
    Ok(ItemChange {
        id,
        key: keys,
        old: image(&stream.old_image)?,
        new: image(&stream.new_image)?,
    })
}

fn from_stream_value(value: &serde_dynamo::AttributeValue) -> AttributeValue {
    use serde_dynamo::AttributeValue as V;
    match value {
        V::N(n) => AttributeValue::N(n.clone()),
        V::S(s) => AttributeValue::S(s.clone()),
        V::Bool(b) => AttributeValue::Bool(*b),
        V::B(b) => AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b.clone())),
        V::Null(b) => AttributeValue::Null(*b),
        V::M(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), from_stream_value(v)))
                .collect(),
        ),
        V::L(items) => AttributeValue::L(items.iter().map(from_stream_value).collect()),
        V::Ss(items) => AttributeValue::Ss(items.clone()),
        V::Ns(items) => AttributeValue::Ns(items.clone()),
        V::Bs(items) => AttributeValue::Bs(
            items
                .iter()
                .map(|b| aws_sdk_dynamodb::primitives::Blob::new(b.clone()))
                .collect(),
        ),
    }
}

/// Reads one DynamoDB item into the store's model, or `None` when it has expired.
pub fn item_from_map(
    map: &HashMap<String, AttributeValue>,
    now: DateTime<Utc>,
) -> Result<Option<Item>, StoreError> {
    let text = |name: &str| match map.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    let key = Key::new(
        text("pk").unwrap_or_default(),
        text("sk").unwrap_or_default(),
    );
    let expires_at = number_of(map.get("expires_at"));
    if is_expired(expires_at, now) {
        return Ok(None);
    }
    let mut attributes = Map::new();
    for (name, value) in map {
        if super::RESERVED_ATTRIBUTES.contains(&name.as_str()) {
            continue;
        }
        let value = from_attribute(value).map_err(|reason| StoreError::Malformed {
            key: key.clone(),
            reason,
        })?;
        attributes.insert(name.clone(), value);
    }
    Ok(Some(Item {
        version: number_of(map.get("version"))
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(0),
        expires_at: expires_at.and_then(|s| Utc.timestamp_opt(s, 0).single()),
        write_id: text("write_id").map(super::WriteId::from_stored),
        key,
        attributes,
    }))
}

fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn item_map(item: &NewItem, version: u64) -> HashMap<String, AttributeValue> {
    let mut map = key_map(&item.key);
    map.insert("version".into(), AttributeValue::N(version.to_string()));
    map.insert(
        "write_id".into(),
        AttributeValue::S(item.write_id.as_str().to_owned()),
    );
    if let Some(at) = item.expires_at {
        map.insert(
            "expires_at".into(),
            AttributeValue::N(at.timestamp().to_string()),
        );
    }
    for (name, value) in &item.attributes {
        map.insert(name.clone(), to_attribute(value));
    }
    map
}

/// The size DynamoDB bills `item` at when written (as the adapter writes it, with its key,
/// version and expiry), by the rules of the developer guide's "item sizes": names and
/// strings in UTF-8 bytes, numbers one byte per two significant digits plus one, booleans
/// and nulls one byte, lists and maps three bytes plus one per element.
pub fn item_size(item: &NewItem, version: u64) -> usize {
    item_map(item, version)
        .iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// Write capacity units one write of `item` consumes: one per started kilobyte.
pub fn write_units(item: &NewItem, version: u64) -> usize {
    item_size(item, version).div_ceil(1024).max(1)
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => {
            let digits = n
                .trim_start_matches('-')
                .replace('.', "")
                .trim_start_matches('0')
                .trim_end_matches('0')
                .len()
                .max(1);
            digits.div_ceil(2) + 1
        }
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(items) => 3 + items.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_size(v))
                .sum::<usize>()
        }
        AttributeValue::B(bytes) => bytes.as_ref().len(),
        AttributeValue::Ss(items) => items.iter().map(String::len).sum(),
        AttributeValue::Ns(items) => items
            .iter()
            .map(|n| value_size(&AttributeValue::N(n.clone())))
            .sum(),
        _ => 0,
    }
}

fn now_value(now: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(now.timestamp().to_string())
}

impl DynamoStore {
    /// A store over `table`, reading time from `clock`.
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            clock,
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as the SAM template declares it (on-demand, stream, TTL); for tests
    /// and for trying sitrep against a local DynamoDB-compatible endpoint.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend)
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(backend)
        };
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk")?)
            .attribute_definitions(attribute("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(backend)?,
            )
            .send()
            .await
            .map_err(backend)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("expires_at")
                    .build()
                    .map_err(backend)?,
            )
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        match output.item {
            Some(map) => item_from_map(&map, self.clock.now()),
            None => Ok(None),
        }
    }

    async fn create_item(&self, item: NewItem) -> Result<Created, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_map(&item, 1)))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", now_value(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Created::Yes),
            Err(e) if is_own_write(&e, &item, 1, now) => Ok(Created::Yes),
            Err(e) if is_condition_failure(&e) => Ok(Created::AlreadyExists),
            Err(e) => Err(backend(e)),
        }
    }

    async fn update_item(&self, item: NewItem, expected_version: u64) -> Result<u64, StoreError> {
        check_attributes(&item.attributes)?;
        let now = self.clock.now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_map(&item, expected_version + 1)))
            .condition_expression(
                "version = :expected AND (attribute_not_exists(expires_at) OR expires_at > :now)",
            )
            .expression_attribute_values(
                ":expected",
                AttributeValue::N(expected_version.to_string()),
            )
            .expression_attribute_values(":now", now_value(now))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(expected_version + 1),
            Err(e) if is_own_write(&e, &item, expected_version + 1, now) => {
                Ok(expected_version + 1)
            }
            Err(e) if is_condition_failure(&e) => Err(StoreError::Conflict {
                key: item.key,
                expected: expected_version,
            }),
            Err(e) => Err(backend(e)),
        }
    }

    async fn put(&self, item: NewItem) -> Result<u64, StoreError> {
        // Versions must keep increasing across blind writes, so a put is a read and a
        // conditional write, retried when another writer slips in between: a few times, as
        // an item written so often that every attempt loses is a fault to report.
        for _ in 0..PUT_ATTEMPTS {
            match self.get(&item.key).await? {
                None => {
                    if self.create(item.clone()).await? == Created::Yes {
                        return Ok(1);
                    }
                }
                Some(current) => match self.update(item.clone(), current.version).await {
                    Ok(version) => return Ok(version),
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                },
            }
        }
        Err(StoreError::Backend(format!(
            "{} kept changing: {PUT_ATTEMPTS} writes in a row lost the race",
            item.key
        )))
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .scan_index_forward(!query.descending)
            .filter_expression("attribute_not_exists(expires_at) OR expires_at > :now")
            .expression_attribute_values(":now", now_value(now))
            .expression_attribute_values(":pk", AttributeValue::S(query.pk.clone()));
        request = match &query.sort_keys {
            SortKeys::All => request.key_condition_expression("pk = :pk"),
            SortKeys::Prefix(prefix) => request
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.clone())),
            SortKeys::Between { from, to } => request
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":from", AttributeValue::S(from.clone()))
                .expression_attribute_values(":to", AttributeValue::S(to.clone())),
        };
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let previous = start.clone();
            let mut page = request.clone().set_exclusive_start_key(start.take());
            if let Some(limit) = query.limit {
                // DynamoDB applies Limit before the filter, so ask for what is still missing.
                let missing = limit.saturating_sub(items.len()).max(1);
                page = page.limit(i32::try_from(missing).unwrap_or(i32::MAX));
            }
            let output = page.send().await.map_err(backend)?;
            for map in output.items() {
                if let Some(item) = item_from_map(map, now)? {
                    items.push(item);
                }
            }
            if query.limit.is_some_and(|limit| items.len() >= limit) {
                items.truncate(query.limit.unwrap_or(usize::MAX));
                return Ok(items);
            }
            match output.last_evaluated_key {
                // A page that hands back the key it started from would be read forever.
                Some(key) if previous.as_ref() == Some(&key) => {
                    return Err(StoreError::Backend(format!(
                        "the query of {} returned the key it started from",
                        query.pk
                    )));
                }
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    async fn increment(
        &self,
        key: &Key,
        deltas: &[(&str, i64)],
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        for (name, _) in deltas {
            if super::RESERVED_ATTRIBUTES.contains(name) {
                return Err(StoreError::ReservedAttribute((*name).to_owned()));
            }
        }
        for _ in 0..PUT_ATTEMPTS {
            let now = self.clock.now();
            let mut adds = vec!["version :one".to_owned()];
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_map(key)))
                .condition_expression(
                    "attribute_not_exists(pk) OR attribute_not_exists(expires_at) OR expires_at > :now",
                )
                .expression_attribute_values(":now", now_value(now))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
            for (i, (name, delta)) in deltas.iter().enumerate() {
                adds.push(format!("#c{i} :d{i}"));
                request = request
                    .expression_attribute_names(format!("#c{i}"), *name)
                    .expression_attribute_values(
                        format!(":d{i}"),
                        AttributeValue::N(delta.to_string()),
                    );
            }
            let mut expression = format!("ADD {}", adds.join(", "));
            if let Some(at) = expires_at {
                expression =
                    format!("SET expires_at = if_not_exists(expires_at, :expires) {expression}");
                request = request.expression_attribute_values(":expires", now_value(at));
            }
            match request.update_expression(expression).send().await {
                Ok(output) => {
                    let attributes = output.attributes.unwrap_or_default();
                    return Ok(deltas
                        .iter()
                        .map(|(name, _)| {
                            (
                                (*name).to_owned(),
                                number_of(attributes.get(*name)).unwrap_or(0),
                            )
                        })
                        .collect());
                }
                Err(e) if is_condition_failure(&e) => {
                    // The item expired but is not swept yet: start it afresh, unless someone
                    // else already did (then the loop adds to theirs).
                    let fresh = NewItem {
                        expires_at,
                        ..NewItem::new(
                            key.clone(),
                            deltas
                                .iter()
                                .map(|(name, delta)| ((*name).to_owned(), Value::from(*delta)))
                                .collect(),
                        )
                    };
                    let reset = self
                        .client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(item_map(&fresh, 1)))
                        .condition_expression("expires_at <= :now")
                        .expression_attribute_values(":now", now_value(now))
                        .send()
                        .await;
                    match reset {
                        Ok(_) => {
                            return Ok(deltas
                                .iter()
                                .map(|(name, delta)| ((*name).to_owned(), *delta))
                                .collect());
                        }
                        Err(e) if is_condition_failure(&e) => continue,
                        Err(e) => return Err(backend(e)),
                    }
                }
                Err(e) => return Err(backend(e)),
            }
        }
        Err(StoreError::Backend(format!(
            "the counters of {key} kept expiring and restarting under contention"
        )))
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_sizes_follow_dynamodbs_billing_rules() {
        let mut attributes = serde_json::Map::new();
        attributes.insert("name".into(), Value::from("abc"));
        attributes.insert("n".into(), Value::from(123));
        attributes.insert("ok".into(), Value::from(true));
        let item = NewItem::new(Key::new("A", "B"), attributes);
        // pk 2+1, sk 2+1, version 7+2, write_id 8+24, name 4+3, n 1+3, ok 2+1.
        assert_eq!(item_size(&item, 1), 61);
        assert_eq!(write_units(&item, 1), 1);
        let mut big = item.clone();
        big.attributes
            .insert("text".into(), Value::from("x".repeat(1100)));
        assert_eq!(write_units(&big, 1), 2, "a started kilobyte is a unit");
    }
}
