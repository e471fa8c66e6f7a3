//! The SNS pager on moto: an email page goes to the pages topic and reaches only the
//! subscription filtering on its person, with a clean subject, the body and every message
//! attribute; a topic contact reaches its own topic; an SMS goes to the number as
//! `Transactional` with its text; refusals are `Refused` and never retried; a dead endpoint
//! is `Unavailable` after the configured attempts.
//!
//! Run through `scripts/test -p sitrep-tests --test sns_delivery`, which starts moto. The SMS
//! moto records are read from the launcher's own route, `GET /_sitrep/sms`
//! (`scripts/moto-server.py`), since SNS has no API for them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sns::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_sns::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sns::error::BoxError;
use serde_json::{Value, json};
use shared::config::PersonId;
use shared::notify::sns::{SnsNotifier, client_without_retries};
use shared::notify::{
    Message, MessageKind, Notifier, NotifyError, Receipt, RetryPolicy, deliver, gsm7,
};
use shared::oncall::{Contact, PhoneNumber, Urgency};
use shared::random::SeededRandom;
use sitrep_tests::moto_endpoint;
use sitrep_tests::queues::{self, topic};

/// SNS (without SDK retries, as the functions build it) and SQS clients for moto.
async fn moto() -> (aws_sdk_sns::Client, aws_sdk_sqs::Client) {
    moto_endpoint();
    let config = shared::aws::lambda_sdk_config().await;
    (
        client_without_retries(&config),
        aws_sdk_sqs::Client::new(&config),
    )
}

/// A new queue subscribed to `topic` with SNS's JSON envelope (raw delivery off, as an
/// email subscription sees it) and an optional filter policy.
async fn subscribed_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
    name: &str,
    filter: Option<Value>,
) -> String {
    let filter = filter.map(|policy| policy.to_string());
    queues::subscribed_queue(sns, sqs, topic, name, false, filter.as_deref()).await
}

/// The SNS envelopes on the queue: moto delivers while answering the publish, so a receive
/// that comes back empty means there are no more.
async fn envelopes(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if received.is_empty() {
            return bodies;
        }
        for message in received {
            bodies.push(serde_json::from_str(message.body.as_deref().unwrap()).unwrap());
        }
    }
}

/// The message attributes of an envelope, as name → value, checking each is a String.
fn attributes(envelope: &Value) -> BTreeMap<String, String> {
    envelope["MessageAttributes"]
        .as_object()
        .unwrap_or_else(|| panic!("no MessageAttributes in {envelope}"))
        .iter()
        .map(|(name, attribute)| {
            assert_eq!(attribute["Type"], "String", "{name}: {attribute}");
            (
                name.clone(),
                attribute["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn person(id: &str) -> PersonId {
    PersonId::parse(id).unwrap()
}

fn page(who: &str, contact: Contact) -> Message {
    Message {
        person: person(who),
        contact,
        kind: MessageKind::Page,
        incident: Some("20261123-100000-api".into()),
        component: Some("api".into()),
        urgency: Urgency::High,
        sms: gsm7::fit(
            "Public API is down since 10:00 UTC: HTTP 503 from https://api.acme.example/health",
            "Reply \"ack 4821\" or https://status.acme.example/ack/t0k3n",
            gsm7::SEGMENT_SEPTETS,
        ),
        subject: "🔥 [sitrep] Public API is down\n(HTTP 503)".into(),
        body: "Public API is down since 10:00 UTC.\n\nHTTP 503 from https://api.acme.example/health.\n\
               Acknowledge: https://status.acme.example/ack/t0k3n"
            .into(),
    }
}

/// A notifier that counts the sends it passes on.
struct Counting<N> {
    inner: N,
    sends: Mutex<u32>,
}

impl<N> Counting<N> {
    fn new(inner: N) -> Self {
        Self {
            inner,
            sends: Mutex::new(0),
        }
    }

    fn sends(&self) -> u32 {
        *self.sends.lock().unwrap()
    }
}

#[async_trait]
impl<N: Notifier> Notifier for Counting<N> {
    async fn send(&self, message: &Message) -> Result<Receipt, NotifyError> {
        *self.sends.lock().unwrap() += 1;
        self.inner.send(message).await
    }
}

/// Keeps the form body of every request the client sends, to see on the wire what moto does
/// not keep (an SMS's message attributes).
#[derive(Debug, Clone, Default)]
struct CaptureBodies(Arc<Mutex<Vec<String>>>);

impl Intercept for CaptureBodies {
    fn name(&self) -> &'static str {
        "CaptureBodies"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        self.0
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(body).into_owned());
        Ok(())
    }
}

/// The query-protocol form of a request as name → value.
fn form(body: &str) -> BTreeMap<String, String> {
    reqwest::Url::parse(&format!("http://form.invalid/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// The String message attributes in a Publish form, as name → value.
fn form_attributes(form: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    (1..)
        .map_while(|n| {
            let name = form.get(&format!("MessageAttributes.entry.{n}.Name"))?;
            assert_eq!(
                form[&format!("MessageAttributes.entry.{n}.Value.DataType")],
                "String"
            );
            let value = &form[&format!("MessageAttributes.entry.{n}.Value.StringValue")];
            Some((name.clone(), value.clone()))
        })
        .collect()
}

/// The SMS moto recorded in us-east-1, from the launcher's route.
async fn recorded_sms() -> Vec<Value> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = client
        .get(format!("{}/_sitrep/sms?region=us-east-1", moto_endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    serde_json::from_str(&answer.text().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_page_reaches_only_its_persons_subscription_with_subject_body_and_attributes() {
    let (sns, sqs) = moto().await;
    let pages = topic(&sns, "sitrep-pages").await;
    let ana_inbox = subscribed_queue(
        &sns,
        &sqs,
        &pages,
        "pages-ana",
        Some(json!({"person": ["ana"]})),
    )
    .await;
    let bo_inbox = subscribed_queue(
        &sns,
        &sqs,
        &pages,
        "pages-bo",
        Some(json!({"person": ["bo"]})),
    )
    .await;

    let notifier = SnsNotifier::new(sns.clone(), pages.clone());
    assert_eq!(notifier.pages_topic(), pages);
    let for_ana = page("ana", Contact::Email("ana@acme.example".into()));
    let mut for_bo = page("bo", Contact::Email("bo@acme.example".into()));
    for_bo.kind = MessageKind::Resolved;
    for_bo.urgency = Urgency::Low;
    for_bo.component = None;
    for_bo.subject = "Resolved: Public API".into();
    for_bo.body = "Public API is working again.".into();
    let receipt = notifier.send(&for_ana).await.unwrap();
    assert!(!receipt.message_id.is_empty());
    notifier.send(&for_bo).await.unwrap();

    let ana = envelopes(&sqs, &ana_inbox).await;
    assert_eq!(ana.len(), 1, "only ana's page reaches ana: {ana:?}");
    let envelope = &ana[0];
    assert_eq!(envelope["Type"], "Notification");
    assert_eq!(envelope["TopicArn"], pages.as_str());
    assert_eq!(envelope["MessageId"], receipt.message_id.as_str());
    assert_eq!(
        envelope["Subject"], "[sitrep] Public API is down (HTTP 503)",
        "one line, starting with punctuation rather than the emoji"
    );
    assert_eq!(envelope["Message"], for_ana.body.as_str());
    assert_eq!(
        attributes(envelope),
        BTreeMap::from([
            ("kind".to_owned(), "page".to_owned()),
            ("person".to_owned(), "ana".to_owned()),
            ("urgency".to_owned(), "high".to_owned()),
            ("incident".to_owned(), "20261123-100000-api".to_owned()),
            ("component".to_owned(), "api".to_owned()),
        ])
    );

    let bo = envelopes(&sqs, &bo_inbox).await;
    assert_eq!(bo.len(), 1, "only bo's message reaches bo: {bo:?}");
    assert_eq!(bo[0]["Subject"], "Resolved: Public API");
    assert_eq!(bo[0]["Message"], "Public API is working again.");
    assert_eq!(
        attributes(&bo[0]),
        BTreeMap::from([
            ("kind".to_owned(), "resolved".to_owned()),
            ("person".to_owned(), "bo".to_owned()),
            ("urgency".to_owned(), "low".to_owned()),
            ("incident".to_owned(), "20261123-100000-api".to_owned()),
        ]),
        "no empty component attribute"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_contact_reaches_its_own_topic_and_not_the_pages_topic() {
    let (sns, sqs) = moto().await;
    let pages = topic(&sns, "sitrep-pages").await;
    let own = topic(&sns, "sitrep-ana-own").await;
    let pages_inbox = subscribed_queue(&sns, &sqs, &pages, "pages-all", None).await;
    let own_inbox = subscribed_queue(&sns, &sqs, &own, "ana-own", None).await;

    let notifier = SnsNotifier::new(sns.clone(), pages);
    let message = page("ana", Contact::Topic(own.clone()));
    let receipt = notifier.send(&message).await.unwrap();

    let received = envelopes(&sqs, &own_inbox).await;
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["TopicArn"], own.as_str());
    assert_eq!(received[0]["MessageId"], receipt.message_id.as_str());
    assert_eq!(
        received[0]["Subject"],
        "[sitrep] Public API is down (HTTP 503)"
    );
    assert_eq!(received[0]["Message"], message.body.as_str());
    assert_eq!(attributes(&received[0])["person"], "ana");
    assert_eq!(attributes(&received[0]).len(), 5);
    assert!(envelopes(&sqs, &pages_inbox).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_goes_to_the_number_as_transactional_with_its_text_and_attributes() {
    moto_endpoint();
    let config = shared::aws::lambda_sdk_config().await;
    let capture = CaptureBodies::default();
    let functions_client = client_without_retries(&config);
    let client = aws_sdk_sns::Client::from_conf(
        functions_client
            .config()
            .to_builder()
            .interceptor(capture.clone())
            .build(),
    );
    // A number of this process's own, so parallel runs do not see each other's texts.
    let number =
        PhoneNumber::parse(&format!("+1555{:07}", std::process::id() % 10_000_000)).unwrap();
    let notifier = SnsNotifier::new(client, "arn:aws:sns:us-east-1:123456789012:unused");
    let message = page("ana", Contact::Sms(number.clone()));
    assert!(gsm7::gsm7_len(&message.sms).is_some_and(|n| n <= 160));
    let receipt = notifier.send(&message).await.unwrap();

    let recorded = recorded_sms().await;
    let ours: Vec<&Value> = recorded
        .iter()
        .filter(|sms| sms["message_id"] == receipt.message_id.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{recorded:?}");
    assert_eq!(ours[0]["phone_number"], number.as_str());
    assert_eq!(ours[0]["message"], message.sms.as_str());

    // moto keeps only number and text: the attributes are checked on the wire.
    let bodies = capture.0.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "one request, no SDK retry");
    let sent = form(&bodies[0]);
    assert_eq!(sent["Action"], "Publish");
    assert_eq!(sent["PhoneNumber"], number.as_str());
    assert_eq!(sent["Message"], message.sms);
    assert!(!sent.contains_key("TopicArn") && !sent.contains_key("Subject"));
    assert_eq!(
        form_attributes(&sent),
        BTreeMap::from([
            ("AWS.SNS.SMS.SMSType".to_owned(), "Transactional".to_owned()),
            ("kind".to_owned(), "page".to_owned()),
            ("person".to_owned(), "ana".to_owned()),
            ("urgency".to_owned(), "high".to_owned()),
            ("incident".to_owned(), "20261123-100000-api".to_owned()),
            ("component".to_owned(), "api".to_owned()),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_refused_and_never_retried() {
    let (sns, _) = moto().await;
    let missing = "arn:aws:sns:us-east-1:123456789012:sitrep-pages-that-does-not-exist";
    let notifier = Counting::new(SnsNotifier::new(sns, missing));
    let policy = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };
    let random = SeededRandom::new(9);

    let email = page("ana", Contact::Email("ana@acme.example".into()));
    let error = deliver(&notifier, &email, &policy, &random)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, NotifyError::Refused(detail) if detail.contains("sitrep-pages-that-does-not-exist") && detail.contains("email for ana")),
        "{error:?}"
    );
    assert_eq!(notifier.sends(), 1);

    let topic = page("ana", Contact::Topic(missing.into()));
    let error = deliver(&notifier, &topic, &policy, &random)
        .await
        .unwrap_err();
    assert!(matches!(error, NotifyError::Refused(_)), "{error:?}");
    assert_eq!(notifier.sends(), 2);

    // Every number sitrep accepts is E.164, which is all moto checks of a number, so the SMS
    // refusal here is a text over SNS's 1,600 bytes.
    let mut sms = page(
        "ana",
        Contact::Sms(PhoneNumber::parse("+15550000000").unwrap()),
    );
    sms.sms = "x".repeat(1601);
    let error = deliver(&notifier, &sms, &policy, &random)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, NotifyError::Refused(detail) if detail.contains("SMS for ana") && !detail.contains("+15550000000")),
        "{error:?}"
    );
    assert_eq!(notifier.sends(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_endpoint_is_unavailable_after_the_configured_attempts() {
    moto_endpoint();
    // The functions' client, pointed at a port nobody listens on. The endpoint is set on
    // the SNS config: AWS_ENDPOINT_URL would win over one set on the shared SdkConfig.
    let functions_client = client_without_retries(&shared::aws::lambda_sdk_config().await);
    let dead = aws_sdk_sns::Client::from_conf(
        functions_client
            .config()
            .to_builder()
            .endpoint_url("http://127.0.0.1:1")
            .build(),
    );
    let notifier = Counting::new(SnsNotifier::new(
        dead,
        "arn:aws:sns:us-east-1:123456789012:sitrep-pages",
    ));
    let policy = RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(1),
        max: Duration::from_millis(5),
    };
    for contact in [
        Contact::Sms(PhoneNumber::parse("+15550000001").unwrap()),
        Contact::Email("ana@acme.example".into()),
    ] {
        let before = notifier.sends();
        let error = deliver(
            &notifier,
            &page("ana", contact),
            &policy,
            &SeededRandom::new(4),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, NotifyError::Unavailable(detail) if detail.contains("Connection refused")),
            "{error:?}"
        );
        assert_eq!(notifier.sends() - before, 3, "every attempt was made");
    }
}
