//! `SlackWeb` against `FakeSlack`: each call's JSON, users, identity, and how refusals, rate limits and outages map to `SlackError`.

use crate::metrics::series;
use crate::support::slack::{self, FakeSlack};
use serde_json::json;
use server::config::SecretString;
use server::slack::{BotIdentity, Message, SlackApi, SlackError, SlackUser, SlackWeb};
use std::time::Duration;

fn client(fake: &FakeSlack) -> SlackWeb {
    SlackWeb::new(&fake.api_url(), SecretString::new(slack::TOKEN.into())).unwrap()
}

#[tokio::test]
async fn posts_update_and_ephemeral_messages_are_sent_as_json() {
    let fake = FakeSlack::start().await;
    let web = client(&fake);
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*plan*"}}]);
    let first = web
        .post_message(&Message::text("C1", "hello"))
        .await
        .unwrap();
    let reply = web
        .post_message(
            &Message::text("C1", "plan ready")
                .in_thread(&first.ts)
                .with_blocks(blocks.clone()),
        )
        .await
        .unwrap();
    assert_eq!(first.channel, "C1");
    assert!(reply.ts > first.ts, "{} then {}", first.ts, reply.ts);
    web.update("C1", &reply.ts, &Message::text("C1", "applied"))
        .await
        .unwrap();
    web.post_ephemeral(
        "C1",
        "U7",
        &Message::text("C1", "only you").in_thread(&first.ts),
    )
    .await
    .unwrap();

    let posts = fake.calls_to("chat.postMessage");
    assert_eq!(posts[0].body, json!({"channel": "C1", "text": "hello"}));
    assert_eq!(posts[1].thread_ts.as_deref(), Some(first.ts.as_str()));
    assert_eq!(posts[1].body["blocks"], blocks);
    let update = &fake.calls_to("chat.update")[0];
    assert_eq!(
        update.body,
        json!({"channel": "C1", "ts": reply.ts, "text": "applied"})
    );
    let ephemeral = &fake.calls_to("chat.postEphemeral")[0];
    assert_eq!(
        ephemeral.body,
        json!({"channel": "C1", "user": "U7", "text": "only you", "thread_ts": first.ts})
    );
    let json = Some("application/json; charset=utf-8");
    assert!(posts.iter().all(|c| c.content_type.as_deref() == json));
    assert_eq!(update.content_type.as_deref(), json);
    let messages = fake.messages_in("C1");
    assert_eq!(
        messages.len(),
        2,
        "ephemeral messages are not in the channel"
    );
    assert_eq!(
        (messages[1].text.as_str(), messages[1].updates),
        ("applied", 1)
    );
    assert_eq!(messages[1].blocks, None, "the update replaced the blocks");
    assert!(fake.calls().iter().all(|c| c.ok));
}

#[tokio::test]
async fn users_and_the_bot_identity() {
    let fake = FakeSlack::start().await;
    fake.add_user("U1", Some("pat@example.com"), false);
    fake.add_user("B9", None, true);
    let web = client(&fake);
    assert_eq!(
        web.user_info("U1").await.unwrap(),
        SlackUser {
            id: "U1".into(),
            email: Some("pat@example.com".into()),
            is_bot: false,
            name: "u1".into(),
        }
    );
    let bot = web.user_info("B9").await.unwrap();
    assert!(bot.is_bot && bot.email.is_none(), "{bot:?}");
    assert_eq!(
        web.user_info("U404").await,
        Err(SlackError::Api("user_not_found".into()))
    );
    assert_eq!(fake.calls_to("users.info")[0].body, json!({"user": "U1"}));
    assert_eq!(
        web.auth_test().await.unwrap(),
        BotIdentity {
            user_id: slack::BOT_USER_ID.into(),
            bot_id: Some(slack::BOT_ID.into()),
            team: slack::TEAM.into(),
        }
    );
}

#[tokio::test]
async fn a_token_slack_does_not_know_is_invalid_auth() {
    let fake = FakeSlack::start().await;
    let web = SlackWeb::new(&fake.api_url(), SecretString::new("xoxb-wrong".into())).unwrap();
    assert_eq!(
        web.auth_test().await,
        Err(SlackError::Api("invalid_auth".into()))
    );
    let err = web
        .post_message(&Message::text("C1", "x"))
        .await
        .unwrap_err();
    assert_eq!(err, SlackError::Api("invalid_auth".into()));
    assert!(fake.messages_in("C1").is_empty());
    fake.set_token("xoxb-wrong");
    assert!(web.auth_test().await.is_ok());
}

#[tokio::test]
async fn rate_limits_carry_retry_after_and_failures_their_code() {
    let fake = FakeSlack::start().await;
    let web = client(&fake);
    let counted = |outcome: &str| {
        series(&format!(
            r#"tfpilot_upstream_calls_total{{service="slack",outcome="{outcome}"}}"#
        ))
    };
    let (limited, errors) = (counted("rate_limited"), counted("error"));
    fake.rate_limit_next(2, 30);
    for _ in 0..2 {
        assert_eq!(
            web.post_message(&Message::text("C1", "x")).await,
            Err(SlackError::RateLimited {
                retry_after: Duration::from_secs(30)
            })
        );
    }
    fake.fail_next(1, "channel_not_found");
    assert_eq!(
        web.post_message(&Message::text("C1", "x")).await,
        Err(SlackError::Api("channel_not_found".into()))
    );
    assert!(web.post_message(&Message::text("C1", "x")).await.is_ok());
    let oks: Vec<bool> = fake.calls().iter().map(|c| c.ok).collect();
    assert_eq!(oks, [false, false, false, true]);
    // Two 429s and an `ok: false`, counted as such.
    assert!(counted("rate_limited") >= limited + 2.0);
    assert!(counted("error") >= errors + 1.0);
    assert_eq!(fake.messages_in("C1").len(), 1);
    assert_eq!(
        web.update("C1", "1.2", &Message::text("C1", "y")).await,
        Err(SlackError::Api("message_not_found".into()))
    );
}

#[tokio::test]
async fn an_unreachable_or_broken_slack_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("http://127.0.0.1:{port}/api");
    let web = SlackWeb::new(&down, SecretString::new(slack::TOKEN.into())).unwrap();
    let err = web.auth_test().await.unwrap_err();
    assert!(matches!(err, SlackError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains(slack::TOKEN), "{err}");

    let fake = FakeSlack::start().await;
    let wrong_path = SlackWeb::new(&fake.base, SecretString::new(slack::TOKEN.into())).unwrap();
    let err = wrong_path.auth_test().await.unwrap_err();
    assert!(matches!(err, SlackError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn response_urls_on_the_api_host_are_posted_and_others_refused() {
    let fake = FakeSlack::start().await;
    let web = client(&fake);
    let url = fake.response_url();
    let body = json!({"replace_original": true, "text": "approved by <@U1>"});
    web.post_response(&url, &body).await.unwrap();
    let calls = fake.calls_to("response_url");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].url.as_deref(), Some(url.as_str()));
    assert_eq!(calls[0].body, body);

    let elsewhere = "http://127.0.0.2:9/response/1";
    assert_eq!(
        web.post_response(elsewhere, &body).await,
        Err(SlackError::Api("response_url_not_allowed".into()))
    );
    let unknown = format!("{}/response/999", fake.base);
    assert_eq!(
        web.post_response(&unknown, &body).await,
        Err(SlackError::Api("no_such_url".into()))
    );
    fake.rate_limit_next(1, 5);
    assert_eq!(
        web.post_response(&url, &body).await,
        Err(SlackError::RateLimited {
            retry_after: Duration::from_secs(5)
        })
    );
}
