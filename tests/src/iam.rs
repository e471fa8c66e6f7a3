//! The IAM policies of `infra/template.yaml` as each function's role has them, for checking
//! the AWS calls the handler tests record ([`crate::aws_calls`]) against them. moto does not
//! enforce IAM, so without this a call a role does not allow would pass every test and fail
//! in AWS at run time.
//!
//! The template is read as YAML with CloudFormation's short-form tags (`!Ref`, `!GetAtt`,
//! `!Sub`, `!If`), which only matter here where a function names its role. A function's
//! statements are its `Policies` (inline documents and SAM policy templates, expanded to
//! their actions below) or, with `Role: !GetAtt SomeRole.Arn`, that role's inline policies.
//! Managed policies are left out: the only one used, `AWSLambdaBasicExecutionRole`, is the
//! logs Lambda writes for the function, never a call its code makes.
//!
//! Actions are compared, and the one condition sitrep uses, `dynamodb:LeadingKeys` under
//! `ForAllValues:StringLike`, is evaluated on the partition key each DynamoDB call wrote.
//! Resources are not: the tests' tables, topics and secrets have moto's names and ARNs.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value;

use crate::aws_calls::AwsCall;

/// The template, as the tests read it.
pub const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// What went wrong reading the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

fn error(text: impl Into<String>) -> TemplateError {
    TemplateError(text.into())
}

/// One `Allow` statement, as far as the check reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its `Sid`, or where it came from (a SAM policy template's name).
    pub sid: String,
    /// Its actions (`dynamodb:GetItem`; `*` matches any characters).
    pub actions: Vec<String>,
    /// The patterns of its `dynamodb:LeadingKeys` condition, if it has one.
    pub leading_keys: Option<Vec<String>>,
}

impl Statement {
    /// Whether the statement allows `call`.
    pub fn allows(&self, call: &AwsCall) -> bool {
        let action = call.action();
        if !self.actions.iter().any(|a| glob(a, &action)) {
            return false;
        }
        match &self.leading_keys {
            None => true,
            // The condition needs the key: a call the recorder could not read a key from is
            // not taken to be allowed.
            Some(patterns) => {
                !call.leading_keys.is_empty()
                    && call
                        .leading_keys
                        .iter()
                        .all(|key| patterns.iter().any(|p| glob(p, key)))
            }
        }
    }
}

/// A function's permissions: every statement of its role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The statements, in template order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Whether some statement allows `call`.
    pub fn allows(&self, call: &AwsCall) -> bool {
        self.statements.iter().any(|s| s.allows(call))
    }

    /// Every action named (lower-case service prefix, operation as AWS spells it).
    pub fn actions(&self) -> BTreeSet<String> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().cloned())
            .collect()
    }
}

/// The functions of the template (by logical id) with their permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// Function logical id (`ProbeFunction`) to its permissions.
    pub functions: BTreeMap<String, Policy>,
}

impl Template {
    /// `infra/template.yaml`, read.
    pub fn load() -> Self {
        Self::parse(TEMPLATE).unwrap_or_else(|e| panic!("infra/template.yaml: {e}"))
    }

    /// Reads a SAM template's functions and their permissions.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let document: Value =
            serde_norway::from_str(text).map_err(|e| error(format!("not YAML: {e}")))?;
        let resources = document
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| error("no Resources"))?;
        let mut functions = BTreeMap::new();
        for (name, resource) in resources {
            let name = name
                .as_str()
                .ok_or_else(|| error("a resource name is not text"))?;
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let properties = resource.get("Properties").unwrap_or(&Value::Null);
            let statements = match properties.get("Role") {
                Some(role) => role_statements(resources, name, role)?,
                None => sam_statements(name, properties.get("Policies"))?,
            };
            functions.insert(name.to_owned(), Policy { statements });
        }
        Ok(Self { functions })
    }

    /// The permissions of the function with this logical id.
    pub fn policy(&self, function: &str) -> &Policy {
        self.functions
            .get(function)
            .unwrap_or_else(|| panic!("infra/template.yaml has no function {function}"))
    }
}

/// The statements of a function's own `Policies`.
fn sam_statements(
    function: &str,
    policies: Option<&Value>,
) -> Result<Vec<Statement>, TemplateError> {
    let Some(policies) = policies else {
        return Ok(Vec::new());
    };
    let list = match policies {
        Value::Sequence(list) => list.clone(),
        other => vec![other.clone()],
    };
    let mut statements = Vec::new();
    for policy in &list {
        match policy {
            // A managed policy by name or ARN: see the module's documentation.
            Value::String(_) => {}
            Value::Mapping(map) if map.contains_key("Statement") => {
                statements.extend(document_statements(function, policy)?);
            }
            Value::Mapping(map) if map.len() == 1 => {
                let (name, _) = map.iter().next().expect("one entry");
                let name = name.as_str().unwrap_or_default();
                let actions = sam_policy_template(name).ok_or_else(|| {
                    error(format!(
                        "{function}: SAM policy template {name} is not known here; add its actions to sam_policy_template"
                    ))
                })?;
                statements.push(Statement {
                    sid: name.to_owned(),
                    actions: actions.iter().map(|a| (*a).to_owned()).collect(),
                    leading_keys: None,
                });
            }
            other => {
                return Err(error(format!(
                    "{function}: a policy not understood: {other:?}"
                )));
            }
        }
    }
    Ok(statements)
}

/// The statements of the role a function names with `Role: !GetAtt SomeRole.Arn`.
fn role_statements(
    resources: &serde_norway::Mapping,
    function: &str,
    role: &Value,
) -> Result<Vec<Statement>, TemplateError> {
    let target = match role {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged
            .value
            .as_str()
            .and_then(|t| t.strip_suffix(".Arn"))
            .map(str::to_owned),
        _ => None,
    }
    .ok_or_else(|| error(format!("{function}: Role is not `!GetAtt <role>.Arn`")))?;
    let role = resources
        .get(target.as_str())
        .ok_or_else(|| error(format!("{function}: no role {target}")))?;
    let mut statements = Vec::new();
    if let Some(Value::Sequence(policies)) = role.get("Properties").and_then(|p| p.get("Policies"))
    {
        for policy in policies {
            let document = policy
                .get("PolicyDocument")
                .ok_or_else(|| error(format!("{target}: a policy without PolicyDocument")))?;
            statements.extend(document_statements(&target, document)?);
        }
    }
    Ok(statements)
}

fn document_statements(owner: &str, document: &Value) -> Result<Vec<Statement>, TemplateError> {
    let list = match document.get("Statement") {
        Some(Value::Sequence(list)) => list.clone(),
        Some(one @ Value::Mapping(_)) => vec![one.clone()],
        _ => {
            return Err(error(format!(
                "{owner}: a policy document without statements"
            )));
        }
    };
    list.iter().map(|s| statement(owner, s)).collect()
}

fn statement(owner: &str, value: &Value) -> Result<Statement, TemplateError> {
    let sid = value
        .get("Sid")
        .and_then(Value::as_str)
        .unwrap_or("(no Sid)")
        .to_owned();
    if value.get("Effect").and_then(Value::as_str) != Some("Allow") {
        return Err(error(format!(
            "{owner} {sid}: only Allow statements are read here"
        )));
    }
    let actions = strings(value.get("Action")).ok_or_else(|| {
        error(format!(
            "{owner} {sid}: Action is not text or a list of text"
        ))
    })?;
    let leading_keys = match value.get("Condition") {
        None => None,
        Some(condition) => Some(leading_keys(condition).ok_or_else(|| {
            error(format!(
                "{owner} {sid}: only `ForAllValues:StringLike: dynamodb:LeadingKeys` conditions are read here"
            ))
        })?),
    };
    Ok(Statement {
        sid,
        actions,
        leading_keys,
    })
}

/// The patterns of a condition that is exactly `ForAllValues:StringLike` on LeadingKeys.
fn leading_keys(condition: &Value) -> Option<Vec<String>> {
    let map = condition.as_mapping()?;
    if map.len() != 1 {
        return None;
    }
    let like = condition.get("ForAllValues:StringLike")?.as_mapping()?;
    if like.len() != 1 {
        return None;
    }
    strings(like.get("dynamodb:LeadingKeys"))
}

fn strings(value: Option<&Value>) -> Option<Vec<String>> {
    match value? {
        Value::String(one) => Some(vec![one.clone()]),
        Value::Sequence(list) => list.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => None,
    }
}

/// The actions of the SAM policy templates a function might use (from SAM's
/// `policy_templates.json`).
fn sam_policy_template(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "DynamoDBCrudPolicy" => &[
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "dynamodb:PutItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
            "dynamodb:ConditionCheckItem",
        ],
        "DynamoDBReadPolicy" => &[
            "dynamodb:GetItem",
            "dynamodb:Scan",
            "dynamodb:Query",
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
        ],
        "DynamoDBWritePolicy" => &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
        ],
        "SNSPublishMessagePolicy" => &["sns:Publish"],
        "SQSSendMessagePolicy" => &["sqs:SendMessage*", "sqs:ChangeMessageVisibility"],
        "AWSSecretsManagerGetSecretValuePolicy" => &["secretsmanager:GetSecretValue"],
        _ => return None,
    })
}

/// IAM's wildcard match: `*` is any run of characters, `?` any one; case-insensitive for
/// actions (IAM's rule), which the partition-key patterns here never depend on.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn matches(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => matches(&p[1..], t) || (!t.is_empty() && matches(p, &t[1..])),
            (Some(b'?'), Some(_)) => matches(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => matches(&p[1..], &t[1..]),
            _ => false,
        }
    }
    matches(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(action: &str, keys: &[&str]) -> AwsCall {
        let (service, operation) = action.split_once(':').unwrap();
        AwsCall {
            service: service.into(),
            operation: operation.into(),
            leading_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    const SMALL: &str = r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AWSLambdaBasicExecutionRole
        - DynamoDBReadPolicy:
            TableName: !Ref Table
        - Version: "2012-10-17"
          Statement:
            - Sid: Writes
              Effect: Allow
              Action: [dynamodb:PutItem, dynamodb:DeleteItem]
              Resource: !GetAtt Table.Arn
              Condition:
                ForAllValues:StringLike:
                  dynamodb:LeadingKeys: ["ACKTOKEN#*", INCIDENTS]
  TwoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt TwoRole.Arn
  TwoRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: two
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: sqs:SendMessage*
                Resource: !Sub "arn:${AWS::Partition}:sqs:*"
"#;

    #[test]
    fn statements_templates_roles_and_conditions_are_read() {
        let template = Template::parse(SMALL).unwrap();
        let one = template.policy("OneFunction");
        assert!(one.allows(&call("dynamodb:Query", &[])));
        assert!(one.allows(&call("dynamodb:GetItem", &["ANYTHING"])));
        assert!(one.allows(&call("dynamodb:PutItem", &["ACKTOKEN#abc"])));
        assert!(one.allows(&call("dynamodb:DeleteItem", &["INCIDENTS"])));
        assert!(!one.allows(&call("dynamodb:PutItem", &["CONFIG"])));
        assert!(!one.allows(&call("dynamodb:PutItem", &["INCIDENTSX"])));
        assert!(!one.allows(&call("dynamodb:PutItem", &[])), "no key read");
        assert!(!one.allows(&call("dynamodb:UpdateItem", &["ACKTOKEN#abc"])));
        assert!(!one.allows(&call("sns:Publish", &[])));
        let two = template.policy("TwoFunction");
        assert!(two.allows(&call("sqs:SendMessage", &[])));
        assert!(two.allows(&call("sqs:SendMessageBatch", &[])));
        assert!(!two.allows(&call("sqs:ReceiveMessage", &[])));
        assert_eq!(template.functions.len(), 2);
    }

    #[test]
    fn what_is_not_understood_is_an_error_not_a_pass() {
        for (snippet, says) in [
            ("- SomeNewPolicy: {}", "not known here"),
            (
                "- Statement: [{Effect: Deny, Action: sns:Publish, Resource: '*'}]",
                "only Allow",
            ),
            (
                "- Statement: [{Effect: Allow, Action: sns:Publish, Resource: '*', Condition: {StringEquals: {aws:SourceAccount: '1'}}}]",
                "conditions",
            ),
        ] {
            let text = format!(
                "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        {snippet}\n"
            );
            let problem = Template::parse(&text).unwrap_err().0;
            assert!(problem.contains(says), "{snippet}: {problem}");
        }
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("dynamodb:*", "dynamodb:GetItem"));
        assert!(glob("DynamoDB:getitem", "dynamodb:GetItem"));
        assert!(glob("MENTION#*", "MENTION#x#1"));
        assert!(!glob("MENTION#*", "MENTIONS#2026-11-23"));
        assert!(glob("secret:a-??????", "secret:a-AbC123"));
        assert!(!glob("secret:a-??????", "secret:a-AbC12"));
    }

    #[test]
    fn the_template_is_read_and_names_every_function() {
        let template = Template::load();
        let names: Vec<&str> = template.functions.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "AcknowledgeFunction",
                "PageFunction",
                "PollMentionsFunction",
                "ProbeFunction",
                "StatusApiFunction"
            ]
        );
        for (name, policy) in &template.functions {
            assert!(!policy.statements.is_empty(), "{name}");
        }
    }
}
