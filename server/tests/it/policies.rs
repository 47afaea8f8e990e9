//! Remediation policies over the API: admins create, replace and delete
//! them (audited), approvers read them and try alerts against them,
//! every bad field is a 422 naming it, and the dry run does nothing.

use crate::support::TestApp;
use app::domain::policy::Role;
use serde_json::{Value, json};

fn backlog() -> Value {
    json!({
        "name": "queue-backlog",
        "priority": 10,
        "condition": {"labels": {"alertname": "QueueBacklog", "severity": "=~critical|page"}, "status": "firing"},
        "action": {"kind": "update_inputs", "request": "${label.tfpilot_request}",
                   "inputs": {"dlq_max_receive_count": "${annotation.new_max}"}},
        "auto_approve_environments": ["dev"]
    })
}

fn payload(labels: Value, annotations: Value) -> Value {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"QueueBacklog\"}", "status": "firing",
        "receiver": "tfpilot",
        "alerts": [{"status": "firing", "labels": labels, "annotations": annotations,
                    "fingerprint": "f00d", "startsAt": "2026-12-05T10:00:00Z"}]
    })
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn admins_manage_policies_and_approvers_read_and_try_them() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = app.token("ada", Role::Admin).await;
    let approver = app.token("bob", Role::Approver).await;
    let requester = app.token("carol", Role::Requester).await;

    let (status, body) = send(
        &app,
        Method::POST,
        &approver,
        "/api/v1/policies",
        Some(&backlog()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["rule"], "policies.admin");
    let (status, body) = send(
        &app,
        Method::POST,
        &admin,
        "/api/v1/policies",
        Some(&backlog()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["updated_by"], "ada");
    let (status, _) = send(
        &app,
        Method::POST,
        &admin,
        "/api/v1/policies",
        Some(&backlog()),
    )
    .await;
    assert_eq!(status, 409, "the name is taken");

    let (status, body) = send(&app, Method::GET, &requester, "/api/v1/policies", None).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = send(&app, Method::GET, &approver, "/api/v1/policies", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["policies"][0]["name"], "queue-backlog");
    assert_eq!(
        body["policies"][0]["condition"]["labels"]["severity"],
        "=~critical|page"
    );

    // Replace: the version grows; a name that differs from the path is refused.
    let mut changed = backlog();
    changed["priority"] = json!(5);
    let (status, body) = send(
        &app,
        Method::PUT,
        &admin,
        "/api/v1/policies/queue-backlog",
        Some(&changed),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["version"].clone(), body["priority"].clone()),
        (json!(2), json!(5))
    );
    let (status, body) = send(
        &app,
        Method::PUT,
        &admin,
        "/api/v1/policies/other",
        Some(&changed),
    )
    .await;
    assert_eq!(
        (status, body["error"]["fields"][0]["field"].clone()),
        (422, json!("name"))
    );

    // The dry run: which policy, what it would do; nothing is filed.
    let labels = json!({"alertname": "QueueBacklog", "severity": "page", "tfpilot_request": "01kabcdefghjkmnp"});
    let (status, body) = send(
        &app,
        Method::POST,
        &approver,
        "/api/v1/policies/test",
        Some(&payload(labels.clone(), json!({"new_max": "25"}))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let result = &body["results"][0];
    assert_eq!(result["policy"], "queue-backlog");
    assert_eq!(result["planned"]["inputs"]["dlq_max_receive_count"], "25");
    assert!(
        result["outcome"]
            .as_str()
            .unwrap()
            .contains("dlq_max_receive_count = 25"),
        "{result}"
    );
    let (_, body) = send(
        &app,
        Method::POST,
        &approver,
        "/api/v1/policies/test",
        Some(&payload(labels, json!({}))),
    )
    .await;
    assert_eq!(
        body["results"][0]["error"]["field"],
        "action.inputs.dlq_max_receive_count"
    );
    let (_, body) = send(
        &app,
        Method::POST,
        &approver,
        "/api/v1/policies/test",
        Some(&payload(json!({"alertname": "DiskFull"}), json!({}))),
    )
    .await;
    assert_eq!(body["results"][0]["outcome"], "no policy matched");
    let (status, body) = send(
        &app,
        Method::POST,
        &approver,
        "/api/v1/policies/test",
        Some(&json!({"version": "3", "alerts": []})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].clone()),
        (400, json!("version"))
    );
    let (_, listed) = send(&app, Method::GET, &admin, "/api/v1/requests", None).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "a dry run files nothing: {listed}"
    );

    let (status, _) = send(
        &app,
        Method::DELETE,
        &admin,
        "/api/v1/policies/queue-backlog",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = send(
        &app,
        Method::GET,
        &admin,
        "/api/v1/policies/queue-backlog",
        None,
    )
    .await;
    assert_eq!(status, 404);

    let (_, audit) = send(&app, Method::GET, &admin, "/api/v1/audit", None).await;
    let actions: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["action"].as_str())
        .filter(|a| a.starts_with("policy."))
        .collect();
    assert_eq!(
        actions,
        ["policy.create", "policy.update", "policy.delete"],
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_policy_is_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let admin = app.token("ada", Role::Admin).await;
    let cases = [
        (
            json!({"action": {"kind": "update_inputs", "request": "${label.r}", "inputs": {"max_size": "3"}}}),
            "action.inputs.max_size",
        ),
        (
            json!({"condition": {"labels": {"alertname": "=~(["}}}),
            "condition.labels.alertname",
        ),
        (
            json!({"condition": {"label": "alertname", "value": "=~*"}}),
            "condition.value",
        ),
        (
            json!({"auto_approve_environments": ["prod"]}),
            "auto_approve_environments[0]",
        ),
        (
            json!({"action": {"kind": "reboot", "request": "x"}}),
            "action.kind",
        ),
    ];
    for (patch, field) in cases {
        let mut body = backlog();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post_as(&admin, "/api/v1/policies", &body).await;
        assert_eq!(res.status(), 422, "{field}");
        let err: Value = res.json().await.unwrap();
        let fields: Vec<&str> = err["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{err}");
    }
    let (status, body) = send(&app, reqwest::Method::GET, &admin, "/api/v1/policies", None).await;
    assert_eq!(
        (status, body["policies"].as_array().map(Vec::len)),
        (200, Some(0)),
        "nothing was stored"
    );
}

/// Posts one of the policies page's forms as a browser without script does;
/// where it sends the browser back to.
async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> String {
    let res = app
        .client
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", app.url(""))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_policies_page_saves_tries_and_deletes_with_plain_forms() {
    let app = TestApp::spawn().await;
    let ada = app.signed_in("ada", Role::Admin).await;
    let bob = app.signed_in("bob", Role::Approver).await;

    let (status, html) = app.page_as(&ada, "/admin/policies").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"no-policies\""), "{html}");

    let back = post_form(
        &app,
        &ada,
        "/admin/policies",
        &[("policy", &backlog().to_string())],
    )
    .await;
    assert!(back.starts_with("/admin/policies?done=Created"), "{back}");
    let mut bad = backlog();
    bad["condition"]["labels"]["alertname"] = json!("=~(");
    let back = post_form(
        &app,
        &ada,
        "/admin/policies",
        &[("policy", &bad.to_string())],
    )
    .await;
    assert!(
        back.contains("error=") && back.contains("condition.labels.alertname"),
        "{back}"
    );
    let back = post_form(
        &app,
        &bob,
        "/admin/policies",
        &[("policy", &backlog().to_string())],
    )
    .await;
    assert!(back.contains("error="), "an approver cannot save: {back}");

    // An approver sees the policy, without edit forms, and tries an alert.
    let alert = payload(
        json!({"alertname": "QueueBacklog", "severity": "critical", "tfpilot_request": "01kabcdefghjkmnp"}),
        json!({"new_max": "30"}),
    );
    let path = format!("/admin/policies?alert={}", urlencode(&alert.to_string()));
    let (status, html) = app.page_as(&bob, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-policy=\"queue-backlog\""), "{html}");
    assert!(
        !html.contains("Delete queue-backlog"),
        "approvers do not manage policies"
    );
    assert!(
        html.contains("dlq_max_receive_count = 30"),
        "the dry run shows what it would do: {html}"
    );

    let back = post_form(&app, &ada, "/admin/policies/queue-backlog/delete", &[]).await;
    assert!(back.contains("done=Deleted"), "{back}");
    let (_, html) = app.page_as(&ada, "/admin/policies").await;
    assert!(html.contains("data-testid=\"no-policies\""));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
