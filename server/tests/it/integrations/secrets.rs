//! A whole session on the real binary with debug logs: every kind set
//! over the API and through the page's forms, listed, read, edited,
//! refused and deleted, and used by the adapters (the model asked, a
//! webhook and a Slack request checked with the stored secrets). Then the
//! server's output, every API answer, every
//! page, every audit record and the stored records are searched for the
//! secret values: none is anywhere.

use super::{bodies, secret_values};
use crate::support::binary::cli;
use crate::support::{root, wait_healthy, wait_until};
use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_secret_value_is_in_any_log_page_answer_or_audit_record() {
    session("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_secret_value_is_in_any_json_log_line() {
    session("json").await;
}

/// The whole session with `TFPILOT_LOG_FORMAT=format`.
async fn session(format: &str) {
    let data = tempfile::tempdir().unwrap();
    let password = "integration admin passphrase";
    cli(
        data.path(),
        &[],
        &["users", "add", "ada", "--role", "admin", "--password-stdin"],
        Some(password),
    );
    cli(
        data.path(),
        &[],
        &["users", "add", "bob", "--role", "approver"],
        None,
    );
    let ada = cli(
        data.path(),
        &[],
        &["tokens", "create", "--user", "ada"],
        None,
    )
    .trim()
    .to_owned();
    let bob = cli(
        data.path(),
        &[],
        &["tokens", "create", "--user", "bob"],
        None,
    )
    .trim()
    .to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log = data.path().join("tfpilot.log");
    let out = data.path().join("tfpilot.out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tfpilot"))
        .arg("serve")
        .env("TFPILOT_BIND", format!("127.0.0.1:{port}"))
        .env("TFPILOT_PUBLIC_URL", &base)
        .env("TFPILOT_DATA_DIR", data.path())
        .env("TFPILOT_REGISTRY", root().join("modules-registry.toml"))
        .env("TFPILOT_WORKFLOWS_DIR", root().join("infra-workflows"))
        .env("TFPILOT_SITE_ROOT", data.path().join("site"))
        .env("TFPILOT_LOG", "debug")
        .env("TFPILOT_LOG_FORMAT", format)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_healthy(&base).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = String::new();
    let mut answer = |text: String| seen.push_str(&text);

    for (kind, body) in bodies("zq7") {
        let res = http
            .put(format!("{base}/api/v1/integrations/{kind}/default"))
            .bearer_auth(&ada)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{kind}");
        answer(res.text().await.unwrap());
        // Refused for a non-admin, and for a bad field next to the secret.
        let res = http
            .put(format!("{base}/api/v1/integrations/{kind}/default"))
            .bearer_auth(&bob)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        answer(res.text().await.unwrap());
        let mut bad = body.clone();
        bad["bogus"] = serde_json::json!("zq7-not-a-field");
        let res = http
            .put(format!("{base}/api/v1/integrations/{kind}/second"))
            .bearer_auth(&ada)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        answer(res.text().await.unwrap());
        let res = http
            .get(format!("{base}/api/v1/integrations/{kind}/default"))
            .bearer_auth(&ada)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        answer(res.text().await.unwrap());
    }
    let res = http
        .get(format!("{base}/api/v1/integrations"))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list = res.text().await.unwrap();
    assert!(list.contains("\"state\":\"ok\""), "{list}");
    answer(list);

    // The page and its forms, as ada's browser.
    let signed = http
        .post(format!("{base}/auth/login"))
        .json(&serde_json::json!({"login": "ada", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let cookie = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tfpilot_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned();
    let form = |path: &str, fields: &[(&str, &str)]| {
        http.post(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("origin", &base)
            .form(fields)
            .send()
    };
    let res = form(
        "/admin/integrations",
        &[
            ("kind", "slack"),
            ("name", "default"),
            ("channel", "#ops"),
            ("api_url", ""),
            ("bot_token", ""),
            ("signing_secret", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with("/admin/integrations?done=Saved"), "{back}");
    answer(back);
    let res = form(
        "/admin/integrations",
        &[
            ("kind", "webhook_secret"),
            ("name", "ci"),
            ("secret", "zq7formhook"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    answer(res.headers()["location"].to_str().unwrap().to_owned());
    let res = form(
        "/admin/integrations",
        &[
            ("kind", "smtp"),
            ("name", "bad"),
            ("from", "nobody"),
            ("url", "smtp://u:zq7formpw@mail"),
        ],
    )
    .await
    .unwrap();
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("error=") && back.contains("from"), "{back}");
    answer(back);
    let page = http
        .get(format!("{base}/admin/integrations"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("slack/default") && page.contains("channel = #ops"),
        "{page}"
    );
    assert!(
        page.contains("set on ") && page.contains("by ada, key k"),
        "{page}"
    );
    assert!(page.contains("type=\"password\""), "{page}");
    answer(page);
    let res = form("/admin/integrations/webhook_secret/ci/delete", &[])
        .await
        .unwrap();
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .contains("done=Deleted")
    );
    // The adapters use the stored values: a draft asks the stored model
    // (unreachable: the rules answer), a GitHub ping signed with the
    // stored webhook secret and a Slack URL check signed with the stored
    // signing secret are accepted.
    let res = http
        .post(format!("{base}/api/v1/assistant/draft"))
        .bearer_auth(&ada)
        .json(&serde_json::json!({"text": "a queue called zq7-orders"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    answer(res.text().await.unwrap());
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let res = http
        .post(format!("{base}/api/v1/webhooks/github"))
        .header("x-github-event", "ping")
        .header(
            "x-hub-signature-256",
            server::http::webhooks::signature(b"zq7hook", ping),
        )
        .body(ping.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the stored webhook secret is used");
    answer(res.text().await.unwrap());
    let check = br#"{"type":"url_verification","challenge":"zq7-challenge"}"#.to_vec();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let res = http
        .post(format!("{base}/api/v1/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", &now)
        .header(
            "x-slack-signature",
            server::slack::signing::signature("zq7sign", &now, &check),
        )
        .body(check)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the stored signing secret is used");
    answer(res.text().await.unwrap());
    let res = http
        .delete(format!("{base}/api/v1/integrations/model/default"))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = http
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&ada)
        .send()
        .await
        .unwrap();
    let audit = res.text().await.unwrap();
    assert!(
        audit.contains("integration.put") && audit.contains("integration.delete"),
        "{audit}"
    );
    answer(audit);

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    wait_until(Duration::from_secs(30), "tfpilot to stop", || {
        let exited = child.try_wait().unwrap();
        async move { exited.map(|_| ()).ok_or_else(|| "still running".to_owned()) }
    })
    .await;
    let logs =
        crate::support::readable_logs(&std::fs::read_to_string(&log).unwrap(), format == "json")
            + &std::fs::read_to_string(&out).unwrap();
    assert!(
        logs.contains("integration"),
        "debug logs were written: {logs}"
    );
    // Every file the server stored: audit records, the integration records.
    let mut stored = String::new();
    let mut dirs = vec![data.path().join("store")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                stored.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
            }
        }
    }
    assert!(stored.contains("\"ciphertext\""), "the records are stored");
    let mut searched = secret_values("zq7");
    searched.extend(["zq7formhook".to_owned(), "zq7formpw".to_owned()]);
    let mut found = Vec::new();
    for secret in &searched {
        for (what, text) in [
            ("log", &logs),
            ("answer or page", &seen),
            ("store", &stored),
        ] {
            if text.contains(secret.as_str()) {
                found.push(format!("{secret} in a {what}"));
            }
        }
    }
    println!(
        "secret-grep ({format} logs): {} secret values searched in {} bytes of server output, {} bytes of answers and pages, {} bytes stored: {} found",
        searched.len(),
        logs.len(),
        seen.len(),
        stored.len(),
        found.len()
    );
    assert!(found.is_empty(), "{found:?}");
}
