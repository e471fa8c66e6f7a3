//! Paging exactly once on DynamoDB (moto): a stream record replayed by several concurrent
//! invocations pages the on-call person once, and overlapping sweeps escalate once.

use std::sync::Arc;

use chrono::Duration;
use shared::clock::{Clock, ManualClock};
use shared::config::Config;
use shared::incident::{self, ComponentStatus};
use shared::notify::MessageKind;
use shared::notify::console::ConsoleNotifier;
use shared::oncall::paging::Pager;
use shared::random::SeededRandom;
use shared::store::{ItemChange, Store, keys};
use sitrep_tests::{dynamo_store, epoch, oncall_config_text};

fn pager(
    config: &Arc<Config>,
    store: &Arc<dyn Store>,
    clock: &ManualClock,
    notifier: &ConsoleNotifier,
    seed: u64,
) -> Pager {
    Pager::new(
        Arc::clone(config),
        Arc::clone(store),
        Arc::new(clock.clone()),
        Arc::new(notifier.clone()),
        Arc::new(SeededRandom::new(seed)),
        None,
    )
}

fn pages_to(notifier: &ConsoleNotifier, person: &str) -> usize {
    notifier
        .sent()
        .iter()
        .filter(|m| m.kind == MessageKind::Page && m.person.as_str() == person)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replayed_records_and_concurrent_sweeps_page_each_step_once() {
    let text = oncall_config_text("", "");
    let config = Arc::new(Config::parse(&text).unwrap_or_else(|e| panic!("{e}")));
    // Several rounds on fresh tables, so the races are won by different sides.
    for round in 0..4u64 {
        let clock = ManualClock::new(epoch());
        let store = dynamo_store(&clock).await;
        // One notifier shared by every invocation: it sees every publish any of them makes.
        let notifier = ConsoleNotifier::new();
        let (a, b, c) = (
            pager(&config, &store, &clock, &notifier, round * 3),
            pager(&config, &store, &clock, &notifier, round * 3 + 1),
            pager(&config, &store, &clock, &notifier, round * 3 + 2),
        );
        let changes = incident::transition(
            &*store,
            &config.components[0],
            ComponentStatus::Down,
            Some("HTTP 503".into()),
            clock.now(),
        )
        .await
        .unwrap();
        let opened = changes
            .iter()
            .find_map(|c| match c {
                incident::Change::Opened(i) => Some(i.id.clone()),
                _ => None,
            })
            .unwrap();
        let key = keys::incident(&opened);
        let change = ItemChange {
            id: "49600000000000000000000000001".into(),
            old: None,
            new: store.get(&key).await.unwrap(),
            key,
        };
        let batch = std::slice::from_ref(&change);
        // The same record delivered to three overlapping invocations, and a sweep racing them.
        let (ra, rb, rc, _) =
            tokio::join!(a.handle(batch), b.handle(batch), c.handle(batch), a.sweep());
        for report in [&ra, &rb, &rc] {
            assert!(
                report.failed.is_empty(),
                "round {round}: {:?}",
                report.errors
            );
        }
        assert_eq!(
            pages_to(&notifier, "bob"),
            2,
            "round {round}: bob's SMS and email, once"
        );

        // Step 2 is due: three sweeps at the same moment page carol once.
        clock.advance(Duration::minutes(5));
        let (sa, sb, sc) = tokio::join!(a.sweep(), b.sweep(), c.sweep());
        for report in [&sa, &sb, &sc] {
            assert!(
                report.errors.is_empty(),
                "round {round}: {:?}",
                report.errors
            );
        }
        assert_eq!(pages_to(&notifier, "carol"), 1, "round {round}");
        assert_eq!(pages_to(&notifier, "bob"), 2, "round {round}");

        // Replays after the fact change nothing either.
        let (_, _) = tokio::join!(a.handle(batch), b.sweep());
        assert_eq!(notifier.sent().len(), 3, "round {round}");
    }
}
