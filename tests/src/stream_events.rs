//! Lambda events as Lambda delivers them, for handler tests: DynamoDB stream records built
//! from the items exactly as moto's DynamoDB stores them, and an invocation context.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use shared::store::Key;

/// An attribute value in the JSON shape a stream record carries it.
pub fn wire(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(items) => json!({ "L": items.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(map) => {
            json!({ "M": map.iter().map(|(k, v)| (k.clone(), wire(v))).collect::<serde_json::Map<_, _>>() })
        }
        other => panic!("sitrep writes no {other:?}"),
    }
}

/// A whole item as a stream image.
pub fn image(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), wire(v))).collect())
}

/// The item at `key` of `table`, as DynamoDB stores it.
pub async fn raw_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &Key,
) -> HashMap<String, AttributeValue> {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(key.pk.clone()))
        .key("sk", AttributeValue::S(key.sk.clone()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item exists")
}

/// The stream record DynamoDB emits for the item now at `key` (`INSERT` or `MODIFY`, with
/// `old` as the old image), numbered `sequence`.
pub async fn stream_record(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &Key,
    event: &str,
    old: Option<Value>,
    sequence: u64,
    now: DateTime<Utc>,
) -> Value {
    let new = image(&raw_item(client, table, key).await);
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": now.timestamp(),
        "Keys": {"pk": {"S": key.pk}, "sk": {"S": key.sk}},
        "NewImage": new,
        "SequenceNumber": format!("{sequence:021}"),
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(old) = old {
        dynamodb["OldImage"] = old;
    }
    json!({
        "eventID": format!("event-{sequence}"),
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": dynamodb,
        "eventSourceARN": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-11-23T00:00:00.000"),
    })
}

/// An invocation of `payload` with a minute to go.
pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = "3f7d95b0-7b61-11e6-9a41-93e8deadbeef".into();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    context.deadline = now_ms + 60_000;
    LambdaEvent::new(payload, context)
}
