//! Slack settings through the layered `Config`: the `TFPILOT_SLACK_*` variables and each project's `slack_channel`.

use crate::support::config_from;
use std::io::Write;

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, "{text}").unwrap();
    file
}

#[test]
fn slack_is_off_by_default_and_on_with_a_bot_token() {
    let c = config_from(&[]).unwrap();
    assert!(c.slack.bot_token.is_none() && c.slack.signing_secret.is_none());
    assert_eq!(c.slack.api_url, "https://slack.com/api");
    assert!(c.projects.values().all(|p| p.slack_channel.is_none()));
    let c = config_from(&[
        ("TFPILOT_SLACK_BOT_TOKEN", "xoxb-1"),
        ("TFPILOT_SLACK_SIGNING_SECRET", "abc"),
        ("TFPILOT_SLACK_CHANNEL", "C0123ABCD"),
        ("TFPILOT_SLACK_API_URL", "https://slack.example/api/"),
    ])
    .unwrap();
    assert_eq!(c.slack.bot_token.unwrap().expose(), "xoxb-1");
    assert_eq!(c.slack.api_url, "https://slack.example/api");
    assert_eq!(c.slack.channel.as_deref(), Some("C0123ABCD"));
}

#[test]
fn each_project_may_name_its_channel() {
    let f = file(
        "[projects.payments]\nenvironments = [\"dev\"]\nslack_channel = \"#payments-infra\"\n\n\
         [projects.web]\nenvironments = [\"dev\"]\n",
    );
    let path = f.path().to_str().unwrap();
    let c = config_from(&[("TFPILOT_CONFIG", path)]).unwrap();
    let channel = |key: &str| {
        c.projects
            .values()
            .find(|p| p.key.as_str() == key)
            .unwrap()
            .slack_channel
            .clone()
    };
    assert_eq!(channel("payments").as_deref(), Some("#payments-infra"));
    assert_eq!(channel("web"), None);
    let key = |k: &str| app::domain::ids::ProjectKey::parse(k).unwrap();
    assert_eq!(c.slack_channel(&key("payments")), Some("#payments-infra"));
    assert_eq!(c.slack_channel(&key("web")), None);
    let c = config_from(&[("TFPILOT_CONFIG", path), ("TFPILOT_SLACK_CHANNEL", "C9")]).unwrap();
    assert_eq!(c.slack_channel(&key("payments")), Some("#payments-infra"));
    assert_eq!(
        c.slack_channel(&key("web")),
        Some("C9"),
        "the default channel"
    );
    assert_eq!(c.slack_channel(&key("unknown")), Some("C9"));
}

#[test]
fn a_bad_channel_names_the_project_and_key() {
    let f = file("[projects.payments]\nenvironments = [\"dev\"]\nslack_channel = \"two words\"\n");
    let err = config_from(&[("TFPILOT_CONFIG", f.path().to_str().unwrap())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("projects.payments: slack_channel"), "{err}");
    let err = config_from(&[("TFPILOT_SLACK_API_URL", "ftp://x")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("TFPILOT_SLACK_API_URL"), "{err}");
}
