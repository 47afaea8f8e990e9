//! An answer to a question about platform state (`service::ask`) as a
//! Slack message: the sentence, then one line per request with its link.

use super::blocks::esc;
use app::api::AskAnswer;

/// The answer in Slack's mrkdwn: every text from a request escaped, each
/// request a link to its page on `public_url`.
pub fn render(answer: &AskAnswer, public_url: &str) -> String {
    let mut out = esc(&answer.answer);
    for item in &answer.items {
        out.push_str(&format!(
            "\n• <{public_url}{}|{}> {}: *{}*",
            item.link,
            esc(&item.id),
            esc(&item.title),
            esc(&item.status)
        ));
        if !item.detail.is_empty() {
            out.push_str(&format!(" · {}", esc(&item.detail)));
        }
        if let Some(at) = &item.at {
            out.push_str(&format!(" · {}", app::api::short_time(at)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::AskItem;

    #[test]
    fn requests_are_linked_and_user_text_is_escaped() {
        let answer = AskAnswer {
            answer: "1 request <waits> for your approval.".into(),
            items: vec![AskItem {
                id: "01jd5x8k2m000000".into(),
                title: "S3 bucket <!here>".into(),
                status: "plan_ready".into(),
                link: "/requests/01jd5x8k2m000000".into(),
                detail: "s3-bucket in sandbox/dev by eve".into(),
                at: Some("2026-05-13T10:30:00.000Z".into()),
            }],
        };
        assert_eq!(
            render(&answer, "https://tfpilot.example"),
            "1 request &lt;waits&gt; for your approval.\n\
             • <https://tfpilot.example/requests/01jd5x8k2m000000|01jd5x8k2m000000> \
             S3 bucket &lt;!here&gt;: *plan_ready* · s3-bucket in sandbox/dev by eve · 2026-05-13 10:30"
        );
    }
}
