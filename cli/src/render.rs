//! Plain-text rendering of probe results for the terminal.

use chrono::{DateTime, Utc};
use shared::incident::{Change, human_duration};
use shared::probe::cycle::CycleReport;
use shared::probe::outcome::Health;

/// Pads each column to its widest cell; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                out.push_str(&cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                out.push_str(&cell);
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for row in rows {
        out.push_str(&line(row.clone()));
    }
    out
}

/// One cycle as a table of checks, then the components and any changes.
pub fn cycle_table(report: &CycleReport) -> String {
    let rows: Vec<Vec<String>> = report
        .checks
        .iter()
        .map(|c| {
            vec![
                c.check.to_string(),
                c.kind.to_string(),
                c.outcome.health.to_string().to_uppercase(),
                format!("{} ms", c.outcome.elapsed_ms),
                c.outcome.reason.clone().unwrap_or_else(|| c.target.clone()),
            ]
        })
        .collect();
    let mut out = table(&["CHECK", "KIND", "RESULT", "TIME", "DETAIL"], &rows);
    out.push('\n');
    let rows: Vec<Vec<String>> = report
        .components
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.status.to_string(),
                c.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    out.push_str(&table(&["COMPONENT", "STATUS", "WHY"], &rows));
    for change in &report.changes {
        out.push_str(&format!("{}\n", describe_change(change)));
    }
    if report
        .checks
        .iter()
        .any(|c| c.outcome.health != Health::Up && c.local_status == Health::Up)
    {
        out.push_str(
            "\nA check changes status only after `failure_threshold` results in a row (default 3):\nuse `sitrep run` to watch it over time.\n",
        );
    }
    out
}

/// One line per cycle for `sitrep run`, then one per change.
pub fn cycle_line(report: &CycleReport, now: DateTime<Utc>) -> String {
    let failing = report
        .checks
        .iter()
        .filter(|c| c.outcome.health == Health::Down)
        .count();
    let slow = report
        .checks
        .iter()
        .filter(|c| c.outcome.health == Health::Degraded)
        .count();
    let mut out = format!(
        "{} cycle: {} check(s), {failing} failing, {slow} slow\n",
        now.format("%H:%M:%S"),
        report.checks.len()
    );
    for check in report
        .checks
        .iter()
        .filter(|c| c.outcome.health != Health::Up)
    {
        out.push_str(&format!(
            "    {} {}: {}\n",
            check.check,
            check.outcome.health,
            check.outcome.reason.as_deref().unwrap_or("")
        ));
    }
    for change in &report.changes {
        out.push_str(&format!("  {}\n", describe_change(change)));
    }
    out
}

/// A change in one line.
pub fn describe_change(change: &Change) -> String {
    match change {
        Change::Status {
            component,
            from,
            to,
            reason,
            ..
        } => format!(
            "* {component}: {from} -> {to}{}",
            reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        Change::Opened(i) => format!(
            "! incident {} opened: {}{}",
            i.id,
            i.title,
            i.reason
                .as_deref()
                .map(|r| format!(" - {r}"))
                .unwrap_or_default()
        ),
        Change::Updated(i) => format!("~ incident {} now {}", i.id, i.status),
        Change::Resolved(i) => format!(
            "+ incident {} resolved after {}",
            i.id,
            human_duration(chrono::Duration::seconds(i.duration_seconds.unwrap_or(0)))
        ),
    }
}

/// One mentions run as a few lines: per account what was stored, then surge changes.
pub fn mentions_lines(report: &shared::mentions::cycle::CycleReport) -> String {
    use shared::mentions::classify::Intent;
    use shared::mentions::surge::SurgeChange;
    let mut out = String::new();
    for account in &report.accounts {
        out.push_str(&format!(
            "    mentions {} ({}): {} new ({} outage report(s)), {} already stored; {}\n",
            account.account,
            account.platform,
            account.stored,
            account.stored_with(Intent::OutageReport),
            account.duplicates,
            account.outcome
        ));
        if let Some(gap) = &account.gap {
            out.push_str(&format!(
                "      backlog beyond the platform's reach: about {} mention(s) may be missing\n",
                gap.estimated_missing
                    .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string())
            ));
        }
    }
    for change in &report.surges {
        let line = match change {
            SurgeChange::Opened { incident, authors } => format!(
                "suspected incident {} opened: {} ({authors} people reported it)",
                incident.id, incident.title
            ),
            SurgeChange::Attached { incident, reports } => {
                format!("{reports} new report(s) attached to incident {incident}")
            }
            SurgeChange::Resolved(incident) => {
                format!(
                    "suspected incident {} resolved: no new reports",
                    incident.id
                )
            }
        };
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// What the reply service did, one line per post, handoff, wait or failure.
pub fn reply_lines(report: &shared::reply::service::BatchReport) -> String {
    use shared::reply::service::ReplyEvent;
    let mut out = String::new();
    for event in &report.events {
        let line = match event {
            ReplyEvent::Sent {
                kind,
                account,
                author,
                text,
                dry_run,
                response_time,
                sla_breached,
                ..
            } => {
                let verb = if *dry_run { "would post" } else { "posted" };
                let to = author
                    .as_ref()
                    .map_or_else(String::new, |a| format!(" to @{a}"));
                let timing = response_time.map_or_else(String::new, |t| {
                    format!(
                        " ({} after the post{})",
                        human_duration(t),
                        if *sla_breached { ", over the SLA" } else { "" }
                    )
                });
                format!("  {account}: {verb} {}{to}{timing}: {text}", kind.as_str())
            }
            ReplyEvent::HandedOff { reason, summary } => {
                format!("  handed to a person ({reason}): {summary}")
            }
            ReplyEvent::Waiting {
                account,
                until,
                queued,
            } => format!(
                "  {account}: {queued} post(s) wait for the posting budget until {}",
                until.format("%H:%M:%S UTC")
            ),
            ReplyEvent::Failed { account, detail } => format!("  {account}: {detail}"),
            ReplyEvent::Judged { .. } => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// One message the local pager sent, as the person would get it.
pub fn page_line(message: &shared::notify::Message) -> String {
    use shared::oncall::Contact;
    let kind = message.kind.as_str();
    match &message.contact {
        Contact::Sms(number) => format!(
            "  {kind:<8} {} SMS {number}: {}\n",
            message.person, message.sms
        ),
        Contact::Email(address) => format!(
            "  {kind:<8} {} email {address}: {}\n",
            message.person, message.subject
        ),
        Contact::Topic(arn) => format!(
            "  {kind:<8} {} topic {arn}: {}\n",
            message.person, message.subject
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let out = table(
            &["A", "BB"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "yy".into()],
            ],
        );
        assert_eq!(out, "A     BB\nlong  x\ns     yy\n");
    }
}
