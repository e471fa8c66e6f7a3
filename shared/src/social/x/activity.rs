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
//!
//! What is read is checked as strictly as X writes it, so that a body X did not write is
//! refused whole rather than half-believed:
//!
//! - at most [`MAX_DELIVERY`] bytes, and the first byte is `{` (X sends a compact object; a
//!   CRC token can never begin so, see [`super::webhook::CrcToken`]);
//! - no object repeats a key: JSON readers disagree on which of two `for_user_id`s wins;
//! - two fields that say the same thing agree: `id` and `id_str` (and every other id pair),
//!   and `created_at`, `timestamp_ms` and the time a snowflake id carries;
//! - every readable post addresses the account the delivery is for: it names it
//!   (`entities.user_mentions`), replies to it, quotes or reposts its post, or is its own;
//! - a `created_at` outside the years [`FIRST_YEAR`]..=[`LAST_YEAR`] is not read: chrono
//!   accepts a year of `+262142`, after which every addition overflows.

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Utc};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{distinct_except, snowflake_time};
use crate::social::{Author, Mention, MentionKind, Platform};

/// v1.1's `created_at` format: `Wed Oct 10 20:19:24 +0000 2018`.
const CREATED_AT: &str = "%a %b %d %H:%M:%S %z %Y";

/// The largest delivery read. A v1.1 post with its quoted post, both users and extended
/// entities is under 16 KiB, and X sends one or a few events a delivery; a larger body is
/// refused before it is checked or parsed (the poll still fetches its posts).
pub const MAX_DELIVERY: usize = 64 * 1024;

/// The earliest year a post can be from: Twitter launched in 2006.
pub const FIRST_YEAR: i32 = 2006;

/// The latest year read from a date: v1.1 writes four-digit years.
pub const LAST_YEAR: i32 = 9999;

/// How far apart a post's `created_at`, `timestamp_ms` and id time may be and still be one
/// time: `created_at` is cut to the second, the other two are milliseconds.
const TIME_TOLERANCE: TimeDelta = TimeDelta::seconds(2);

/// The longest id X writes: a 64-bit number has at most 20 digits.
const MAX_ID_DIGITS: usize = 20;

/// The longest handle accepted (X allows 15; older accounts and the API's own tests are
/// left some room).
const MAX_HANDLE: usize = 50;

/// The message of the parse error for a repeated key; it names no key.
const DUPLICATE_KEY: &str = "a key is repeated";

/// Why a delivery cannot be read at all, or is refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    /// The body is larger than [`MAX_DELIVERY`].
    #[error("the delivery is larger than {MAX_DELIVERY} bytes")]
    TooLarge,
    /// The body is not JSON.
    #[error("the delivery is not JSON ({0})")]
    NotJson(String),
    /// An object in the body repeats a key.
    #[error("the delivery repeats a key in an object")]
    DuplicateKey,
    /// The body is not a JSON object (or does not begin with `{`).
    #[error("the delivery is not a JSON object")]
    NotAnObject,
    /// `for_user_id` is missing or is not a user id.
    #[error("the delivery names no subscribed account (`for_user_id`)")]
    NoAccount,
    /// `tweet_create_events` is there but is not an array.
    #[error("`tweet_create_events` is not an array")]
    TweetsNotAnArray,
    /// Two fields that say the same thing disagree.
    #[error("the delivery contradicts itself{}: {reason}", post_at(*.index))]
    Inconsistent {
        /// The post's position in `tweet_create_events`, if it is in a post.
        index: Option<usize>,
        /// Which fields (names only, never their content).
        reason: String,
    },
    /// A post neither names the account the delivery is for, nor replies to, quotes or
    /// reposts it, nor is its own.
    #[error("post {index} of the delivery does not address its account")]
    NotAddressed {
        /// The post's position in `tweet_create_events`.
        index: usize,
    },
}

/// " in post N", for messages.
fn post_at(index: Option<usize>) -> String {
    index.map(|i| format!(" in post {i}")).unwrap_or_default()
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

/// What is wrong with a post or a field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Flaw {
    /// Not in a shape sitrep reads: the post is skipped, the poll fetches it.
    Unreadable(String),
    /// Two fields disagree: the delivery is refused.
    Inconsistent(String),
}

impl From<&str> for Flaw {
    fn from(reason: &str) -> Self {
        Self::Unreadable(reason.to_owned())
    }
}

impl From<String> for Flaw {
    fn from(reason: String) -> Self {
        Self::Unreadable(reason)
    }
}

/// Reads a delivery's raw body. Fails when the body as a whole is unreadable, or when
/// anything in it is refused (see the module's list); a post merely in a shape sitrep cannot
/// read is reported in [`Delivery::malformed`] beside the good ones.
pub fn parse_delivery(body: &[u8]) -> Result<Delivery, ActivityError> {
    if body.len() > MAX_DELIVERY {
        return Err(ActivityError::TooLarge);
    }
    if body.first() != Some(&b'{') {
        return Err(ActivityError::NotAnObject);
    }
    let Strict(value) = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() && e.to_string().starts_with(DUPLICATE_KEY) {
            return ActivityError::DuplicateKey;
        }
        // The position and category say enough; serde's message can quote the input.
        ActivityError::NotJson(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    let object = value.as_object().ok_or(ActivityError::NotAnObject)?;
    let for_user_id = match id_of(object, "for_user_id") {
        Ok(Some(id)) => id,
        Ok(None) | Err(Flaw::Unreadable(_)) => return Err(ActivityError::NoAccount),
        Err(Flaw::Inconsistent(reason)) => {
            return Err(ActivityError::Inconsistent {
                index: None,
                reason,
            });
        }
    };
    let tweets: &[Value] = match object.get("tweet_create_events") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(tweets)) => tweets,
        Some(_) => return Err(ActivityError::TweetsNotAnArray),
    };
    let mut mentions = Vec::with_capacity(tweets.len());
    let mut malformed = Vec::new();
    for (index, tweet) in tweets.iter().enumerate() {
        match post_of(tweet, &for_user_id) {
            Ok(Post {
                addressed: false, ..
            }) => return Err(ActivityError::NotAddressed { index }),
            Ok(Post { mention, .. }) => mentions.push(mention),
            Err(Flaw::Unreadable(reason)) => malformed.push(MalformedTweet {
                index,
                id: tweet
                    .as_object()
                    .and_then(|t| id_of(t, "id").ok().flatten()),
                reason,
            }),
            Err(Flaw::Inconsistent(reason)) => {
                return Err(ActivityError::Inconsistent {
                    index: Some(index),
                    reason,
                });
            }
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

/// A post, read, and whether it addresses the account the delivery is for.
struct Post {
    mention: Mention,
    addressed: bool,
}

/// One v1.1 Tweet object as a mention of the account `own_id`; the error says which field
/// was wrong.
fn post_of(tweet: &Value, own_id: &str) -> Result<Post, Flaw> {
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

    let created_at = time_of(tweet, &id)?;

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

    let mut named: Vec<String> = Vec::new();
    let mentioned = entities
        .and_then(|e| e.get("user_mentions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object);
    for entity in mentioned {
        match id_of(entity, "id") {
            Ok(Some(user)) => named.push(user),
            // A mention entity X could not resolve to an account names nobody.
            Ok(None) | Err(Flaw::Unreadable(_)) => {}
            Err(inconsistent) => return Err(inconsistent),
        }
    }
    let addressed = author_id == own_id
        || named.iter().any(|n| n == own_id)
        || id_of(tweet, "in_reply_to_user_id")?.as_deref() == Some(own_id)
        || author_of(tweet, "quoted_status").as_deref() == Some(own_id)
        || author_of(tweet, "retweeted_status").as_deref() == Some(own_id);
    let others = distinct_except(
        named.iter().map(String::as_str),
        [author_id.as_str(), own_id],
    )
    .into_iter()
    .map(str::to_owned)
    .collect();

    let mention = Mention {
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
    };
    Ok(Post { mention, addressed })
}

/// When the post `id` was made: `created_at`, else `timestamp_ms`, else the time its
/// snowflake id carries. Those that can be read must agree.
fn time_of(tweet: &Map<String, Value>, id: &str) -> Result<DateTime<Utc>, Flaw> {
    // An unreadable `created_at` or `timestamp_ms` is left out, as a missing one is: the id
    // carries the time to the millisecond.
    let written = text(tweet, "created_at")?.and_then(parse_created_at);
    let stamp = match tweet.get("timestamp_ms") {
        Some(Value::String(ms)) => ms.parse::<i64>().ok(),
        Some(Value::Number(ms)) => ms.as_i64(),
        _ => None,
    }
    .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
    .filter(is_readable_year);
    let from_id = snowflake_time(id).filter(is_readable_year);
    let times = [
        ("created_at", written),
        ("timestamp_ms", stamp),
        ("the id's time", from_id),
    ];
    for (i, (first, a)) in times.iter().enumerate() {
        for (second, b) in &times[i + 1..] {
            if let (Some(a), Some(b)) = (a, b)
                && (*a - *b).abs() > TIME_TOLERANCE
            {
                return Err(Flaw::Inconsistent(format!(
                    "`{first}` and {second} disagree"
                )));
            }
        }
    }
    Ok(written
        .or(stamp)
        .or(from_id)
        .ok_or("the post has no readable `created_at`")?)
}

/// A v1.1 `created_at`, if it is one and its year is one a post can have.
fn parse_created_at(written: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(written, CREATED_AT)
        .ok()
        .map(|at| at.with_timezone(&Utc))
        .filter(is_readable_year)
}

/// Whether `at` is within [`FIRST_YEAR`]..=[`LAST_YEAR`], where time arithmetic is safe.
fn is_readable_year(at: &DateTime<Utc>) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&at.year())
}

/// The author of the post embedded at `name` (`quoted_status`, `retweeted_status`), if it can
/// be read: only to tell whether the embedding post addresses the account.
fn author_of(tweet: &Map<String, Value>, name: &str) -> Option<String> {
    let embedded = object(tweet, name).ok().flatten()?;
    let user = object(embedded, "user").ok().flatten()?;
    id_of(user, "id").ok().flatten()
}

/// The id in `<name>_str` or `<name>`: `None` when both are absent or null, unreadable when
/// one is there and is not an X id, inconsistent when both are there and differ.
fn id_of(object: &Map<String, Value>, name: &str) -> Result<Option<String>, Flaw> {
    let written = id_at(object.get(&format!("{name}_str")), name)?;
    let number = id_at(object.get(name), name)?;
    match (written, number) {
        (Some(written), Some(number)) if written != number => Err(Flaw::Inconsistent(format!(
            "`{name}` and `{name}_str` differ"
        ))),
        (written, number) => Ok(written.or(number)),
    }
}

/// One id field: a decimal string or a non-negative integer.
fn id_at(value: Option<&Value>, name: &str) -> Result<Option<String>, Flaw> {
    let written = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(|n| n.to_string()),
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
        _ => Err(Flaw::Unreadable(format!("`{name}_str` is not an X id"))),
    }
}

/// The object at `name`: `None` when absent or null, an error when it is something else.
fn object<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, Flaw> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(_) => Err(format!("`{name}` is not an object").into()),
    }
}

/// The string at `name`: `None` when absent or null, an error when it is something else.
fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, Flaw> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{name}` is not a string").into()),
    }
}

/// The boolean at `name`, false when absent or null.
fn flag(object: &Map<String, Value>, name: &str) -> Result<bool, Flaw> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("`{name}` is not a boolean").into()),
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

/// A JSON value read with every object's keys distinct: serde_json's own `Value` keeps the
/// last of two equal keys without a word.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

/// Builds a [`Strict`] value; serde_json's recursion limit bounds its depth.
struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity, so the fallback is never taken.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Strict::deserialize(deserializer).map(|Strict(v)| v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(Strict(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE_KEY));
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// Who the test posts name: the account, user id 42.
    fn naming_the_account() -> Value {
        json!({"user_mentions": [{"id_str": "42", "screen_name": "acme"}]})
    }

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
             "user": {"id_str": "7", "screen_name": "dev"}, "entities": naming_the_account()},
            {"id_str": "2124806209532854278", "text": "@acme hi", "created_at": "yesterday",
             "user": {"id_str": "7", "screen_name": "dev"}, "entities": naming_the_account()}
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
            "user": {"id_str": "7", "screen_name": "dev"}, "entities": naming_the_account()});
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
        assert_eq!(parse_delivery(b""), Err(ActivityError::NotAnObject));
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

    /// A post `id` by user 7 at `created_at`, naming the account, with `extra` fields.
    fn post(id: &str, created_at: &str, extra: Value) -> Value {
        let mut post = json!({"id_str": id, "id": id.parse::<u64>().unwrap(),
            "created_at": created_at, "text": "@acme is the api down?",
            "user": {"id": 7, "id_str": "7", "screen_name": "dev"},
            "entities": naming_the_account()});
        for (name, value) in extra.as_object().unwrap() {
            post[name] = value.clone();
        }
        post
    }

    /// The id and `created_at` of a post made at 10:04:12 on 23 November 2026.
    const ID: &str = "2124806209532854278";
    const AT: &str = "Mon Nov 23 10:04:12 +0000 2026";

    fn parse(value: &Value) -> Result<Delivery, ActivityError> {
        parse_delivery(value.to_string().as_bytes())
    }

    #[test]
    fn only_a_body_that_begins_as_an_object_and_fits_is_read() {
        let body = json!({"for_user_id": "42", "tweet_create_events": [post(ID, AT, json!({}))]})
            .to_string();
        assert!(parse_delivery(body.as_bytes()).is_ok());
        for lead in [" ", "\n", "\t", "\u{feff}"] {
            assert_eq!(
                parse_delivery(format!("{lead}{body}").as_bytes()),
                Err(ActivityError::NotAnObject),
                "{lead:?}"
            );
        }
        let mut padded = body.clone().into_bytes();
        padded.pop();
        padded.extend(std::iter::repeat_n(b' ', MAX_DELIVERY - padded.len() - 1));
        padded.push(b'}');
        assert_eq!(padded.len(), MAX_DELIVERY);
        assert!(parse_delivery(&padded).is_ok(), "whitespace inside is JSON");
        padded.insert(1, b' ');
        assert_eq!(parse_delivery(&padded), Err(ActivityError::TooLarge));
    }

    #[test]
    fn a_repeated_key_refuses_the_delivery() {
        for body in [
            r#"{"for_user_id":"42","for_user_id":"43"}"#,
            r#"{"for_user_id":"42","tweet_create_events":[],"tweet_create_events":[]}"#,
            r#"{"for_user_id":"42","tweet_create_events":[{"id_str":"1","id_str":"2"}]}"#,
            r#"{"for_user_id":"42","x":{"a":{"b":1,"b":1}}}"#,
        ] {
            assert_eq!(
                parse_delivery(body.as_bytes()),
                Err(ActivityError::DuplicateKey),
                "{body}"
            );
        }
        let error = ActivityError::DuplicateKey.to_string();
        assert!(!error.contains("for_user_id"), "no key is named: {error}");
    }

    #[test]
    fn fields_that_disagree_refuse_the_delivery() {
        let contradictions = [
            (
                "for_user_id",
                json!({"for_user_id": "42", "for_user_id_str": "43"}),
                None,
            ),
            (
                "id",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({"id": 2_124_806_209_532_854_279u64}))]}),
                Some(0),
            ),
            (
                "user id",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({"user": {"id": 8, "id_str": "7", "screen_name": "dev"}}))]}),
                Some(0),
            ),
            (
                "reply",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({"in_reply_to_status_id": 5, "in_reply_to_status_id_str": "6"}))]}),
                Some(0),
            ),
            (
                "mention entity",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({"entities": {"user_mentions": [{"id": 43, "id_str": "42"}]}}))]}),
                Some(0),
            ),
            (
                "created_at against the id",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, "Mon Nov 23 10:09:12 +0000 2026", json!({}))]}),
                Some(0),
            ),
            (
                "timestamp_ms against created_at",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({"timestamp_ms": "1795428552000"}))]}),
                Some(0),
            ),
            (
                "second post",
                json!({"for_user_id": "42", "tweet_create_events": [
                post(ID, AT, json!({})),
                post("2124806209532854279", "Sun Nov 22 10:04:12 +0000 2026", json!({}))]}),
                Some(1),
            ),
        ];
        for (what, body, at) in contradictions {
            match parse(&body) {
                Err(ActivityError::Inconsistent { index, reason }) => {
                    assert_eq!(index, at, "{what}: {reason}");
                }
                other => panic!("{what}: {other:?}"),
            }
        }
        // Agreeing pairs, and the second of `created_at` cut off, are one time.
        let agreeing = post(
            ID,
            AT,
            json!({"timestamp_ms": "1795428252999",
            "user": {"id": 7, "id_str": "7", "screen_name": "dev"}}),
        );
        let body = json!({"for_user_id": 42, "for_user_id_str": "42",
            "tweet_create_events": [agreeing]});
        assert_eq!(parse(&body).unwrap().mentions.len(), 1);
    }

    #[test]
    fn a_post_that_does_not_address_the_account_refuses_the_delivery() {
        let elsewhere = json!({"user_mentions": [{"id_str": "43", "screen_name": "other"}]});
        let unaddressed = post(ID, AT, json!({"entities": elsewhere}));
        let body = json!({"for_user_id": "42", "tweet_create_events": [
            post("2124806209532854279", AT, json!({})), unaddressed.clone()]});
        assert_eq!(parse(&body), Err(ActivityError::NotAddressed { index: 1 }));
        let nobody = post(ID, AT, json!({"entities": null}));
        let body = json!({"for_user_id": "42", "tweet_create_events": [nobody]});
        assert_eq!(parse(&body), Err(ActivityError::NotAddressed { index: 0 }));

        // A reply to the account, a quote or repost of its post, and its own post address it
        // without naming it.
        let addressing = [
            json!({"in_reply_to_status_id_str": "1", "in_reply_to_user_id_str": "42"}),
            json!({"quoted_status": {"id_str": "1", "user": {"id_str": "42"}}}),
            json!({"retweeted_status": {"id_str": "1", "user": {"id_str": "42"}}}),
            json!({"user": {"id_str": "42", "screen_name": "acme"}}),
        ];
        for extra in addressing {
            let mut fields = extra.as_object().unwrap().clone();
            fields.insert("entities".into(), json!(null));
            let body = json!({"for_user_id": "42",
                "tweet_create_events": [post(ID, AT, Value::Object(fields))]});
            assert!(parse(&body).is_ok(), "{extra}");
        }
        // A quote of another account's post names nobody.
        let quote = post(
            ID,
            AT,
            json!({"entities": elsewhere.clone(),
            "quoted_status": {"id_str": "1", "user": {"id_str": "43"}}}),
        );
        let body = json!({"for_user_id": "42", "tweet_create_events": [quote]});
        assert_eq!(parse(&body), Err(ActivityError::NotAddressed { index: 0 }));
    }

    #[test]
    fn a_date_past_what_arithmetic_holds_is_not_read() {
        // chrono reads this, and every addition to it after overflows.
        let far = "Wed Oct 10 20:19:24 +0000 +262142";
        let parsed = DateTime::parse_from_str(far, CREATED_AT).unwrap();
        assert_eq!(
            parsed
                .with_timezone(&Utc)
                .checked_add_signed(TimeDelta::days(366)),
            None
        );
        assert_eq!(parse_created_at(far), None);
        assert_eq!(parse_created_at("Wed Oct 10 20:19:24 -2359 +262142"), None);
        assert_eq!(parse_created_at("Wed Oct 10 20:19:24 +0000 0018"), None);
        assert_eq!(parse_created_at("Wed Oct 10 20:19:24 +0000 2005"), None);
        assert!(parse_created_at("Wed Oct 10 20:19:24 +0000 2018").is_some());

        // In a delivery, the post's time comes from its id instead, and arithmetic is safe.
        let body = json!({"for_user_id": "42", "tweet_create_events": [
            post(ID, far, json!({})),
            post("2124806209532854279", AT, json!({"timestamp_ms": "8210298412800000"})),
        ]});
        let delivery = parse(&body).unwrap();
        let from_id = Utc.with_ymd_and_hms(2026, 11, 23, 10, 4, 12).unwrap();
        for mention in &delivery.mentions {
            assert_eq!(mention.created_at, from_id);
            assert!(
                mention
                    .created_at
                    .checked_add_signed(TimeDelta::days(36_500))
                    .is_some()
            );
        }
        // An id past what a 64-bit number holds is no id, so no time comes from it.
        let huge = json!({"for_user_id": "42", "tweet_create_events": [
            {"id_str": "99999999999999999999", "created_at": far, "text": "@acme",
             "user": {"id_str": "7", "screen_name": "dev"}, "entities": naming_the_account()}]});
        let delivery = parse(&huge).unwrap();
        assert!(delivery.mentions.is_empty());
        assert_eq!(
            delivery.malformed[0].reason,
            "the post has no readable `created_at`"
        );
    }

    /// A JSON value of any shape, its object keys drawn from the names a delivery uses so
    /// that generated values reach deep into the reader.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            any::<String>().prop_map(Value::from),
            "[0-9]{1,22}".prop_map(Value::from),
            Just(Value::from(AT)),
            Just(Value::from("Wed Oct 10 20:19:24 +0000 +262142")),
            Just(Value::from(ID)),
            Just(Value::from("42")),
        ];
        let key = prop_oneof![
            Just("for_user_id".to_owned()),
            Just("tweet_create_events".to_owned()),
            Just("id".to_owned()),
            Just("id_str".to_owned()),
            Just("user".to_owned()),
            Just("screen_name".to_owned()),
            Just("text".to_owned()),
            Just("full_text".to_owned()),
            Just("truncated".to_owned()),
            Just("extended_tweet".to_owned()),
            Just("entities".to_owned()),
            Just("user_mentions".to_owned()),
            Just("created_at".to_owned()),
            Just("timestamp_ms".to_owned()),
            Just("retweeted_status".to_owned()),
            Just("quoted_status".to_owned()),
            Just("in_reply_to_status_id_str".to_owned()),
            Just("in_reply_to_user_id_str".to_owned()),
            Just("lang".to_owned()),
            "[a-z_]{1,16}",
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_delivery(&body);
            let mut object = b"{".to_vec();
            object.extend_from_slice(&body);
            let _ = parse_delivery(&object);
        }

        #[test]
        fn arbitrary_json_never_panics(value in json_value()) {
            let _ = parse_delivery(value.to_string().as_bytes());
        }

        /// Deliveries of arbitrary posts: read or refused, never a panic, and every post
        /// read is dated within the years where time arithmetic is safe.
        #[test]
        fn arbitrary_posts_never_panic_and_stay_in_safe_years(
            for_user_id in prop_oneof![Just(json!("42")), json_value()],
            posts in prop::collection::vec(json_value(), 0..4),
            own in prop::collection::vec(
                (
                    prop_oneof![
                        Just(json!(AT)),
                        Just(json!("Wed Oct 10 20:19:24 +0000 +262142")),
                        "[A-Za-z0-9 :+-]{0,40}".prop_map(Value::from),
                        json_value(),
                    ],
                    prop_oneof![
                        Just(json!(null)),
                        any::<i64>().prop_map(Value::from),
                        "[0-9-]{1,22}".prop_map(Value::from),
                        json_value(),
                    ],
                    prop_oneof![
                        Just(json!({"id_str": "7", "screen_name": "dev"})),
                        Just(json!({"id": 7, "id_str": "8", "screen_name": "dev"})),
                        json_value(),
                    ],
                    prop_oneof![Just(naming_the_account()), json_value()],
                ),
                0..3,
            ),
        ) {
            let mut tweets = posts;
            // Posts close to valid, with arbitrary values in the fields that matter.
            for (created_at, timestamp, user, entities) in own {
                tweets.push(post(ID, AT, json!({
                    "created_at": created_at, "timestamp_ms": timestamp,
                    "user": user, "entities": entities})));
            }
            let body = json!({"for_user_id": for_user_id, "tweet_create_events": tweets});
            if let Ok(delivery) = parse(&body) {
                for mention in delivery.mentions {
                    prop_assert!(is_readable_year(&mention.created_at));
                    prop_assert!(mention.created_at.checked_add_signed(TimeDelta::days(3650)).is_some());
                }
            }
        }
    }
}
