//! Slack settings from `TFPILOT_SLACK_*`: signing secret, bot token, API URL, default channel.

use super::{ConfigError, SecretString};

/// Slack's Web API.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// The Slack app tfpilot runs as; everything is optional (no bot token, no
/// Slack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackSettings {
    /// Checks the signature of requests from Slack
    /// (`TFPILOT_SLACK_SIGNING_SECRET`).
    pub signing_secret: Option<SecretString>,
    /// The bot's token, `xoxb-…` (`TFPILOT_SLACK_BOT_TOKEN`).
    pub bot_token: Option<SecretString>,
    /// The Web API base, without a trailing slash (`TFPILOT_SLACK_API_URL`,
    /// default `https://slack.com/api`).
    pub api_url: String,
    /// Where notices of requests go unless their project names another
    /// channel (`TFPILOT_SLACK_CHANNEL`).
    pub channel: Option<String>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            signing_secret: None,
            bot_token: None,
            api_url: DEFAULT_API_URL.into(),
            channel: None,
        }
    }
}

impl super::Config {
    /// Where notices of `project`'s requests go: its `slack_channel`, else
    /// `TFPILOT_SLACK_CHANNEL`; `None` when neither is set.
    pub fn slack_channel(&self, project: &app::domain::ids::ProjectKey) -> Option<&str> {
        self.projects
            .get(project)
            .and_then(|p| p.slack_channel.as_deref())
            .or(self.slack.channel.as_deref())
    }
}

/// `None` when the channel is a plausible Slack channel id (`C0123ABCD`) or
/// name (`#infra-requests`); otherwise what is wrong with it.
pub fn check_channel(channel: &str) -> Option<String> {
    let name = channel.strip_prefix('#').unwrap_or(channel);
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (!ok).then(|| {
        format!(
            "`{channel}` is not a Slack channel id (C0123ABCD) or name (#infra-requests): \
             letters, digits, `-`, `_` and `.` only"
        )
    })
}

/// Reads the `TFPILOT_SLACK_*` variables.
pub(super) fn slack_settings(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<SlackSettings, ConfigError> {
    let set = |var: &str| {
        env(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let signing_secret = set("TFPILOT_SLACK_SIGNING_SECRET");
    if signing_secret
        .as_deref()
        .is_some_and(|s| s.chars().any(char::is_whitespace))
    {
        return Err(ConfigError::Env {
            var: "TFPILOT_SLACK_SIGNING_SECRET",
            message: "must be the app's signing secret (Basic Information in the Slack app settings), without spaces".into(),
        });
    }
    let bot_token = set("TFPILOT_SLACK_BOT_TOKEN");
    if bot_token
        .as_deref()
        .is_some_and(|t| !t.starts_with("xox") || t.chars().any(char::is_whitespace))
    {
        return Err(ConfigError::Env {
            var: "TFPILOT_SLACK_BOT_TOKEN",
            message: "must be the bot's OAuth token, `xoxb-…` (OAuth & Permissions in the Slack app settings)".into(),
        });
    }
    let api_url = set("TFPILOT_SLACK_API_URL")
        .unwrap_or_else(|| DEFAULT_API_URL.into())
        .trim_end_matches('/')
        .to_owned();
    if !(api_url.starts_with("https://") || api_url.starts_with("http://"))
        || reqwest::Url::parse(&api_url).is_err()
    {
        return Err(ConfigError::Env {
            var: "TFPILOT_SLACK_API_URL",
            message: format!("`{api_url}` must be an http:// or https:// URL"),
        });
    }
    let channel = set("TFPILOT_SLACK_CHANNEL");
    if let Some(problem) = channel.as_deref().and_then(check_channel) {
        return Err(ConfigError::Env {
            var: "TFPILOT_SLACK_CHANNEL",
            message: problem,
        });
    }
    Ok(SlackSettings {
        signing_secret: signing_secret.map(SecretString::new),
        bot_token: bot_token.map(SecretString::new),
        api_url,
        channel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<SlackSettings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        slack_settings(&|k: &str| map.get(k).cloned())
    }

    #[test]
    fn nothing_set_means_no_slack() {
        assert_eq!(load(&[]).unwrap(), SlackSettings::default());
        assert_eq!(
            load(&[("TFPILOT_SLACK_BOT_TOKEN", " ")]).unwrap(),
            SlackSettings::default()
        );
    }

    #[test]
    fn all_set() {
        let s = load(&[
            (
                "TFPILOT_SLACK_SIGNING_SECRET",
                "8f742231b10e8888abcd99yyyzzz85a5",
            ),
            ("TFPILOT_SLACK_BOT_TOKEN", "xoxb-1-2-abc"),
            ("TFPILOT_SLACK_API_URL", "http://127.0.0.1:9/api/"),
            ("TFPILOT_SLACK_CHANNEL", "#infra-requests"),
        ])
        .unwrap();
        assert_eq!(s.bot_token.unwrap().expose(), "xoxb-1-2-abc");
        assert_eq!(
            s.signing_secret.unwrap().expose(),
            "8f742231b10e8888abcd99yyyzzz85a5"
        );
        assert_eq!(s.api_url, "http://127.0.0.1:9/api");
        assert_eq!(s.channel.as_deref(), Some("#infra-requests"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            ("TFPILOT_SLACK_SIGNING_SECRET", "two words"),
            ("TFPILOT_SLACK_BOT_TOKEN", "ghp_123"),
            ("TFPILOT_SLACK_API_URL", "slack.com/api"),
            ("TFPILOT_SLACK_CHANNEL", "#two words"),
            ("TFPILOT_SLACK_CHANNEL", "#"),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).unwrap_err().to_string();
            assert!(err.starts_with(var), "{var}={value}: {err}");
        }
    }

    #[test]
    fn the_secrets_are_not_in_debug_output() {
        let s = load(&[
            ("TFPILOT_SLACK_SIGNING_SECRET", "signing-1"),
            ("TFPILOT_SLACK_BOT_TOKEN", "xoxb-secret"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("signing-1") && !shown.contains("xoxb-secret"),
            "{shown}"
        );
    }
}
