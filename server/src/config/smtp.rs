//! E-mail settings from `TFPILOT_SMTP_URL` and `TFPILOT_SMTP_FROM`: where notices are sent from.

use super::{ConfigError, SecretString};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

/// An SMTP server and the mailbox notices come from.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtps://user:pass@host`, `smtp://host:587?tls=required`
    /// (`TFPILOT_SMTP_URL`); it may hold a password, so it is never printed.
    pub url: SecretString,
    /// `tfpilot <tfpilot@example.com>` (`TFPILOT_SMTP_FROM`).
    pub from: String,
}

const URL_FORMS: &str = "smtp://host:25, smtp://host:587?tls=required (STARTTLS) \
                         or smtps://user:password@host (TLS)";

/// Both variables or neither; each must parse.
pub(super) fn smtp_config(
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<SmtpSettings>, ConfigError> {
    let set = |var: &str| env(var).filter(|s| !s.trim().is_empty());
    let (url, from) = match (set("TFPILOT_SMTP_URL"), set("TFPILOT_SMTP_FROM")) {
        (None, None) => return Ok(None),
        (Some(_), None) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_SMTP_FROM",
                message: "must be set with TFPILOT_SMTP_URL: the mailbox notices come from, \
                          such as `tfpilot <tfpilot@example.com>`"
                    .into(),
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError::Env {
                var: "TFPILOT_SMTP_URL",
                message: format!(
                    "must be set with TFPILOT_SMTP_FROM: the SMTP server, {URL_FORMS}"
                ),
            });
        }
        (Some(url), Some(from)) => (url.trim().to_owned(), from.trim().to_owned()),
    };
    check_url(&url)?;
    check_from(&from)?;
    Ok(Some(SmtpSettings {
        url: SecretString::new(url),
        from,
    }))
}

/// The URL parses as a transport; the message never repeats the URL (it
/// may hold a password).
fn check_url(url: &str) -> Result<(), ConfigError> {
    let bad = |why: String| ConfigError::Env {
        var: "TFPILOT_SMTP_URL",
        message: format!("not an SMTP URL ({why}); use {URL_FORMS}"),
    };
    let scheme = url.split_once("://").map(|(s, _)| s);
    if !matches!(scheme, Some("smtp" | "smtps")) {
        return Err(bad("the scheme must be smtp or smtps".into()));
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|e| bad(e.to_string()))
}

fn check_from(from: &str) -> Result<(), ConfigError> {
    from.parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| ConfigError::Env {
            var: "TFPILOT_SMTP_FROM",
            message: format!(
                "`{from}` is not a mailbox such as `tfpilot <tfpilot@example.com>` or \
                 `tfpilot@example.com` ({e})"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Option<SmtpSettings>, ConfigError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        smtp_config(&|k: &str| map.get(k).map(|v| v.to_string()))
    }

    fn error(vars: &[(&str, &str)]) -> (&'static str, String) {
        match load(vars) {
            Err(ConfigError::Env { var, message }) => (var, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn neither_variable_means_no_email() {
        assert!(load(&[]).unwrap().is_none());
        assert!(
            load(&[("TFPILOT_SMTP_URL", " "), ("TFPILOT_SMTP_FROM", "")])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn the_url_forms_lettre_reads_are_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtps://user:pass@mail.example.com",
            "smtp://mail.example.com:587?tls=required",
            "smtp://mail.example.com?tls=opportunistic",
        ] {
            let s = load(&[
                ("TFPILOT_SMTP_URL", url),
                ("TFPILOT_SMTP_FROM", "tfpilot <tfpilot@example.com>"),
            ])
            .unwrap()
            .unwrap();
            assert_eq!(s.url.expose(), url);
            assert_eq!(s.from, "tfpilot <tfpilot@example.com>");
            assert_eq!(format!("{:?}", s.url), "***");
        }
    }

    #[test]
    fn one_without_the_other_names_the_missing_variable() {
        let (var, message) = error(&[("TFPILOT_SMTP_URL", "smtp://127.0.0.1:2525")]);
        assert_eq!(var, "TFPILOT_SMTP_FROM");
        assert!(message.contains("TFPILOT_SMTP_URL"), "{message}");
        let (var, _) = error(&[("TFPILOT_SMTP_FROM", "tfpilot@example.com")]);
        assert_eq!(var, "TFPILOT_SMTP_URL");
    }

    #[test]
    fn a_bad_url_is_named_without_its_password() {
        for url in [
            "http://user:hunter2@mail.example.com",
            "smtp://user:hunter2@mail.example.com?tls=sometimes",
            "smtp://user:hunter2@",
            "mail.example.com",
        ] {
            let (var, message) = error(&[
                ("TFPILOT_SMTP_URL", url),
                ("TFPILOT_SMTP_FROM", "tfpilot@example.com"),
            ]);
            assert_eq!(var, "TFPILOT_SMTP_URL", "{url}");
            assert!(!message.contains("hunter2"), "{message}");
            assert!(message.contains("smtps://"), "{message}");
        }
    }

    #[test]
    fn a_bad_from_is_named() {
        for from in ["tfpilot", "tfpilot <not an address>", "a@b@c"] {
            let (var, message) = error(&[
                ("TFPILOT_SMTP_URL", "smtp://127.0.0.1:2525"),
                ("TFPILOT_SMTP_FROM", from),
            ]);
            assert_eq!(var, "TFPILOT_SMTP_FROM", "{from}");
            assert!(message.contains(from), "{message}");
        }
    }
}
