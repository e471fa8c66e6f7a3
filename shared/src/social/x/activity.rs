//! X's Account Activity deliveries, read into sitrep's [`Mention`]s.
//!
//! A delivery is one JSON object: `for_user_id` (the subscribed account it is for) and one
//! array per kind of event. Only `tweet_create_events` carries posts — v1.1 Tweet objects,
//! not the v2 shape the mentions timeline answers in ([`super::wire`]) — and sitrep reads
//! only those; likes, follows, direct messages, deletes and flags such as
//! `user_has_blocked` are left alone. The posts are read into the same [`Mention`] the
//! timeline yields, so the webhook and the poll store the same thing:
//!
//! - the text is `extended_tweet.full_text` when the post is `truncated` (the short `text`
//!   then ends in "…" and a link), with the `&amp;`, `&lt;` and `&gt;` X writes in v1.1
//!   text decoded;
//! - `retweeted_status` makes a repost, `quoted_status` a quote, `in_reply_to_status_id_str`
//!   a reply, in that order, as the timeline's `referenced_tweets` do;
//! - ids are read from the `*_str` fields (a 64-bit id does not survive a JavaScript
//!   number), and `created_at` is v1.1's `Wed Oct 10 20:19:24 +0000 2018`;
//! - a v1.1 post says which post it answers but not which thread: the conversation is left
//!   unknown, and readers fall back to the replied-to post.
//!
//! One post X sent in a shape sitrep cannot read must not cost the others in the same
//! delivery: each element is read on its own, and the unreadable ones are reported with the
//! reason instead of failing the delivery. No error message quotes the payload.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{distinct_except, snowflake_time};
use crate::social::{Author, Mention, MentionKind, Platform};

/// v1.1's `created_at` format: `Wed Oct 10 20:19:24 +0000 2018`.
const CREATED_AT: &str = "%a %b %d %H:%M:%S %z %Y";

/// The longest id X writes: a 64-bit number has at most 20 digits.
const MAX_ID_DIGITS: usize = 20;

/// The longest handle accepted (X allows 15; older accounts and the API's own tests are
/// left some room).
const MAX_HANDLE: usize = 50;

/// Why a delivery cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// The body is not JSON.
    #[error("the delivery is not JSON ({0})")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the delivery is not a JSON object")]
    NotAnObject,
    /// `for_user_id` is missing or is not a user id.
    #[error("the delivery names no subscribed account (`for_user_id`)")]
    NoAccount,
    /// `tweet_create_events` is there but is not an array.
    #[error("`tweet_create_events` is not an array")]
    TweetsNotAnArray,
}

/// A post of a delivery that could not be read into a mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedTweet {
    /// Its position in `tweet_create_events`.
    pub index: usize,
    /// Its id, when that much could be read.
    pub id: Option<String>,
    /// What was wrong with it (field names only, never its content).
    pub reason: String,
}

/// One Account Activity delivery, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscribed account the delivery is for (an X user id).
    pub for_user_id: String,
    /// The posts of `tweet_create_events` that could be read, in delivery order. The
    /// account's own posts and plain reposts are among them: deciding what is a customer's
    /// mention is the mentions service's job, as for a polled page.
    pub mentions: Vec<Mention>,
    /// The posts that could not be read.
    pub malformed: Vec<MalformedTweet>,
    /// The other kinds of events the delivery carried (`favorite_events`…), left alone.
    pub ignored: Vec<String>,
}

/// Reads a delivery's raw body. Fails only when the body as a whole is unreadable; a bad
/// post is reported in [`Delivery::malformed`] beside the good ones.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, ActivityError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        // The position and category say enough; serde's message can quote the input.
        ActivityError::NotJson(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let object = value.as_object().ok_or(ActivityError::NotAnObject)?;
    let for_user_id = id_of(object, "for_user_id")
        .ok()
        .flatten()
        .ok_or(ActivityError::NoAccount)?;
    let tweets: &[Value] = match object.get("tweet_create_events") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(tweets)) => tweets,
        Some(_) => return Err(ActivityError::TweetsNotAnArray),
    };
    let mut mentions = Vec::with_capacity(tweets.len());
    let mut malformed = Vec::new();
    for (index, tweet) in tweets.iter().enumerate() {
        match mention_of(tweet, &for_user_id) {
            Ok(mention) => mentions.push(mention),
            Err(reason) => malformed.push(MalformedTweet {
                index,
                id: tweet
                    .as_object()
                    .and_then(|t| id_of(t, "id").ok().flatten()),
                reason,
            }),
        }
    }
    let ignored = object
        .keys()
        .filter(|k| k.ends_with("_events") && *k != "tweet_create_events")
        .cloned()
        .collect();
    Ok(Delivery {
        for_user_id,
        mentions,
        malformed,
        ignored,
    })
}

/// One v1.1 Tweet object as a mention of the account `own_id`; the error says which field
/// was wrong.
fn mention_of(tweet: &Value, own_id: &str) -> Result<Mention, String> {
    let tweet = tweet.as_object().ok_or("the post is not a JSON object")?;
    let id = id_of(tweet, "id")?.ok_or("the post has no `id_str`")?;
    let user = object(tweet, "user")?.ok_or("the post has no `user`")?;
    let author_id = id_of(user, "id")?.ok_or("the post's `user` has no `id_str`")?;
    let handle = text(user, "screen_name")?
        .filter(|h| is_handle(h))
        .ok_or("the post's `user.screen_name` is missing or not an X handle")?;
    let name = text(user, "name")?.filter(|n| !n.is_empty());

    let truncated = flag(tweet, "truncated")?;
    // The full text and the entities that index it are in `extended_tweet` only when the
    // classic `text` was cut to 140 characters.
    let extended = if truncated {
        object(tweet, "extended_tweet")?
    } else {
        None
    };
    let full_text = match extended {
        Some(extended) => text(extended, "full_text")?,
        None => None,
    };
    // `full_text` at the top level is the shape of `tweet_mode=extended` reads.
    let raw_text = match full_text {
        Some(full) => full,
        None => text(tweet, "full_text")?
            .or(text(tweet, "text")?)
            .ok_or("the post has no `text`")?,
    };
    let entities = match extended
        .map(|e| object(e, "entities"))
        .transpose()?
        .flatten()
    {
        Some(entities) => Some(entities),
        None => object(tweet, "entities")?,
    };

    let created_at = match text(tweet, "created_at")? {
        Some(written) => DateTime::parse_from_str(written, CREATED_AT)
            .map(|at| at.with_timezone(&Utc))
            .ok(),
        None => None,
    }
    // An id carries its creation time, to the millisecond.
    .or_else(|| snowflake_time(&id))
    .ok_or("the post has no readable `created_at`")?;

    let in_reply_to = id_of(tweet, "in_reply_to_status_id")?;
    let reposts = !matches!(tweet.get("retweeted_status"), None | Some(Value::Null));
    let quotes = !matches!(tweet.get("quoted_status"), None | Some(Value::Null))
        || (flag(tweet, "is_quote_status")? && id_of(tweet, "quoted_status_id")?.is_some());
    let kind = if reposts {
        MentionKind::Repost
    } else if quotes {
        MentionKind::Quote
    } else if in_reply_to.is_some() {
        MentionKind::Reply
    } else {
        MentionKind::Mention
    };

    let named: Vec<String> = entities
        .and_then(|e| e.get("user_mentions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        // A mention entity X could not resolve to an account names nobody to keep out.
        .filter_map(|m| m.as_object().and_then(|m| id_of(m, "id").ok().flatten()))
        .collect();
    let others = distinct_except(
        named.iter().map(String::as_str),
        [author_id.as_str(), own_id],
    )
    .into_iter()
    .map(str::to_owned)
    .collect();

    Ok(Mention {
        platform: Platform::X,
        url: format!("https://x.com/{handle}/status/{id}"),
        author: Author {
            id: author_id,
            handle: handle.to_owned(),
            name: name.map(str::to_owned),
        },
        text: decode_entities(raw_text),
        created_at,
        lang: text(tweet, "lang")?
            .filter(|l| !l.is_empty() && *l != "und")
            .map(str::to_owned),
        conversation: None,
        in_reply_to,
        kind,
        others,
        id,
    })
}

/// The id in `<name>_str` (or, failing that, the number in `<name>`): `None` when absent or
/// null, an error when it is there and is not an X id.
fn id_of(object: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    let written = match object.get(&format!("{name}_str")) {
        None | Some(Value::Null) => match object.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => None,
        },
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => None,
    };
    // Ids end up in store keys and links: only decimal digits are taken.
    match written {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_ID_DIGITS
                && id.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(Some(id))
        }
        _ => Err(format!("`{name}_str` is not an X id")),
    }
}

/// The object at `name`: `None` when absent or null, an error when it is something else.
fn object<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(format!("`{name}` is not an object")),
    }
}

/// The string at `name`: `None` when absent or null, an error when it is something else.
fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

/// The boolean at `name`, false when absent or null.
fn flag(object: &Map<String, Value>, name: &str) -> Result<bool, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("`{name}` is not a boolean")),
    }
}

/// Whether `handle` can be an X screen name: it ends up in the mention's link.
fn is_handle(handle: &str) -> bool {
    !handle.is_empty()
        && handle.len() <= MAX_HANDLE
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// v1.1 text with the three entities X escapes decoded; `&amp;` last, so that an escaped
/// entity (`&amp;lt;`, a customer who typed `&lt;`) is decoded once.
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    /// A delivery for the account `acme` (user id 42): a truncated reply that names a third
    /// party, a quote, a repost, the account's own reply, a post without its `user`, and a
    /// post tagged `und`.
    const DELIVERY: &str = include_str!("fixtures/account-activity-tweets.json");

    fn delivery() -> Delivery {
        parse_delivery(DELIVERY.as_bytes()).unwrap()
    }

    #[test]
    fn a_delivery_yields_its_readable_posts_and_reports_the_rest() {
        let delivery = delivery();
        assert_eq!(delivery.for_user_id, "42");
        let ids: Vec<&str> = delivery.mentions.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "2124805702022070273",
                "2124805823656886274",
                "2124805928514486275",
                "2124806033372086276",
                "2124806209532854278"
            ]
        );
        assert_eq!(
            delivery.malformed,
            [MalformedTweet {
                index: 4,
                id: Some("2124806159201206277".into()),
                reason: "the post has no `user`".into(),
            }]
        );
        assert!(delivery.ignored.is_empty());
    }

    #[test]
    fn a_truncated_reply_reads_in_full_with_entities_decoded() {
        let reply = &delivery().mentions[0];
        assert_eq!(
            reply.text,
            "@acme @bob_ops Since this morning every call to your API answers 503 & the \
             dashboard shows nothing <at all>. Is it down? We have customers waiting on us and \
             no word from you since the first errors at 08:40."
        );
        assert_eq!(reply.kind, MentionKind::Reply);
        assert_eq!(reply.in_reply_to.as_deref(), Some("2124804649251766279"));
        assert_eq!(
            reply.author,
            Author {
                id: "1001".into(),
                handle: "dev_jane".into(),
                name: Some("Jane Dev".into()),
            }
        );
        assert_eq!(
            reply.url,
            "https://x.com/dev_jane/status/2124805702022070273"
        );
        assert_eq!(
            reply.created_at,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 2, 11).unwrap()
        );
        assert_eq!(reply.lang.as_deref(), Some("en"));
        assert_eq!(
            reply.others,
            ["1002"],
            "the account itself is no third party"
        );
        assert_eq!(reply.conversation, None);
        assert_eq!(reply.platform, Platform::X);
    }

    #[test]
    fn references_decide_the_kind_as_on_the_timeline() {
        let delivery = delivery();
        let kinds: Vec<MentionKind> = delivery.mentions.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MentionKind::Reply,
                MentionKind::Quote,
                MentionKind::Repost,
                MentionKind::Reply,
                MentionKind::Mention
            ]
        );
        let own = &delivery.mentions[3];
        assert_eq!(
            own.author.id, "42",
            "the account's own post is read, not judged"
        );
        let plain = &delivery.mentions[4];
        assert_eq!(plain.lang, None, "`und` is no language");
        assert_eq!(plain.author.name, None, "an empty name is no name");
        assert!(plain.others.is_empty());
    }

    #[test]
    fn v1_dates_parse_and_a_missing_one_comes_from_the_id() {
        let at = DateTime::parse_from_str("Wed Oct 10 20:19:24 +0000 2018", CREATED_AT)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(at.timestamp(), 1_539_202_764);
        let body = json!({"for_user_id": "42", "tweet_create_events": [
            {"id_str": "2124806209532854278", "text": "@acme hi",
             "user": {"id_str": "7", "screen_name": "dev"}},
            {"id_str": "2124806209532854278", "text": "@acme hi", "created_at": "yesterday",
             "user": {"id_str": "7", "screen_name": "dev"}}
        ]});
        let delivery = parse_delivery(body.to_string().as_bytes()).unwrap();
        let from_id = Utc.with_ymd_and_hms(2026, 11, 23, 10, 4, 12).unwrap();
        assert_eq!(delivery.mentions[0].created_at, from_id);
        assert_eq!(delivery.mentions[1].created_at, from_id);
    }

    #[test]
    fn a_bad_post_costs_only_itself() {
        let good = json!({"id_str": "2124806209532854278", "text": "@acme is the api down?",
            "created_at": "Mon Nov 23 10:04:12 +0000 2026",
            "user": {"id_str": "7", "screen_name": "dev"}});
        let body = json!({"for_user_id": "42", "tweet_create_events": [
            "not a post",
            {"text": "@acme no id", "user": {"id_str": "7", "screen_name": "dev"}},
            {"id_str": "12ab", "text": "x", "user": {"id_str": "7", "screen_name": "dev"}},
            {"id_str": "5", "text": 17, "user": {"id_str": "7", "screen_name": "dev"}},
            {"id_str": "6", "text": "x", "user": {"id_str": "7", "screen_name": "a/b"}},
            {"id_str": "8", "text": "x", "user": {"screen_name": "dev"}},
            {"id_str": "9", "text": "x", "truncated": "yes",
             "user": {"id_str": "7", "screen_name": "dev"}},
            good
        ]});
        let delivery = parse_delivery(body.to_string().as_bytes()).unwrap();
        assert_eq!(delivery.mentions.len(), 1);
        assert_eq!(delivery.mentions[0].text, "@acme is the api down?");
        let malformed: Vec<(usize, Option<&str>)> = delivery
            .malformed
            .iter()
            .map(|m| (m.index, m.id.as_deref()))
            .collect();
        assert_eq!(
            malformed,
            [
                (0, None),
                (1, None),
                (2, None),
                (3, Some("5")),
                (4, Some("6")),
                (5, Some("8")),
                (6, Some("9"))
            ]
        );
        let reasons: Vec<&str> = delivery
            .malformed
            .iter()
            .map(|m| m.reason.as_str())
            .collect();
        assert_eq!(reasons[0], "the post is not a JSON object");
        assert_eq!(reasons[2], "`id_str` is not an X id");
        assert_eq!(reasons[3], "`text` is not a string");
        for reason in reasons {
            assert!(
                !reason.contains("no id"),
                "the payload is never quoted: {reason}"
            );
        }
    }

    #[test]
    fn other_events_and_flags_are_left_alone() {
        let body = json!({
            "for_user_id": "42",
            "is_blocked_by": "false",
            "user_has_blocked": false,
            "favorite_events": [{"id": "a7ba59eab0bfcba386f7acedac279542",
                "created_at": "Mon Nov 23 10:04:12 +0000 2026", "timestamp_ms": 1795428252000u64,
                "favorited_status": {"id_str": "1"}, "user": {"id_str": "7"}}],
            "follow_events": [{"type": "follow", "created_timestamp": "1795428252000"}],
            "direct_message_events": [{"type": "message_create", "id": "954491830116155396"}]
        });
        let delivery = parse_delivery(body.to_string().as_bytes()).unwrap();
        assert!(delivery.mentions.is_empty());
        assert!(delivery.malformed.is_empty());
        assert_eq!(
            delivery.ignored,
            ["direct_message_events", "favorite_events", "follow_events"]
        );
    }

    #[test]
    fn an_unreadable_delivery_is_an_error_that_quotes_nothing() {
        let secret_looking = b"{\"for_user_id\": \"42\", \"tweet_create_events\": [SECRET";
        let error = parse_delivery(secret_looking).unwrap_err();
        assert!(matches!(error, ActivityError::NotJson(_)), "{error:?}");
        assert!(!error.to_string().contains("SECRET"), "{error}");
        assert_eq!(parse_delivery(b"[]"), Err(ActivityError::NotAnObject));
        assert_eq!(
            parse_delivery(b"{\"tweet_create_events\": []}"),
            Err(ActivityError::NoAccount)
        );
        assert_eq!(
            parse_delivery(b"{\"for_user_id\": \"me\"}"),
            Err(ActivityError::NoAccount)
        );
        assert_eq!(
            parse_delivery(b"{\"for_user_id\": \"42\", \"tweet_create_events\": {}}"),
            Err(ActivityError::TweetsNotAnArray)
        );
        let numeric = parse_delivery(b"{\"for_user_id\": 42}").unwrap();
        assert_eq!(numeric.for_user_id, "42");
    }
}
