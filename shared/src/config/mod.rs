//! The sitrep configuration: typed, validated once, with errors that name the field and line.
//!
//! A vendor writes one TOML file. [`Config::parse`] turns it into the types below or into a
//! list of [`ConfigError`]s, every one with the dotted field path (`checks[2].url`) and the
//! 1-based line and column it comes from. Unknown keys are errors, so a typo never silently
//! disables a check. Secrets never live here: later sections name Secrets Manager secrets or
//! SSM parameters instead of holding credentials.

mod accounts;
pub mod deployed;
mod duration;
mod oncall;
#[cfg(test)]
mod properties;
mod raw;
mod replies;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

pub use duration::parse_duration;

use crate::maintenance::MaintenanceWindow;
use crate::probe::condition::Condition;

/// One validation error, located in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending field, e.g. `checks[2].failure_threshold`.
    pub field: String,
    /// 1-based line in the TOML source.
    pub line: usize,
    /// 1-based column in the TOML source.
    pub column: usize,
    /// What is wrong and, where it helps, what would be right.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}: {}",
            self.line, self.column, self.field, self.message
        )
    }
}

/// Every error found in one configuration, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// A validated sitrep configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Who the vendor is and where its public status page lives.
    pub service: Service,
    /// How the probe cycle runs.
    pub probe: ProbeSettings,
    /// The parts of the service customers know by name, in config order.
    pub components: Vec<Component>,
    /// The health checks, in config order.
    pub checks: Vec<Check>,
    /// Planned maintenance: components in a window are "under maintenance" and open no incident.
    pub maintenance: Vec<MaintenanceWindow>,
    /// How mentions are kept and when their reports become a suspected incident.
    pub mentions: MentionSettings,
    /// The social accounts whose mentions sitrep reads, in config order.
    pub accounts: Vec<SocialAccount>,
    /// When and how sitrep answers customers, and what it says.
    pub replies: ReplySettings,
    /// Who can be paged, the on-call schedules, the escalation policies and which policy
    /// pages for which component (`[[people]]`, `[[schedules]]`, `[[policies]]`, `[oncall]`).
    pub oncall: crate::oncall::OnCall,
}

impl Config {
    /// Parses and validates TOML text; on failure returns every error found.
    pub fn parse(source: &str) -> Result<Config, ConfigErrors> {
        validate::parse(source)
    }

    /// The component with this id.
    pub fn component(&self, id: &ComponentId) -> Option<&Component> {
        self.components.iter().find(|c| &c.id == id)
    }

    /// The checks that report on one component.
    pub fn checks_of<'a>(&'a self, component: &'a ComponentId) -> impl Iterator<Item = &'a Check> {
        self.checks
            .iter()
            .filter(move |c| &c.component == component)
    }
}

/// The vendor's service as its customers see it.
#[derive(Debug, Clone)]
pub struct Service {
    /// The name customers use ("Acme Cloud").
    pub name: String,
    /// The public status page.
    pub status_url: Url,
}

/// How many regions must agree before a component counts as down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quorum {
    /// More than half of the regions that reported recently.
    Majority,
    /// At least this many regions (or all of them, when fewer reported).
    AtLeast(u32),
}

impl Quorum {
    /// How many of `reporting` regions must agree.
    pub fn required(self, reporting: u32) -> u32 {
        match self {
            Quorum::Majority => reporting / 2 + 1,
            Quorum::AtLeast(n) => n.min(reporting).max(1),
        }
    }
}

/// Settings of the probe cycle.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// At most this many checks run at the same time.
    pub concurrency: usize,
    /// Region name used when not running in AWS (Lambda sets `AWS_REGION`).
    pub region: Option<String>,
    /// How many reporting regions must agree that a check is failing.
    pub quorum: Quorum,
    /// A region's result counts for quorum only if it is at most this old.
    pub region_freshness: Duration,
    /// How long raw results are kept before they expire.
    pub raw_retention: Duration,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            concurrency: 64,
            region: None,
            quorum: Quorum::Majority,
            region_freshness: Duration::from_secs(5 * 60),
            raw_retention: Duration::from_secs(48 * 3600),
        }
    }
}

/// A validated identifier: lower-case letters, digits, `-` and `_`, 1 to 64 characters.
macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value` as an identifier.
            pub fn parse(value: &str) -> Result<Self, String> {
                validate::slug(value).map(|()| Self(value.to_owned()))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, String> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

slug_id!(
    /// Identifies a component (`api`, `dashboard`).
    ComponentId
);
slug_id!(
    /// Identifies a check (`api-health`).
    CheckId
);
slug_id!(
    /// Identifies a social account in the config (`acme-x`).
    AccountId
);
slug_id!(
    /// Identifies a person who can be paged (`alice`).
    PersonId
);
slug_id!(
    /// Identifies an on-call schedule (`primary`).
    ScheduleId
);
slug_id!(
    /// Identifies an escalation policy (`default`).
    PolicyId
);

/// Settings of the mentions service.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionSettings {
    /// At an account's first poll, mentions older than this are history, not customers
    /// waiting for an answer.
    pub horizon: Duration,
    /// How long stored mentions are kept.
    pub retention: Duration,
    /// Distinct authors reporting an outage within `surge_window` that open a suspected
    /// incident.
    pub surge_authors: u32,
    /// The window the authors are counted in.
    pub surge_window: Duration,
    /// A suspected incident with no new report for this long is resolved.
    pub surge_quiet: Duration,
    /// At most this many accounts are polled at the same time.
    pub concurrency: usize,
    /// Phrases added to the classifier's built-in lexicon (`[mentions.lexicon]`).
    pub lexicon: crate::mentions::classify::Lexicon,
}

impl Default for MentionSettings {
    fn default() -> Self {
        Self {
            horizon: Duration::from_secs(3600),
            retention: Duration::from_secs(30 * 86_400),
            surge_authors: 5,
            surge_window: Duration::from_secs(10 * 60),
            surge_quiet: Duration::from_secs(30 * 60),
            concurrency: 8,
            lexicon: crate::mentions::classify::Lexicon::default(),
        }
    }
}

/// A social account sitrep reads mentions of.
#[derive(Debug, Clone, PartialEq)]
pub struct SocialAccount {
    /// Stable identifier used in keys.
    pub id: AccountId,
    /// The platform it is on.
    pub platform: crate::social::Platform,
    /// The account's handle, without `@` (`acme`, `acme@mastodon.social`, `acme.bsky.social`):
    /// its own posts are not customer mentions.
    pub handle: String,
    /// The account's numeric user id (X only: the mentions endpoint is addressed by it).
    pub user_id: Option<String>,
    /// The API's base URL: X's and Bluesky's public ones by default, the instance for Mastodon.
    pub base_url: Url,
    /// The name (or ARN) of the Secrets Manager secret holding its credentials.
    pub credentials: String,
    /// Whether incident updates are posted on it, drafted for a person, or neither.
    pub announce: Announce,
    /// A Mastodon server's post limit, when it is not the default 500.
    pub max_chars: Option<usize>,
}

/// What sitrep does with a public incident update for one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Announce {
    /// Nothing: the account only answers customers.
    #[default]
    Off,
    /// The update is sent to the support topic for a person to post.
    Draft,
    /// sitrep posts the update itself.
    Auto,
}

/// Whether replies are posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Every decision is made and recorded with the text it would post, and nothing is
    /// posted: a vendor watches sitrep before trusting it.
    #[default]
    DryRun,
    /// Replies, follow-ups and updates are posted.
    Live,
}

/// When and how sitrep answers customers (`[replies]`).
#[derive(Debug, Clone)]
pub struct ReplySettings {
    /// Posted or only recorded.
    pub mode: ReplyMode,
    /// Mentions classified with less confidence go to a person instead.
    pub min_confidence: f32,
    /// A mention older than this when its turn comes goes to a person instead.
    pub max_age: Duration,
    /// With no incident to tie replies to, an author is answered at most once per this.
    pub cooldown: Duration,
    /// The time to first response promised; slower answers count as breaches.
    pub sla: Duration,
    /// The language answering posts in languages without templates.
    pub language: String,
    /// Handles or account ids never answered, lower case.
    pub deny: Vec<String>,
    /// Handles or account ids always given to a person, lower case.
    pub vip: Vec<String>,
    /// What is said, per situation and language.
    pub templates: crate::reply::template::Templates,
}

impl Default for ReplySettings {
    fn default() -> Self {
        Self {
            mode: ReplyMode::DryRun,
            min_confidence: 0.6,
            max_age: Duration::from_secs(30 * 60),
            cooldown: Duration::from_secs(6 * 3600),
            sla: Duration::from_secs(5 * 60),
            language: "en".to_owned(),
            deny: Vec::new(),
            vip: Vec::new(),
            templates: crate::reply::template::Templates::builtin("en"),
        }
    }
}

/// Which status opens an incident on a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentTrigger {
    /// Only an outage opens an incident.
    Down,
    /// Slowness already opens one.
    Degraded,
}

/// A part of the service customers know by name.
#[derive(Debug, Clone)]
pub struct Component {
    /// Stable identifier used in keys and URLs.
    pub id: ComponentId,
    /// Name shown to customers ("Public API").
    pub name: String,
    /// Which status opens an incident.
    pub open_incident_on: IncidentTrigger,
    /// Words customers use for it ("login", "invoices"), matched in mentions, lower case.
    pub keywords: Vec<String>,
}

/// A health check, bound to one component.
#[derive(Debug, Clone)]
pub struct Check {
    /// Stable identifier used in keys.
    pub id: CheckId,
    /// The component it reports on.
    pub component: ComponentId,
    /// What to probe and how.
    pub target: Target,
    /// The longest one attempt may take.
    pub timeout: Duration,
    /// Passing but slower than this counts as degraded.
    pub degraded_after: Option<Duration>,
    /// Every condition must hold for the check to pass.
    pub conditions: Vec<Condition>,
    /// Consecutive failures before the check counts as down.
    pub failure_threshold: u32,
    /// Consecutive successes before a failing check counts as up again.
    pub success_threshold: u32,
}

/// What a check probes.
#[derive(Debug, Clone)]
pub enum Target {
    /// An HTTP(S) request.
    Http(HttpTarget),
    /// A TCP connect.
    Tcp(TcpTarget),
    /// A DNS resolution.
    Dns(DnsTarget),
    /// A TLS handshake, to read the certificate's expiry.
    Tls(TlsTarget),
}

impl Target {
    /// The kind's name as written in the config.
    pub fn kind(&self) -> CheckKind {
        match self {
            Target::Http(_) => CheckKind::Http,
            Target::Tcp(_) => CheckKind::Tcp,
            Target::Dns(_) => CheckKind::Dns,
            Target::Tls(_) => CheckKind::Tls,
        }
    }
}

/// The kinds of check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// HTTP(S) request.
    Http,
    /// TCP connect.
    Tcp,
    /// DNS resolution.
    Dns,
    /// TLS certificate expiry.
    Tls,
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckKind::Http => "http",
            CheckKind::Tcp => "tcp",
            CheckKind::Dns => "dns",
            CheckKind::Tls => "tls",
        })
    }
}

/// An HTTP(S) request to make.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    /// The URL, `http` or `https`.
    pub url: Url,
    /// The method, upper case (`GET`, `HEAD`, `POST`…).
    pub method: String,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// A request body, sent as is.
    pub body: Option<String>,
    /// Whether to follow redirects (at most 10); if not, a 3xx is the answer.
    pub follow_redirects: bool,
    /// Extra trust anchors (PEM) besides the public web roots, for private CAs.
    pub ca_file: Option<PathBuf>,
}

/// A TCP port that must accept connections.
#[derive(Debug, Clone)]
pub struct TcpTarget {
    /// Host name or IP address.
    pub host: String,
    /// Port number.
    pub port: u16,
}

/// DNS record types a check can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DnsRecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Text record.
    Txt,
    /// Name server.
    Ns,
}

/// A DNS name that must resolve.
#[derive(Debug, Clone)]
pub struct DnsTarget {
    /// The name to resolve.
    pub name: String,
    /// The record type to ask for.
    pub record_type: DnsRecordType,
    /// Ask this server (UDP, then TCP) instead of the system resolver.
    pub nameserver: Option<SocketAddr>,
}

/// A TLS endpoint whose certificate must not be close to expiry.
#[derive(Debug, Clone)]
pub struct TlsTarget {
    /// Host name or IP address to connect to.
    pub host: String,
    /// Port number (default 443).
    pub port: u16,
    /// Name to send in SNI and verify against (default: `host`).
    pub server_name: String,
    /// Extra trust anchors (PEM) besides the public web roots, for private CAs.
    pub ca_file: Option<PathBuf>,
}
