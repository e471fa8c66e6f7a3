//! The status-api executable itself, at `AWS_LAMBDA_LOG_LEVEL=TRACE`, served events by a
//! stand-in for Lambda's Runtime API on 127.0.0.1, with its table and secrets on moto
//! (`scripts/test`): whatever lambda_runtime, lambda_http and the AWS SDK log at that level,
//! nothing it writes carries an acknowledgement link's token, a webhook's body or signature,
//! or a phone number. (At `TRACE` lambda_runtime logs every raw event it receives; sitrep's
//! log filter holds every crate but its own at `INFO`.)

use std::collections::VecDeque;
use std::convert::Infallible;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{Duration as TimeDelta, Utc};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use shared::config::{PersonId, deployed};
use shared::oncall::token::{self, AckKey};
use shared::random::SeededRandom;
use shared::social::x::webhook::WebhookKey;
use shared::store::Store;
use shared::store::dynamodb::DynamoStore;
use sitrep_tests::{dynamodb, fresh_table, mentions_config_text};
use tokio::net::TcpListener;

const ACK_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const CONSUMER_SECRET: &str = "runtime-consumer-secret";
const PHONE: &str = "+447700900123";
const WORDS: &str = "BODY-WORDS-5e1d";

/// Lambda's Runtime API, as far as the runtime client uses it: hands out `events` one by
/// one on `next` (and then holds the request, as Lambda does between invocations) and keeps
/// what the function answers.
#[derive(Default)]
struct RuntimeApi {
    events: Mutex<VecDeque<String>>,
    answers: Mutex<Vec<(String, Value)>>,
    idle: tokio::sync::Notify,
}

async fn serve(
    api: Arc<RuntimeApi>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    if path.ends_with("/invocation/next") {
        let next = api.events.lock().unwrap().pop_front();
        let Some(event) = next else {
            api.idle.notify_one();
            std::future::pending::<()>().await;
            unreachable!();
        };
        let n = api.answers.lock().unwrap().len();
        let deadline = (Utc::now() + TimeDelta::seconds(30)).timestamp_millis();
        let response = Response::builder()
            .header(
                "lambda-runtime-aws-request-id",
                format!("request-{n}-{}", event.len()),
            )
            .header("lambda-runtime-deadline-ms", deadline.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:status-api",
            )
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(event)))
            .unwrap();
        return Ok(response);
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    api.answers.lock().unwrap().push((path, value));
    Ok(Response::builder()
        .status(202)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap())
}

/// An HTTP API request (payload 2.0) for this method, path and body.
fn event(
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
    signature: Option<&str>,
) -> String {
    let mut payload: Value =
        serde_json::from_str(include_str!("fixtures/http-api-request.json")).unwrap();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    payload["rawPath"] = json!(path);
    payload["rawQueryString"] = json!(query);
    payload["requestContext"]["http"]["path"] = json!(path);
    payload["requestContext"]["http"]["method"] = json!(method);
    payload["pathParameters"]["proxy"] = json!(path.trim_start_matches('/'));
    payload["headers"]["x-caller-phone"] = json!(PHONE);
    if let Some(body) = body {
        payload["body"] = json!(body);
    }
    if let Some(signature) = signature {
        payload["headers"]["x-twitter-webhooks-signature"] = json!(signature);
    }
    payload.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_the_executable_logs_no_token_body_signature_or_phone_number() {
    let client = dynamodb().await;
    let table = fresh_table(&client).await;
    let clock = shared::clock::SystemClock;
    let store = DynamoStore::new(client, table.clone(), Arc::new(clock));
    let sdk = sitrep_tests::sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let ack_secret = format!("sitrep/ack-runtime-{}", std::process::id());
    let x_secret = format!("sitrep/social/x-runtime-{}", std::process::id());
    for (name, value) in [
        (ack_secret.clone(), ACK_KEY.to_owned()),
        (
            x_secret.clone(),
            json!({"consumer_key": "ck", "consumer_secret": CONSUMER_SECRET,
                    "access_token": "42-at", "access_token_secret": "ats"})
            .to_string(),
        ),
    ] {
        secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("moto creates the secret");
    }
    let now = Utc::now();
    let text = mentions_config_text("https://api.x.example", "", &x_secret);
    deployed::push(&store, &text, "test", now).await.unwrap();
    let link = token::mint(
        &store as &dyn Store,
        &AckKey::from_secret_text(ACK_KEY).unwrap(),
        "20261123-100300-api",
        &PersonId::parse("alice").unwrap(),
        now + TimeDelta::hours(1),
        &SeededRandom::new(9),
    )
    .await
    .unwrap();
    // A snowflake id made at `now`: the webhook checks that id and times agree.
    let id = (u64::try_from(now.timestamp_millis() - 1_288_834_974_657).unwrap() << 22) | 1;
    let delivery = json!({"for_user_id": "42", "tweet_create_events": [{
        "created_at": now.format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
        "id": id, "id_str": id.to_string(),
        "text": format!("@acme the api is down {WORDS} call me {PHONE}"),
        "truncated": false,
        "user": {"id": 7, "id_str": "7", "name": "Ann", "screen_name": "ann"},
        "entities": {"hashtags": [], "urls": [], "symbols": [],
            "user_mentions": [{"screen_name": "acme", "id": 42, "id_str": "42", "indices": [0, 5]}]},
        "timestamp_ms": now.timestamp_millis().to_string()
    }]})
    .to_string();
    let signature = WebhookKey::new(CONSUMER_SECRET).signature(delivery.as_bytes());
    let forged = "sha256=Rm9yZ2VkU2lnbmF0dXJlRm9yZ2VkU2lnbmF0dXJlRm8=";
    let events = vec![
        event("GET", "/", None, None),
        event("GET", &format!("/ack/{link}"), None, None),
        event("GET", &format!("/ack/{link}/x"), None, None),
        event("POST", &format!("/ack/{link}"), None, None),
        event("GET", &format!("/badge/{PHONE}.svg"), None, None),
        event("POST", "/webhooks/x", Some(&delivery), Some(forged)),
        event("POST", "/webhooks/x", Some(&delivery), Some(&signature)),
    ];
    let expected = events.len();

    let api = Arc::new(RuntimeApi::default());
    api.events.lock().unwrap().extend(events);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = {
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = Arc::clone(&api);
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(Arc::clone(&api), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        })
    };

    let mut child = Command::new(env!("CARGO_BIN_EXE_status-api"))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "status-api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_LEVEL", "TRACE")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("SITREP_TABLE", &table)
        .env("SITREP_ACK_SECRET", &ack_secret)
        .env("SITREP_CONFIG_SOURCE", "table")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the status-api executable starts");
    // Read as it writes: a full pipe would stop the function mid-line.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let served = tokio::time::timeout(Duration::from_secs(60), api.idle.notified()).await;
    // Only the child this test started, by its handle.
    child.kill().ok();
    child.wait().expect("the executable ends");
    server.abort();
    let logged = format!(
        "{}{}",
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default()
    );
    assert!(served.is_ok(), "the events were not all served:\n{logged}");

    let answers = api.answers.lock().unwrap().clone();
    let statuses: Vec<i64> = answers
        .iter()
        .map(|(_, answer)| answer["statusCode"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 400, 200, 404, 401, 200],
        "{answers:?}\n{logged}"
    );
    assert_eq!(answers.len(), expected);
    // The runtime's own lines are there (it logged at INFO and above), and sitrep's.
    assert_eq!(
        logged.matches(r#""message":"request""#).count(),
        expected,
        "{logged}"
    );
    for secret in [
        link.as_str(),
        &link[..10],
        WORDS,
        PHONE,
        &PHONE[1..],
        "Rm9yZ2VkU2lnbmF0dXJl",
        signature.trim_start_matches("sha256="),
        CONSUMER_SECRET,
        ACK_KEY,
    ] {
        assert!(!logged.contains(secret), "`{secret}` was logged:\n{logged}");
    }
}
