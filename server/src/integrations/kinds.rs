//! The kinds of integration credentials, their fields — which are kept in
//! the clear and which are sealed — and the rules of each field. A change
//! is checked here, every field error at once, each naming its field.

use app::domain::config::FieldError;
use serde_json::Value;
use std::collections::BTreeMap;

/// What a field's value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Any text without control characters.
    Text,
    /// Text without whitespace (tokens, ids).
    Word,
    /// Decimal digits.
    Digits,
    /// An http:// or https:// URL.
    HttpUrl,
    /// An smtp:// or smtps:// URL.
    SmtpUrl,
    /// A PEM block (`-----BEGIN …`).
    Pem,
    /// A mailbox: `name <a@b>` or `a@b`.
    Mailbox,
}

/// One field of a kind.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Its name in JSON and forms.
    pub name: &'static str,
    /// Sealed (never shown again) or kept in the clear.
    pub secret: bool,
    /// Needed in every record.
    pub required: bool,
    rule: Rule,
    max: usize,
}

const fn clear(name: &'static str, required: bool, rule: Rule, max: usize) -> Field {
    Field {
        name,
        secret: false,
        required,
        rule,
        max,
    }
}

const fn secret(name: &'static str, rule: Rule, max: usize) -> Field {
    Field {
        name,
        secret: true,
        required: true,
        rule,
        max,
    }
}

/// An integration kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A GitHub App: its id, installation and private key.
    GithubApp,
    /// A GitHub token.
    GithubToken,
    /// The Slack app's bot token and signing secret.
    Slack,
    /// HCP Terraform / Terraform Enterprise.
    Tfc,
    /// An OpenAI-compatible model.
    Model,
    /// The SMTP server of e-mail notices.
    Smtp,
    /// A webhook's shared secret.
    WebhookSecret,
}

/// Every kind, in the order pages list them.
pub const KINDS: [Kind; 7] = [
    Kind::GithubApp,
    Kind::GithubToken,
    Kind::Slack,
    Kind::Tfc,
    Kind::Model,
    Kind::Smtp,
    Kind::WebhookSecret,
];

const GITHUB_APP: &[Field] = &[
    clear("app_id", true, Rule::Digits, 20),
    clear("installation_id", true, Rule::Digits, 20),
    clear("api_url", false, Rule::HttpUrl, 2000),
    secret("private_key", Rule::Pem, 16_384),
];
const GITHUB_TOKEN: &[Field] = &[
    clear("api_url", false, Rule::HttpUrl, 2000),
    secret("token", Rule::Word, 4096),
];
const SLACK: &[Field] = &[
    clear("api_url", false, Rule::HttpUrl, 2000),
    clear("channel", false, Rule::Word, 80),
    secret("bot_token", Rule::Word, 4096),
    secret("signing_secret", Rule::Word, 4096),
];
const TFC: &[Field] = &[
    clear("url", false, Rule::HttpUrl, 2000),
    clear("organization", false, Rule::Word, 200),
    secret("token", Rule::Word, 4096),
];
const MODEL: &[Field] = &[
    clear("url", true, Rule::HttpUrl, 2000),
    clear("model", true, Rule::Text, 200),
    secret("api_key", Rule::Word, 4096),
];
const SMTP: &[Field] = &[
    clear("from", true, Rule::Mailbox, 320),
    secret("url", Rule::SmtpUrl, 2000),
];
const WEBHOOK_SECRET: &[Field] = &[secret("secret", Rule::Word, 4096)];

impl Kind {
    /// Its name in paths and records (`github_app`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::GithubApp => "github_app",
            Kind::GithubToken => "github_token",
            Kind::Slack => "slack",
            Kind::Tfc => "tfc",
            Kind::Model => "model",
            Kind::Smtp => "smtp",
            Kind::WebhookSecret => "webhook_secret",
        }
    }

    /// The kind of this name.
    pub fn parse(s: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.as_str() == s)
    }

    /// Its title on pages.
    pub fn title(self) -> &'static str {
        match self {
            Kind::GithubApp => "GitHub App",
            Kind::GithubToken => "GitHub token",
            Kind::Slack => "Slack",
            Kind::Tfc => "HCP Terraform",
            Kind::Model => "Model",
            Kind::Smtp => "SMTP",
            Kind::WebhookSecret => "Webhook secret",
        }
    }

    /// Its fields, clear ones first.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::GithubApp => GITHUB_APP,
            Kind::GithubToken => GITHUB_TOKEN,
            Kind::Slack => SLACK,
            Kind::Tfc => TFC,
            Kind::Model => MODEL,
            Kind::Smtp => SMTP,
            Kind::WebhookSecret => WEBHOOK_SECRET,
        }
    }
}

/// Every kind's name, for messages.
pub fn kind_names() -> String {
    KINDS.map(Kind::as_str).join(", ")
}

/// Whether `name` may name a record: `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A change as sent: the clear fields (all of them: one left out is
/// removed), and the secret fields given (one left out, or empty, keeps
/// the stored value).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Change {
    /// The record's clear fields.
    pub metadata: BTreeMap<String, String>,
    /// The secret fields given.
    pub secrets: BTreeMap<String, String>,
}

fn check_value(field: &Field, value: &str) -> Option<String> {
    let chars = value.chars().count();
    if chars > field.max {
        return Some(format!("must be at most {} characters", field.max));
    }
    let control =
        |c: char| c.is_control() && !(field.rule == Rule::Pem && (c == '\n' || c == '\r'));
    if value.chars().any(control) {
        return Some("must not hold control characters".into());
    }
    let url = |schemes: &[&str]| {
        let ok = value.split_once("://").is_some_and(|(scheme, rest)| {
            schemes.contains(&scheme) && !rest.is_empty() && !rest.starts_with('/')
        }) && !value.contains(char::is_whitespace);
        (!ok).then(|| format!("must be a URL starting with {}://", schemes.join(":// or ")))
    };
    match field.rule {
        Rule::Text => None,
        Rule::Word => value
            .contains(char::is_whitespace)
            .then(|| "must not hold spaces".into()),
        Rule::Digits => (!value.chars().all(|c| c.is_ascii_digit()))
            .then(|| "must be a number (digits only)".into()),
        Rule::HttpUrl => url(&["http", "https"]),
        Rule::SmtpUrl => url(&["smtp", "smtps"]),
        Rule::Pem => (!value.trim_start().starts_with("-----BEGIN "))
            .then(|| "must be a PEM private key (-----BEGIN …)".into()),
        Rule::Mailbox => {
            let address = value
                .rsplit_once('<')
                .map_or(value, |(_, a)| a.trim_end_matches('>'));
            let ok = address
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            (!ok).then(|| "must be a mailbox such as `tfpilot <tfpilot@example.com>`".into())
        }
    }
}

/// Reads a change of `kind` from a JSON object: unknown fields, values
/// that are not strings, and values breaking their rule are refused, every
/// one named. `has_secret` says which secret fields are stored already
/// (a new record: none), so a missing one is refused.
pub fn read_change(
    kind: Kind,
    raw: &Value,
    has_secret: &dyn Fn(&str) -> bool,
) -> Result<Change, Vec<FieldError>> {
    let mut errors = Vec::new();
    let err = |field: &str, message: String| FieldError {
        field: field.to_owned(),
        message,
    };
    let Some(object) = raw.as_object() else {
        return Err(vec![err(
            "body",
            "must be a JSON object of the kind's fields".into(),
        )]);
    };
    let fields = kind.fields();
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    for key in object.keys() {
        if !names.contains(&key.as_str()) {
            errors.push(err(
                key,
                format!(
                    "is not a field of {}; its fields are {}",
                    kind.as_str(),
                    names.join(", ")
                ),
            ));
        }
    }
    let mut change = Change::default();
    for field in fields {
        let value = match object.get(field.name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Some(_) => {
                errors.push(err(field.name, "must be a string".into()));
                continue;
            }
        };
        match value {
            Some(v) => match check_value(field, &v) {
                Some(message) => errors.push(err(field.name, message)),
                None if field.secret => {
                    change.secrets.insert(field.name.to_owned(), v);
                }
                None => {
                    change.metadata.insert(field.name.to_owned(), v);
                }
            },
            None if field.required && !(field.secret && has_secret(field.name)) => {
                errors.push(err(field.name, "is required".into()))
            }
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(change)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests;
