//! The X-specific reply rules end to end, on the manual clock: customers' posts go onto the
//! stand-in X API (`XTimeline`), the mentions cycle polls them with the real X client into
//! the embedded store, and the store's change feed delivers them to the reply service, which
//! answers with the real X client (`POST /2/tweets`, OAuth 1.0a) — the drill's path.
//!
//! Covered: a reply's `reply.in_reply_to_tweet_id` and `exclude_reply_user_ids`; posts that
//! did not summon the account go to a person; duplicate content makes the service try other
//! wording, and hand off once every variant is refused; a lost answer is found among the
//! account's posts instead of posting twice; X's 429 holds the outbox until the reset; and
//! sitrep's own 100-per-15-minutes budget holds the 101st reply until the next window.
//! Quotes are not covered: the stand-in timeline cannot produce one.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as TimeDelta, Utc};
use shared::clock::{Clock, ManualClock};
use shared::config::{ComponentId, Config};
use shared::incident::{self, ComponentStatus};
use shared::mentions::StoredMention;
use shared::mentions::cycle::MentionCycle;
use shared::random::{Random, SeededRandom};
use shared::reply::handoff::LogSupport;
use shared::reply::job::{self, JobState, StoredJob};
use shared::reply::response::{self, Outcome};
use shared::reply::service::{BatchReport, ReplyEvent, Responder};
use shared::reply::template::Situation;
use shared::secrets::EnvironmentSecrets;
use shared::social::Platform;
use shared::social::connect::ClientDeps;
use shared::social::transport::{RetryPolicy, Transport};
use shared::store::sqlite::SqliteStore;
use shared::store::{Store, keys};
use sitrep_cli::stream::LocalStream;
use sitrep_cli::x_timeline::{AccountPost, XTimeline, user_id_of};
use sitrep_tests::epoch;
use tokio::time::Instant;

/// The vendor's X account.
const ACCOUNT_ID: &str = "42";

/// The OAuth 1.0a user context posting needs.
const SECRET: &str = r#"{"consumer_key":"key","consumer_secret":"secret","access_token":"42-token","access_token_secret":"token-secret"}"#;

/// X's refusal of a text the account already posted, as X sends it.
const DUPLICATE: &str = r#"{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}"#;

fn config_text(x_base: &str, replies: &str) -> String {
    format!(
        r#"
[service]
name = "Acme Cloud"
status_url = "https://status.acme.example"

[[components]]
id = "api"
name = "Public API"
keywords = ["api"]

[[components]]
id = "login"
name = "Login"
keywords = ["login"]

[[accounts]]
id = "acme-x"
platform = "x"
handle = "acme"
user_id = "{ACCOUNT_ID}"
base_url = "{x_base}"
credentials = "sitrep/acme-x"

[replies]
mode = "live"
{replies}
"#
    )
}

/// Always draws zero: the service then picks the first template variant it was not refused,
/// so a test knows which wording comes next.
struct FirstVariant;

impl Random for FirstVariant {
    fn next_u64(&self) -> u64 {
        0
    }
}

struct Rig {
    clock: ManualClock,
    timeline: XTimeline,
    store: Arc<dyn Store>,
    stream: LocalStream,
    mentions: MentionCycle,
    support: Arc<LogSupport>,
    config: Arc<Config>,
    responder: Responder,
}

/// A rig at [`epoch`] with an open incident on `api`; `replies` ends the `[replies]` table.
async fn rig(replies: &str) -> Rig {
    rig_choosing(replies, Arc::new(SeededRandom::new(7))).await
}

/// [`rig`], the service choosing its wording with `choice`.
async fn rig_choosing(replies: &str, choice: Arc<dyn Random>) -> Rig {
    let clock = ManualClock::new(epoch());
    let timeline = XTimeline::start(ACCOUNT_ID, epoch() + TimeDelta::minutes(15))
        .await
        .unwrap()
        .with_account_username("acme");
    let text = config_text(&timeline.base_url(), replies);
    let config = Arc::new(Config::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")));
    let sqlite = Arc::new(SqliteStore::in_memory(Arc::new(clock.clone())).unwrap());
    let stream = LocalStream::open(Arc::clone(&sqlite)).await.unwrap();
    let store: Arc<dyn Store> = sqlite;
    let random = Arc::new(SeededRandom::new(11));
    let transport = Transport::new(
        RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            timeout: Duration::from_secs(2),
        },
        random.clone(),
    )
    .unwrap();
    let deps = ClientDeps {
        transport,
        store: Arc::clone(&store),
        clock: Arc::new(clock.clone()),
        random,
    };
    let secrets = Arc::new(EnvironmentSecrets::new().with("sitrep/acme-x", SECRET));
    let mentions = MentionCycle::new(Arc::clone(&config), secrets.clone(), deps.clone()).await;
    let support = Arc::new(LogSupport::new());
    let responder = Responder::new(Arc::clone(&config), secrets, deps, choice, support.clone());
    let mut rig = Rig {
        clock,
        timeline,
        store,
        stream,
        mentions,
        support,
        config,
        responder,
    };
    let component = rig
        .config
        .component(&ComponentId::parse("api").unwrap())
        .unwrap()
        .clone();
    incident::transition(
        rig.store.as_ref(),
        &component,
        ComponentStatus::Down,
        Some("probe failed".into()),
        rig.clock.now(),
    )
    .await
    .unwrap();
    // The incident's change goes through the stream like any other.
    rig.deliver().await;
    rig
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

impl Rig {
    /// `author` posts `text` on X now; returns the post's id.
    fn say(&self, author: &str, text: &str) -> String {
        self.timeline.post(author, text, self.clock.now())
    }

    /// One minute of sitrep: the mentions cycle polls X, then the stream delivers what
    /// changed to the reply service, which drains the outbox.
    async fn cycle(&mut self) -> BatchReport {
        let polled = self.mentions.run(deadline()).await;
        assert!(polled.errors.is_empty(), "{:?}", polled.errors);
        self.deliver().await
    }

    async fn deliver(&mut self) -> BatchReport {
        self.timeline.set_now(self.clock.now());
        let (report, _) = self
            .stream
            .deliver(Some(&self.responder), None, deadline())
            .await
            .unwrap();
        assert!(
            report.failed.is_empty() && report.errors.is_empty(),
            "{report:#?}"
        );
        report
    }

    /// The outbox drained with no new changes, as the next invocation would.
    async fn drain(&self) -> BatchReport {
        self.timeline.set_now(self.clock.now());
        self.responder.drain(deadline()).await
    }

    /// What the account posted in reply to `post`.
    fn replies_to(&self, post: &str) -> Vec<AccountPost> {
        self.timeline
            .account_posts()
            .into_iter()
            .filter(|p| p.in_reply_to.as_deref() == Some(post))
            .collect()
    }

    /// The customers' posts the account replied to, in the order it replied.
    fn answered(&self) -> Vec<String> {
        self.timeline
            .account_posts()
            .into_iter()
            .filter_map(|p| p.in_reply_to)
            .collect()
    }

    async fn mention(&self, post: &str) -> StoredMention {
        self.store
            .get(&keys::mention(Platform::X, post))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("mention {post} was not stored"))
            .decode()
            .unwrap()
    }

    async fn outcome(&self, post: &str) -> (Outcome, Option<String>) {
        let mention = self.mention(post).await;
        let record = response::load(self.store.as_ref(), mention.created_at, Platform::X, post)
            .await
            .unwrap()
            .expect("a response record");
        (record.outcome, record.reason)
    }

    /// The reply job to the author of `post`.
    async fn job(&self, post: &str) -> StoredJob {
        let mention = self.mention(post).await;
        let incident =
            incident::open_incident(self.store.as_ref(), &ComponentId::parse("api").unwrap())
                .await
                .unwrap();
        job::load(
            self.store.as_ref(),
            &keys::reply_job(Platform::X, &mention.author_id, incident.as_deref()),
        )
        .await
        .unwrap()
        .expect("a reply job")
    }

    fn handoff_reasons(&self) -> Vec<String> {
        self.support
            .handed_off()
            .into_iter()
            .map(|h| h.reason)
            .collect()
    }
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    rfc3339.parse().unwrap()
}

#[tokio::test]
async fn a_reply_answers_the_post_and_keeps_the_other_named_accounts_out() {
    let mut rig = rig("").await;
    rig.clock.advance(TimeDelta::minutes(2));
    let post = rig.say(
        "dana",
        "@acme @partnerco is the api down? cc @Dana @PartnerCo",
    );
    rig.clock.advance(TimeDelta::seconds(30));
    let report = rig.cycle().await;

    let posts = rig.timeline.account_posts();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let reply = &posts[0];
    assert_eq!(reply.in_reply_to.as_deref(), Some(post.as_str()));
    assert!(reply.text.starts_with("@dana "), "{}", reply.text);
    assert!(reply.text.contains("Public API"), "{}", reply.text);
    assert!(
        !reply.text.to_lowercase().contains("partnerco"),
        "{}",
        reply.text
    );
    assert_eq!(
        reply.exclude_reply_user_ids,
        [user_id_of("partnerco")],
        "only the third party, once; never the author ({}) or the account ({ACCOUNT_ID})",
        user_id_of("dana")
    );
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["reply"]["in_reply_to_tweet_id"], post.as_str());
    assert_eq!(
        body["reply"]["exclude_reply_user_ids"],
        serde_json::json!([user_id_of("partnerco")])
    );
    assert_eq!(rig.timeline.post_attempts(), 1);
    assert_eq!(rig.outcome(&post).await, (Outcome::Answered, None));
    let sent = report
        .events
        .iter()
        .find_map(|e| match e {
            ReplyEvent::Sent {
                response_time,
                recovered,
                url,
                ..
            } => Some((*response_time, *recovered, url.clone())),
            _ => None,
        })
        .expect("a sent event");
    assert_eq!(
        sent,
        (
            Some(TimeDelta::seconds(30)),
            false,
            Some(format!("https://x.com/i/web/status/{}", reply.id))
        )
    );
}

#[tokio::test]
async fn posts_that_do_not_summon_the_account_go_to_a_person() {
    let mut rig = rig("").await;
    let other_handle = rig.say(
        "dee_sre",
        "@AcmeSupport is the api down? our calls all fail since 10:00",
    );
    let thread_only = rig.say("eli", "same here, is the api down for everyone?");
    let summoned = rig.say("fay", "hey @ACME is the api down? every call fails");
    rig.clock.advance(TimeDelta::seconds(30));
    rig.cycle().await;

    assert_eq!(rig.answered(), [summoned], "only the post naming @acme");
    for post in [&other_handle, &thread_only] {
        assert_eq!(
            rig.outcome(post).await,
            (Outcome::HandedOff, Some("not_summoned".into())),
            "{post}"
        );
    }
    let handed = rig.support.handed_off();
    assert_eq!(handed.len(), 2, "{handed:#?}");
    for handoff in &handed {
        assert_eq!(handoff.reason, "not_summoned");
    }
    let mut urls: Vec<Option<String>> = handed.iter().map(|h| h.post_url.clone()).collect();
    urls.sort_unstable();
    assert_eq!(
        urls,
        [
            Some(format!("https://x.com/dee_sre/status/{other_handle}")),
            Some(format!("https://x.com/eli/status/{thread_only}")),
        ]
    );
    assert_eq!(rig.timeline.post_attempts(), 1);
}

#[tokio::test]
async fn duplicate_content_is_answered_in_other_words_once() {
    let mut rig = rig_choosing("", Arc::new(FirstVariant)).await;
    let first = rig.say("ann", "@acme is the api down?");
    rig.clock.advance(TimeDelta::seconds(30));
    rig.cycle().await;
    let ann = rig.replies_to(&first);
    assert_eq!(ann.len(), 1);
    let wording = ann[0].text.strip_prefix("@ann ").unwrap().to_owned();

    // A person already posted, as the account, the words sitrep would pick for dana.
    let collides = format!("@dana {wording}");
    let posted = reqwest::Client::new()
        .post(format!("{}2/tweets", rig.timeline.base_url()))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "text": collides }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status().as_u16(), 201);
    let attempts_before = rig.timeline.post_attempts();

    let second = rig.say("dana", "@acme api down for us too?");
    rig.clock.advance(TimeDelta::seconds(30));
    let report = rig.cycle().await;
    assert!(
        report.events.iter().any(|e| matches!(
            e,
            ReplyEvent::Failed { detail, .. } if detail.contains("duplicate")
        )),
        "{report:#?}"
    );
    let dana = rig.replies_to(&second);
    assert_eq!(dana.len(), 1, "posted once: {dana:#?}");
    assert!(dana[0].text.starts_with("@dana "), "{}", dana[0].text);
    assert_ne!(dana[0].text, collides, "other words than the refused ones");
    assert_eq!(
        rig.timeline.post_attempts() - attempts_before,
        2,
        "the refused attempt, then the one that went out"
    );
    let job = rig.job(&second).await.job;
    assert_eq!(job.refused, [0]);
    assert_eq!(job.variant, Some(1));
    assert_eq!(rig.outcome(&second).await.0, Outcome::Answered);
    assert!(rig.support.handed_off().is_empty());
}

#[tokio::test]
async fn when_every_wording_is_refused_a_person_answers_and_sitrep_stops() {
    let mut rig = rig("").await;
    let variants = rig
        .config
        .replies
        .templates
        .language("en")
        .variants(Situation::Incident)
        .len();
    assert_eq!(
        variants, 3,
        "the English `incident` variants of replies.toml"
    );
    for _ in 0..variants {
        rig.timeline.fail_next_post(403, DUPLICATE);
    }
    let post = rig.say("eve", "@acme is the api down?");
    rig.clock.advance(TimeDelta::seconds(30));
    rig.cycle().await;
    rig.clock.advance(TimeDelta::minutes(1));
    rig.drain().await;

    assert_eq!(
        rig.timeline.post_attempts(),
        variants,
        "one attempt per variant"
    );
    assert!(rig.timeline.account_posts().is_empty());
    assert_eq!(rig.handoff_reasons(), ["refused"]);
    assert_eq!(
        rig.outcome(&post).await,
        (Outcome::HandedOff, Some("refused".into()))
    );
    let job = rig.job(&post).await.job;
    assert!(
        matches!(&job.state, JobState::HandedOff { reason, .. } if reason == "refused"),
        "{:?}",
        job.state
    );
    let mut refused = job.refused.clone();
    refused.sort_unstable();
    assert_eq!(refused, (0..variants).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_lost_answer_is_found_among_the_accounts_posts_and_not_posted_again() {
    let mut rig = rig("").await;
    let post = rig.say("ann", "@acme is the api down?");
    rig.clock.advance(TimeDelta::seconds(30));
    rig.timeline.drop_next_post_after_posting();
    let report = rig.cycle().await;
    assert!(
        matches!(rig.job(&post).await.job.state, JobState::Ambiguous { .. }),
        "{report:#?}"
    );
    assert_eq!(
        rig.replies_to(&post).len(),
        1,
        "X took it; its answer was lost"
    );
    assert_eq!(rig.outcome(&post).await.0, Outcome::Queued);

    rig.clock.advance(TimeDelta::minutes(1));
    let report = rig.drain().await;
    assert!(
        report.events.iter().any(|e| matches!(
            e,
            ReplyEvent::Sent {
                recovered: true,
                ..
            }
        )),
        "{report:#?}"
    );
    let replies = rig.replies_to(&post);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert_eq!(rig.timeline.post_attempts(), 1, "never sent twice");
    let job = rig.job(&post).await.job;
    assert!(
        matches!(&job.state, JobState::Posted { id, .. } if *id == replies[0].id),
        "{:?}",
        job.state
    );
    assert_eq!(rig.outcome(&post).await, (Outcome::Answered, None));
    rig.drain().await;
    assert_eq!(rig.timeline.post_attempts(), 1);
}

#[tokio::test]
async fn xs_rate_limit_holds_the_outbox_until_the_reset_then_replies_go_out_in_arrival_order() {
    let mut rig = rig("").await;
    let reset = at("2026-11-23T10:05:00Z");
    rig.timeline.set_post_window(0, reset);
    let ann = rig.say("ann", "@acme is the api down?");
    rig.clock.advance(TimeDelta::seconds(30));
    let report = rig.cycle().await;
    assert!(
        report
            .events
            .iter()
            .any(|e| matches!(e, ReplyEvent::Waiting { .. } | ReplyEvent::Failed { .. })),
        "{report:#?}"
    );
    let mut posts = vec![ann];
    for author in ["bob", "cat"] {
        rig.clock.advance(TimeDelta::minutes(1));
        posts.push(rig.say(author, "@acme is the api down?"));
        rig.clock.advance(TimeDelta::seconds(30));
        let report = rig.cycle().await;
        assert!(
            report
                .events
                .iter()
                .any(|e| matches!(e, ReplyEvent::Waiting { until, .. } if *until == reset)),
            "{report:#?}"
        );
    }
    assert!(
        rig.timeline.account_posts().is_empty(),
        "nothing while paused"
    );
    assert_eq!(
        rig.timeline.post_attempts(),
        1,
        "only the attempt X refused"
    );

    rig.clock.set(reset + TimeDelta::seconds(1));
    rig.timeline
        .set_post_window(100, reset + TimeDelta::minutes(15));
    rig.drain().await;
    assert_eq!(rig.answered(), posts, "in arrival order");
    for post in &posts {
        assert_eq!(rig.outcome(post).await.0, Outcome::Answered);
    }
}

#[tokio::test]
async fn sitreps_own_budget_sends_100_replies_per_15_minutes_and_the_101st_in_the_next_window() {
    let mut rig = rig("max_age = \"20m\"").await;
    let mut posts: Vec<String> = (0..100)
        .map(|i| {
            let post = rig.say(&format!("customer{i}"), "@acme is the api down?");
            rig.clock.advance(TimeDelta::milliseconds(400));
            post
        })
        .collect();
    rig.clock.set(at("2026-11-23T10:00:45Z"));
    rig.cycle().await;
    rig.clock.set(at("2026-11-23T10:00:50Z"));
    let last = rig.say("customer100", "@acme is the api down?");
    posts.push(last.clone());
    rig.clock.set(at("2026-11-23T10:00:55Z"));
    let report = rig.cycle().await;

    let window_end = at("2026-11-23T10:15:00Z");
    assert!(
        report.events.iter().any(|e| matches!(
            e,
            ReplyEvent::Waiting { until, .. } if *until == window_end
        )),
        "{report:#?}"
    );
    let answered = rig.answered();
    assert_eq!(answered.len(), 100);
    assert!(!answered.contains(&last), "the 101st waits");
    assert_eq!(
        rig.timeline.post_attempts(),
        100,
        "sitrep held it back: X was never asked"
    );
    assert_eq!(rig.outcome(&last).await.0, Outcome::Queued);

    rig.clock.set(window_end + TimeDelta::seconds(1));
    rig.timeline
        .set_post_window(100, window_end + TimeDelta::minutes(15));
    rig.drain().await;
    let answered = rig.answered();
    assert_eq!(answered.last(), Some(&last));
    let mut distinct = answered.clone();
    distinct.sort_unstable();
    distinct.dedup();
    posts.sort_unstable();
    assert_eq!(distinct, posts, "every customer answered once");
    assert_eq!(answered.len(), 101, "no duplicates");
    assert_eq!(rig.timeline.post_attempts(), 101);
    assert_eq!(rig.outcome(&last).await, (Outcome::Answered, None));
    assert!(rig.support.handed_off().is_empty());
}
