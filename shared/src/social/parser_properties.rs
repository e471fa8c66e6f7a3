//! Property tests of the parsers of what platforms send: X's mentions page, Mastodon's
//! notifications, Bluesky's notifications and getPosts, and Mastodon's HTML. Whatever the
//! bytes, the JSON or the HTML, they never panic; and on a page where good items sit beside
//! items of the wrong shape, every good item is kept, in order, and every other one is
//! reported as skipped.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::bluesky::{parse_notifications, parse_reply_ref};
use super::mastodon::{html_to_text, parse_page};
use super::transport::Response;
use super::x::wire::{self, Post};

/// Enough cases to find a panic in a parser, few enough to run in a few seconds.
fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep, with strings that look like the fields parsers read.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("2026-11-23T10:00:00Z".to_owned()),
            Just("+262142-01-01T00:00:00Z".to_owned()),
            Just("-262143-12-31T23:59:59Z".to_owned()),
            Just("at://did:plc:a/app.bsky.feed.post/3k".to_owned()),
            Just("mention".to_owned()),
            "\\PC{0,12}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("id".to_owned()),
            Just("text".to_owned()),
            Just("type".to_owned()),
            Just("status".to_owned()),
            Just("created_at".to_owned()),
            Just("uri".to_owned()),
            Just("cid".to_owned()),
            Just("author".to_owned()),
            Just("record".to_owned()),
            Just("reason".to_owned()),
            Just("indexedAt".to_owned()),
            Just("posts".to_owned()),
            Just("data".to_owned()),
            Just("notifications".to_owned()),
            "[a-z_]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn response(body: Vec<u8>) -> Response {
    Response {
        status: 200,
        headers: reqwest::header::HeaderMap::new(),
        body: body.into(),
    }
}

/// An X post that reads, numbered `n`, with a plausible time.
fn x_post(n: u64) -> Value {
    json!({"id": format!("18600000000{n:08}"), "text": format!("@acme down? {n}"),
           "author_id": "7", "created_at": "2026-11-23T10:00:00.000Z"})
}

/// A Mastodon mention notification that reads, numbered `n`.
fn mastodon_mention(n: u64) -> Value {
    json!({"id": format!("{}", 1000 + n), "type": "mention",
           "status": {"id": format!("9{n}"), "uri": format!("https://m.example/s/{n}"),
                      "created_at": "2026-11-23T10:00:00.000Z", "content": "<p>down?</p>",
                      "account": {"id": "1", "acct": "a"}}})
}

/// A Bluesky mention notification that reads, numbered `n`.
fn bluesky_mention(n: u64) -> Value {
    json!({"uri": format!("at://did:plc:a/app.bsky.feed.post/3k{n}"), "cid": "c",
           "author": {"did": "did:plc:a", "handle": "a.test"}, "reason": "mention",
           "record": {"text": "down?"}, "indexedAt": "2026-11-23T10:00:00Z"})
}

/// A page's items: good ones (`Ok(n)`) and any JSON (`Err`) interleaved.
fn mixed() -> impl Strategy<Value = Vec<Result<u64, Value>>> {
    prop::collection::vec(
        prop_oneof![(0u64..1000).prop_map(Ok), any_json().prop_map(Err),],
        0..12,
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn x_pages_never_panic_on_any_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = wire::parse_mentions(200, &body, None);
        let _ = wire::parse_created(201, &body, None);
        let _ = wire::parse_mentions(403, &body, None);
    }

    #[test]
    fn x_pages_never_panic_on_any_json(value in any_json()) {
        let body = value.to_string();
        let _ = wire::parse_mentions(200, body.as_bytes(), None);
        let _ = wire::parse_mentions(200, json!({"data": [value]}).to_string().as_bytes(), None);
    }

    #[test]
    fn x_pages_keep_every_good_post_beside_malformed_ones(items in mixed()) {
        // A generated item that happens to read as a post is a good one too.
        let reads = |value: &Value| {
            value.is_object() && serde_json::from_value::<Post>(value.clone()).is_ok()
        };
        let data: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Ok(n) => x_post(n * 100 + i as u64),
                Err(value) => value.clone(),
            })
            .collect();
        let expected: Vec<String> = data
            .iter()
            .filter(|value| reads(value))
            .map(|value| value["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        let body = json!({"data": data, "meta": {"result_count": data.len()}}).to_string();
        let page = wire::parse_mentions(200, body.as_bytes(), None).unwrap();
        let kept: Vec<String> = page.posts.iter().map(|p| p.id.clone()).collect();
        prop_assert_eq!(kept, expected);
        prop_assert_eq!(page.posts.len() + page.skipped.len(), data.len());
    }

    #[test]
    fn mastodon_pages_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..512),
        value in any_json(),
    ) {
        let _ = parse_page(&response(body), Some("1"));
        let _ = parse_page(&response(value.to_string().into_bytes()), Some("1"));
        let _ = parse_page(&response(json!([value]).to_string().into_bytes()), None);
    }

    #[test]
    fn mastodon_pages_keep_every_good_mention_beside_malformed_ones(items in mixed()) {
        let notifications: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Ok(n) => mastodon_mention(n * 100 + i as u64),
                Err(value) => value.clone(),
            })
            .collect();
        let good: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item.as_ref().ok().map(|n| format!("9{}", n * 100 + i as u64)))
            .collect();
        let body = Value::Array(notifications).to_string().into_bytes();
        let page = parse_page(&response(body), Some("1")).unwrap();
        let kept: Vec<&str> = page
            .mentions
            .iter()
            .map(|m| m.id.as_str())
            .filter(|id| good.iter().any(|g| g == id))
            .collect();
        prop_assert_eq!(kept, good.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn bluesky_answers_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..512),
        value in any_json(),
    ) {
        let parent = "at://did:plc:a/app.bsky.feed.post/3k";
        let _ = parse_notifications(&body);
        let _ = parse_reply_ref(&body, parent);
        let text = value.to_string();
        let _ = parse_notifications(text.as_bytes());
        let _ = parse_reply_ref(text.as_bytes(), parent);
        let wrapped = json!({"notifications": [value.clone()], "cursor": "c"}).to_string();
        let _ = parse_notifications(wrapped.as_bytes()).map(|page| page.into_page(None, None));
        let _ = parse_reply_ref(json!({"posts": [value]}).to_string().as_bytes(), parent);
    }

    #[test]
    fn bluesky_pages_keep_every_good_notification_beside_malformed_ones(items in mixed()) {
        let notifications: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Ok(n) => bluesky_mention(n * 100 + i as u64),
                Err(value) => value.clone(),
            })
            .collect();
        let good: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                item.as_ref()
                    .ok()
                    .map(|n| format!("at://did:plc:a/app.bsky.feed.post/3k{}", n * 100 + i as u64))
            })
            .collect();
        let body = json!({"notifications": notifications}).to_string();
        let page = parse_notifications(body.as_bytes()).unwrap();
        prop_assert_eq!(page.notifications.len() + page.skipped.len(), items.len());
        let kept: Vec<&str> = page
            .notifications
            .iter()
            .map(|n| n.uri.as_str())
            .filter(|uri| good.iter().any(|g| g == uri))
            .collect();
        prop_assert_eq!(kept, good.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn html_to_text_never_panics_on_any_text(text in "\\PC{0,200}") {
        let plain = html_to_text(&text);
        prop_assert_eq!(plain.trim(), plain.as_str());
    }

    #[test]
    fn html_to_text_never_panics_on_html_like_text(
        parts in prop::collection::vec(
            prop_oneof![
                Just("<p>".to_owned()),
                Just("</p>".to_owned()),
                Just("<br />".to_owned()),
                Just("<a href=\"https://x.example\">".to_owned()),
                Just("</a>".to_owned()),
                Just("<span class=\"invisible\">".to_owned()),
                Just("<!--".to_owned()),
                Just("-->".to_owned()),
                Just("<li>".to_owned()),
                Just("&amp;".to_owned()),
                Just("&#x1F600;".to_owned()),
                Just("&#99999999999;".to_owned()),
                Just("&".to_owned()),
                Just("<".to_owned()),
                Just(">".to_owned()),
                "\\PC{0,8}",
            ],
            0..40,
        ),
    ) {
        let html = parts.concat();
        let plain = html_to_text(&html);
        prop_assert_eq!(plain.trim(), plain.as_str());
        // Text without markup or entities passes through as it is, trimmed.
        if !html.contains(['<', '&']) {
            prop_assert_eq!(plain.as_str(), html.trim());
        }
    }
}
