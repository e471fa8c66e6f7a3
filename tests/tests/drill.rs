//! The complete outage drill (`sitrep demo --fast`) as a test: every beat of the story must
//! happen, in order, with figures that make sense, the status page must show the outage
//! while it lasts and the recovery after it, and no customer may be answered twice.

use std::time::Duration;

use sitrep_cli::demo::{self, Pace};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_drill_tells_the_whole_story_once() {
    let started = std::time::Instant::now();
    let report = demo::run(Pace::Fast).await.expect("the drill completes");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the fast drill takes well under a minute, took {:?}",
        started.elapsed()
    );

    // Detection within the thresholds: three failed checks, a cycle a second, plus slack.
    assert!(report.detection >= Duration::from_secs(2), "{report:#?}");
    assert!(report.detection <= Duration::from_secs(6), "{report:#?}");
    let paged = report.paged.expect("on-call was paged");
    assert!(
        paged <= report.detection + Duration::from_secs(2),
        "{report:#?}"
    );
    let update = report.first_update.expect("a public update went out");
    assert!(update <= report.resolution, "{report:#?}");
    let acknowledged = report.acknowledged.expect("someone acknowledged");
    assert!(acknowledged > paged, "the acknowledgement follows the page");
    assert!(
        report.pages >= 2,
        "the first page and its escalation: {report:#?}"
    );
    assert!(report.resolution > report.detection);
    assert!(report.recovery <= Duration::from_secs(5), "{report:#?}");

    // Customers: each one who asked got exactly one answer, and one follow-up at most.
    assert!(
        report.replies.len() >= 3,
        "the customers asking whether it is down were answered: {report:#?}"
    );
    for (who, replies) in &report.replies {
        assert_eq!(*replies, 1, "@{who} was answered {replies} times");
    }
    for (who, follow_ups) in &report.follow_ups {
        assert_eq!(*follow_ups, 1, "@{who} was followed up {follow_ups} times");
    }
    assert!(
        report
            .replies
            .keys()
            .all(|who| report.follow_ups.contains_key(who)),
        "everyone answered heard about the recovery: {report:#?}"
    );
    for (post, replies) in &report.replies_per_post {
        assert!(*replies <= 2, "post {post} got {replies} posts in reply");
    }
    assert_eq!(report.first_responses.len(), report.replies.len());
    let p50 = report.first_response_percentile(50.0).unwrap();
    let p99 = report.first_response_percentile(99.0).unwrap();
    assert!(p50 <= p99, "{p50:?} > {p99:?}");
    assert!(
        p99 <= report.resolution + Duration::from_secs(5),
        "{report:#?}"
    );
    assert!(report.public_updates >= 1);

    // The status page, as customers saw it.
    let during = report.status_during.as_deref().unwrap_or("");
    assert!(
        during.contains("Outage") || during.contains("outage") || during.contains("Major"),
        "the status page showed the outage: {during:?}"
    );
    assert!(report.page_showed_incident, "the page listed the incident");
    assert_eq!(
        report.status_after.as_deref(),
        Some("All Systems Operational"),
        "{report:#?}"
    );
}
