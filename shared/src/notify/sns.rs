//! The SNS pager: an SMS is published straight to the phone number, an email to the pages
//! topic (whose email subscriptions each filter on the `person` attribute), and a topic
//! contact to the person's own topic.
//!
//! Every publish carries the message attributes `kind`, `person`, `urgency`, and, when
//! known, `incident` and `component`, so subscribers can filter and route without reading
//! the text. SMS are sent as `Transactional`, the class SNS optimizes for reliability (one-
//! time passwords, alerts); the account default, `Promotional`, is optimized for cost and
//! is treated by carriers like marketing.
//!
//! Errors are sorted by whether the message could have gone out (see [`NotifyError`]). The
//! SDK's own retries would repeat a publish whose answer was lost and page someone twice,
//! so the client must have them disabled ([`client_without_retries`]): [`super::deliver`]
//! retries only what certainly did not reach SNS.

use std::error::Error;

use async_trait::async_trait;
use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sns::operation::publish::PublishError;
use aws_sdk_sns::types::MessageAttributeValue;

use super::{Message, Notifier, NotifyError, Receipt};
use crate::oncall::Contact;
use crate::reply::handoff::clean_subject;

/// The SMS attribute that chooses SNS's delivery class.
pub const SMS_TYPE_ATTRIBUTE: &str = "AWS.SNS.SMS.SMSType";

/// Pages go as one-time-password-class traffic, never as marketing.
pub const SMS_TYPE: &str = "Transactional";

/// An SNS client with the SDK's retries disabled, for [`SnsNotifier`]: [`super::deliver`]
/// decides what may be sent again, and the SDK would also retry a publish that timed out
/// after SNS had accepted it.
pub fn client_without_retries(sdk: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::config::Builder::from(sdk)
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// Sends messages through Amazon SNS.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    pages_topic: String,
}

impl SnsNotifier {
    /// Publishes through `client`, which should have retries disabled
    /// ([`client_without_retries`]); email goes to `pages_topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, pages_topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            pages_topic: pages_topic_arn.into(),
        }
    }

    /// The notifier inside Lambda: the functions' SDK configuration, without retries.
    pub async fn in_lambda(pages_topic_arn: impl Into<String>) -> Self {
        let config = crate::aws::lambda_sdk_config().await;
        Self::new(client_without_retries(&config), pages_topic_arn)
    }

    /// The topic email pages are published to.
    pub fn pages_topic(&self) -> &str {
        &self.pages_topic
    }

    /// Where a message goes, for error messages: the person rather than their number.
    fn destination(&self, message: &Message) -> String {
        match &message.contact {
            Contact::Sms(_) => format!("SMS for {}", message.person),
            Contact::Email(_) => format!("email for {} via {}", message.person, self.pages_topic),
            Contact::Topic(arn) => format!("topic {arn} for {}", message.person),
        }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, NotifyError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| NotifyError::Refused(format!("message attribute: {e}")))
}

/// The message attributes every publish carries. SNS refuses an empty String attribute, so
/// absent or blank values are left out rather than sent empty.
pub fn message_attributes(message: &Message) -> Vec<(&'static str, String)> {
    let optional = [
        ("incident", message.incident.as_deref()),
        ("component", message.component.as_deref()),
    ];
    let mut attributes = vec![
        ("kind", message.kind.as_str().to_owned()),
        ("person", message.person.as_str().to_owned()),
        ("urgency", message.urgency.as_str().to_owned()),
    ];
    attributes.extend(optional.into_iter().filter_map(|(name, value)| {
        value
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(|value| (name, value.to_owned()))
    }));
    attributes
}

/// Whether a subject may start with `c`: SNS wants a letter, a number or punctuation first.
fn may_start_subject(c: char) -> bool {
    c.is_alphanumeric()
        || c.is_ascii_punctuation()
        || matches!(c, '¿' | '¡' | '«' | '“' | '‘' | '„' | '…')
}

/// The email subject as SNS accepts it: one line of at most 100 characters (see
/// [`clean_subject`]) that starts with a letter, a number or punctuation, never empty.
pub fn subject(message: &Message) -> String {
    let cleaned = clean_subject(&message.subject);
    let subject = cleaned
        .find(may_start_subject)
        .map(|start| cleaned[start..].to_owned())
        .unwrap_or_default();
    if !subject.is_empty() {
        return subject;
    }
    let about = message
        .incident
        .as_deref()
        .unwrap_or_else(|| message.person.as_str());
    clean_subject(&format!("sitrep {}: {about}", message.kind.as_str()))
}

/// Error codes meaning "not now": throttling and faults on SNS's side.
const TRANSIENT_CODES: [&str; 16] = [
    "Throttled",
    "ThrottledException",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "KMSThrottling",
    "KMSThrottlingException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// How an error answer from SNS is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// A fault of the request: sending it again cannot help.
    Refused,
    /// SNS did not take it and may later.
    Unavailable,
    /// Not an answer we can read either way.
    Unknown,
}

/// An error answer by its code and HTTP status, for codes the SDK does not model.
fn answer_by_code(code: Option<&str>, status: u16) -> Answer {
    let transient = code.is_some_and(|code| TRANSIENT_CODES.contains(&code));
    if transient || status == 429 || (500..=599).contains(&status) {
        Answer::Unavailable
    } else if (400..=499).contains(&status) {
        Answer::Refused
    } else {
        Answer::Unknown
    }
}

/// An error answer from SNS: the modelled client faults are refusals whatever the status.
fn answer(error: &PublishError, status: u16) -> Answer {
    match error {
        PublishError::AuthorizationErrorException(_)
        | PublishError::EndpointDisabledException(_)
        | PublishError::InvalidParameterException(_)
        | PublishError::InvalidParameterValueException(_)
        | PublishError::InvalidSecurityException(_)
        | PublishError::KmsAccessDeniedException(_)
        | PublishError::KmsDisabledException(_)
        | PublishError::KmsInvalidStateException(_)
        | PublishError::KmsNotFoundException(_)
        | PublishError::KmsOptInRequired(_)
        | PublishError::NotFoundException(_)
        | PublishError::PlatformApplicationDisabledException(_)
        | PublishError::ValidationException(_) => Answer::Refused,
        PublishError::InternalErrorException(_) | PublishError::KmsThrottlingException(_) => {
            Answer::Unavailable
        }
        other => answer_by_code(other.code(), status),
    }
}

/// Whether a failed dispatch never opened a connection, so no byte of the request left:
/// a refused or unreachable address, a failed DNS lookup or TLS handshake, or a connect
/// timeout.
fn never_connected(error: &(dyn Error + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::ConnectionRefused
                    | ErrorKind::AddrNotAvailable
                    | ErrorKind::HostUnreachable
                    | ErrorKind::NetworkUnreachable
            )
        {
            return true;
        }
        // hyper-util's client error while establishing the connection (DNS, TCP, TLS,
        // connect timeout); the type is not a dependency of this crate, its message is
        // stable.
        if error.to_string() == "client error (Connect)" {
            return true;
        }
        current = error.source();
    }
    false
}

/// Sorts an SDK error by whether the message could have gone out.
fn classify(error: &SdkError<PublishError>, destination: &str) -> NotifyError {
    let detail = format!("publish ({destination}): {}", DisplayErrorContext(error));
    match error {
        // Never built, so never sent; the same input would fail the same way.
        SdkError::ConstructionFailure(_) => NotifyError::Refused(detail),
        SdkError::ServiceError(context) => {
            match answer(context.err(), context.raw().status().as_u16()) {
                Answer::Refused => NotifyError::Refused(detail),
                Answer::Unavailable => NotifyError::Unavailable(detail),
                Answer::Unknown => NotifyError::Unknown(detail),
            }
        }
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if never_connected(connector) => NotifyError::Unavailable(detail),
            // The connection may have carried the request before it broke.
            _ => NotifyError::Unknown(detail),
        },
        // A timeout or an unreadable answer: SNS may well have taken the message.
        _ => NotifyError::Unknown(detail),
    }
}

#[async_trait]
impl Notifier for SnsNotifier {
    async fn send(&self, message: &Message) -> Result<Receipt, NotifyError> {
        let publish = self.client.publish();
        let mut publish = match &message.contact {
            Contact::Sms(number) => publish
                .phone_number(number.as_str())
                .message(&message.sms)
                .message_attributes(SMS_TYPE_ATTRIBUTE, string_attribute(SMS_TYPE)?),
            Contact::Email(_) => publish
                .topic_arn(&self.pages_topic)
                .subject(subject(message))
                .message(&message.body),
            Contact::Topic(arn) => publish
                .topic_arn(arn)
                .subject(subject(message))
                .message(&message.body),
        };
        for (name, value) in message_attributes(message) {
            publish = publish.message_attributes(name, string_attribute(&value)?);
        }
        let output = publish
            .send()
            .await
            .map_err(|error| classify(&error, &self.destination(message)))?;
        Ok(Receipt {
            // SNS always returns one; a missing id must not turn a sent page into a failure.
            message_id: output.message_id.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use aws_sdk_sns::error::ConnectorError;

    use super::*;
    use crate::config::PersonId;
    use crate::notify::MessageKind;
    use crate::oncall::{PhoneNumber, Urgency};

    fn page(contact: Contact) -> Message {
        Message {
            person: PersonId::parse("ana").unwrap(),
            contact,
            kind: MessageKind::Page,
            incident: Some("20261123-100000-api".into()),
            component: Some("api".into()),
            urgency: Urgency::High,
            sms: "Public API is down. Reply ack 1234".into(),
            subject: "Public API is down".into(),
            body: "Public API is down since 10:00 UTC.".into(),
        }
    }

    fn sms() -> Message {
        page(Contact::Sms(PhoneNumber::parse("+447700900123").unwrap()))
    }

    #[test]
    fn every_attribute_is_present_and_absent_ones_are_left_out() {
        assert_eq!(
            message_attributes(&sms()),
            [
                ("kind", "page".to_owned()),
                ("person", "ana".to_owned()),
                ("urgency", "high".to_owned()),
                ("incident", "20261123-100000-api".to_owned()),
                ("component", "api".to_owned()),
            ]
        );
        let mut help = sms();
        help.kind = MessageKind::Reply;
        help.urgency = Urgency::Low;
        help.incident = None;
        help.component = Some("  ".into());
        assert_eq!(
            message_attributes(&help),
            [
                ("kind", "reply".to_owned()),
                ("person", "ana".to_owned()),
                ("urgency", "low".to_owned()),
            ]
        );
    }

    #[test]
    fn subjects_are_one_clean_line_starting_with_a_letter_number_or_punctuation() {
        let mut message = page(Contact::Email("ana@acme.example".into()));
        message.subject = "🔥 [P1]\nPublic API is down".into();
        assert_eq!(subject(&message), "[P1] Public API is down");
        message.subject = "  ¿Caído?".into();
        assert_eq!(subject(&message), "¿Caído?");
        message.subject = format!("Public API {}", "down ".repeat(40));
        let long = subject(&message);
        assert!(
            long.chars().count() <= 100 && long.starts_with("Public API"),
            "{long}"
        );
        message.subject = "🔥🔥\n\t".into();
        assert_eq!(subject(&message), "sitrep page: 20261123-100000-api");
        message.incident = None;
        assert_eq!(subject(&message), "sitrep page: ana");
    }

    #[test]
    fn error_codes_are_read_by_whether_a_retry_can_help() {
        assert_eq!(answer_by_code(Some("Throttled"), 400), Answer::Unavailable);
        assert_eq!(
            answer_by_code(Some("InternalError"), 500),
            Answer::Unavailable
        );
        assert_eq!(answer_by_code(None, 503), Answer::Unavailable);
        assert_eq!(answer_by_code(None, 429), Answer::Unavailable);
        assert_eq!(answer_by_code(Some("OptedOut"), 400), Answer::Refused);
        assert_eq!(answer_by_code(None, 403), Answer::Refused);
        assert_eq!(answer_by_code(None, 302), Answer::Unknown);
        let throttled = PublishError::generic(
            aws_sdk_sns::error::ErrorMetadata::builder()
                .code("Throttled")
                .build(),
        );
        assert_eq!(answer(&throttled, 400), Answer::Unavailable);
        let invalid = PublishError::InvalidParameterException(
            aws_sdk_sns::types::error::InvalidParameterException::builder()
                .message("Invalid parameter: PhoneNumber")
                .build(),
        );
        assert_eq!(answer(&invalid, 400), Answer::Refused);
        let internal = PublishError::InternalErrorException(
            aws_sdk_sns::types::error::InternalErrorException::builder().build(),
        );
        assert_eq!(answer(&internal, 500), Answer::Unavailable);
    }

    fn dispatch(error: ConnectorError) -> SdkError<PublishError> {
        SdkError::dispatch_failure(error)
    }

    #[test]
    fn only_a_connection_never_made_is_certainly_not_sent() {
        let refused = dispatch(ConnectorError::io(Box::new(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "connection refused",
        ))));
        assert!(matches!(
            classify(&refused, "SMS for ana"),
            NotifyError::Unavailable(detail) if detail.contains("SMS for ana") && detail.contains("connection refused")
        ));
        let reset = dispatch(ConnectorError::io(Box::new(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ))));
        assert!(matches!(
            classify(&reset, "SMS for ana"),
            NotifyError::Unknown(_)
        ));
        let timeout = dispatch(ConnectorError::timeout("read timed out".into()));
        assert!(matches!(
            classify(&timeout, "SMS for ana"),
            NotifyError::Unknown(_)
        ));
        let operation_timeout: SdkError<PublishError> =
            SdkError::timeout_error("operation timeout");
        assert!(matches!(
            classify(&operation_timeout, "SMS for ana"),
            NotifyError::Unknown(_)
        ));
        let unbuilt: SdkError<PublishError> = SdkError::construction_failure("no message");
        assert!(matches!(
            classify(&unbuilt, "SMS for ana"),
            NotifyError::Refused(_)
        ));
    }

    #[test]
    fn the_sdk_retries_are_off_in_the_client_for_functions() {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let client = client_without_retries(&sdk);
        assert_eq!(
            client
                .config()
                .retry_config()
                .map(RetryConfig::max_attempts),
            Some(1)
        );
    }
}
