//! SNS topics and SQS queues on moto, for tests that read back what sitrep published: a
//! queue subscribed to a topic receives each message as a subscriber would.

use aws_sdk_sqs::types::QueueAttributeName;

/// A name no other test (or test process) shares.
pub fn unique(name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A new topic named after `name`.
pub async fn topic(sns: &aws_sdk_sns::Client, name: &str) -> String {
    sns.create_topic()
        .name(unique(name))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap()
}

/// A new queue subscribed to `topic`, with raw delivery or SNS's JSON envelope (what an
/// email subscription sees), and an optional filter policy (JSON text).
pub async fn subscribed_queue(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic: &str,
    name: &str,
    raw: bool,
    filter: Option<&str>,
) -> String {
    let url = sqs
        .create_queue()
        .queue_name(unique(name))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()
        .remove(&QueueAttributeName::QueueArn)
        .unwrap();
    let mut subscribe = sns
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", raw.to_string());
    if let Some(policy) = filter {
        subscribe = subscribe.attributes("FilterPolicy", policy);
    }
    subscribe.send().await.unwrap();
    url
}
