//! `EmailNotifier`: mails each notice to the requester's address over SMTP (`TFPILOT_SMTP_*`, or the stored `smtp` integration).
//!
//! The SMTP URL and sender are read from a [`Live`] credential at each
//! notice; the transport is built again when they changed. Without one,
//! nothing is mailed.

use super::words::headline;
use super::{Notice, NoticeKind, Notifier, NotifyError};
use crate::auth::{UserError, Users};
use crate::config::{SecretString, SmtpSettings};
use crate::integrations::live::Live;
use crate::integrations::values::SmtpCredential;
use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why the e-mail notifier cannot be built from its settings.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// The SMTP URL does not describe a transport (the URL is not repeated:
    /// it may hold a password).
    #[error("TFPILOT_SMTP_URL: not an SMTP URL ({0})")]
    Url(String),
    /// The sender is not a mailbox.
    #[error("TFPILOT_SMTP_FROM: `{0}` is not a mailbox such as `tfpilot <tfpilot@example.com>`")]
    From(String),
}

/// Sends one mail per notice to the requester, when they have an address
/// and are not disabled (not for `Created`: they filed it themselves; not
/// for `PlanSucceeded`: `ApprovalNeeded` follows with the same counts).
pub struct EmailNotifier {
    credential: Live<SmtpCredential>,
    /// The transport of the credential it was built from.
    built: Mutex<Option<(Arc<SmtpCredential>, Arc<Sender>)>>,
    users: Users,
}

/// A transport and its sender.
struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The URL's password, scrubbed from any error sentence.
    password: Option<String>,
}

impl Sender {
    fn new(url: &SecretString, from: &str) -> Result<Self, EmailError> {
        let url = url.expose();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| EmailError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from
            .parse()
            .map_err(|_| EmailError::From(from.to_owned()))?;
        Ok(Self {
            transport,
            from,
            password: password(url),
        })
    }

    fn scrub(&self, sentence: String) -> String {
        match &self.password {
            Some(p) if !p.is_empty() => sentence.replace(p.as_str(), "***"),
            _ => sentence,
        }
    }
}

impl EmailNotifier {
    /// Over the SMTP server and sender of `settings`; addresses are read
    /// from `users` at each notice.
    pub fn new(settings: &SmtpSettings, users: Users) -> Result<Self, EmailError> {
        let credential = Arc::new(SmtpCredential {
            url: settings.url.clone(),
            from: settings.from.clone(),
        });
        let sender = Arc::new(Sender::new(&credential.url, &credential.from)?);
        let notifier = Self::live(Live::fixed(SmtpCredential::clone(&credential)), users);
        *notifier.built.lock().unwrap_or_else(|p| p.into_inner()) = Some((credential, sender));
        Ok(notifier)
    }

    /// Reading the SMTP server and sender from `credential` at each notice.
    pub fn live(credential: Live<SmtpCredential>, users: Users) -> Self {
        Self {
            credential,
            built: Mutex::new(None),
            users,
        }
    }

    /// The sender of the credential now; `None` when there is none.
    fn sender(&self) -> Result<Option<Arc<Sender>>, NotifyError> {
        let Some(now) = self.credential.get() else {
            return Ok(None);
        };
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((from, sender)) = built.as_ref()
            && **from == *now
        {
            return Ok(Some(sender.clone()));
        }
        let sender = Arc::new(
            Sender::new(&now.url, &now.from)
                .map_err(|e| NotifyError::Failed(format!("the SMTP settings: {e}")))?,
        );
        *built = Some((now, sender.clone()));
        Ok(Some(sender))
    }

    /// The mail of `notice` to `to`.
    fn message(
        &self,
        from: &Mailbox,
        notice: &Notice,
        to: Mailbox,
    ) -> Result<Message, NotifyError> {
        let line = headline(notice);
        Message::builder()
            .message_id(Some(format!("<{}@tfpilot>", notice.id)))
            .from(from.clone())
            .to(to)
            .subject(format!("[tfpilot] {line}"))
            .multipart(MultiPart::alternative_plain_html(
                text_body(&line, notice),
                html_body(&line, notice),
            ))
            .map_err(|e| NotifyError::Failed(format!("the mail of {} is invalid: {e}", notice.id)))
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn name(&self) -> &'static str {
        "email"
    }

    async fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        if matches!(notice.kind, NoticeKind::Created | NoticeKind::PlanSucceeded) {
            // The requester filed it themselves; a successful plan's mail
            // is the approval-needed one that follows (same counts, plus
            // the risk notes).
            return Ok(());
        }
        let Some(sender) = self.sender()? else {
            // No SMTP server (any more): nothing to mail.
            return Ok(());
        };
        let user = match self.users.get(&notice.requester).await {
            Ok(user) => user,
            Err(UserError::NotFound(_) | UserError::InvalidLogin(_)) => return Ok(()),
            Err(e) => {
                return Err(NotifyError::Failed(format!(
                    "cannot read user `{}` for their e-mail: {e}",
                    notice.requester
                )));
            }
        };
        let Some(address) = user.email.filter(|a| !a.trim().is_empty()) else {
            return Ok(());
        };
        if user.disabled {
            return Ok(());
        }
        let Ok(to) = address.trim().parse::<Mailbox>() else {
            // A retry would not help: nobody to tell until the address is fixed.
            tracing::warn!(user = %user.login, notice = %notice.id, "the user's e-mail address is invalid; notice not mailed");
            return Ok(());
        };
        let message = self.message(&sender.from, notice, to)?;
        sender
            .transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| {
                NotifyError::Failed(sender.scrub(format!(
                    "the mail of {} to {}'s address was not sent: {e}",
                    notice.id, user.login
                )))
            })
    }
}

/// The sentence, the risk notes, the links.
fn text_body(line: &str, notice: &Notice) -> String {
    let mut out = format!("{line}\n");
    if !notice.risks.is_empty() {
        out.push_str("\nHigh-risk inputs:\n");
        for risk in &notice.risks {
            out.push_str(&format!("  - {risk}\n"));
        }
    }
    out.push('\n');
    if let Some(pr) = &notice.pr_url {
        out.push_str(&format!("Pull request: {pr}\n"));
    }
    out.push_str(&format!("Request: {}\n", notice.link));
    out
}

/// The same as [`text_body`], for mail readers that show HTML.
fn html_body(line: &str, notice: &Notice) -> String {
    let mut out = format!("<p>{}</p>\n", escape(line));
    if !notice.risks.is_empty() {
        out.push_str("<p>High-risk inputs:</p>\n<ul>\n");
        for risk in &notice.risks {
            out.push_str(&format!("<li><code>{}</code></li>\n", escape(risk)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<p>");
    if let Some(pr) = &notice.pr_url {
        let pr = escape(pr);
        out.push_str(&format!("<a href=\"{pr}\">Pull request</a> · "));
    }
    let link = escape(&notice.link);
    out.push_str(&format!("<a href=\"{link}\">Request</a></p>\n"));
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The password of `scheme://user:password@host…` as written, if any.
fn password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then(|| password.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_found_in_the_url() {
        assert_eq!(
            password("smtps://user:s3cret@mail.example.com:465").as_deref(),
            Some("s3cret")
        );
        assert_eq!(password("smtp://127.0.0.1:2525"), None);
        assert_eq!(password("smtp://user@host"), None);
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("a <b> & \"c\""), "a &lt;b&gt; &amp; &quot;c&quot;");
    }
}
