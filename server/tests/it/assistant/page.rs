//! `/requests/new` with "Describe what you need": the proposal presets the
//! pickers, says why, and the chat asks only what is left. No model, no
//! browser bundle needed (the page is rendered on the server).

use crate::support::TestApp;
use app::domain::policy::Role;

#[tokio::test]
async fn a_description_presets_the_pickers_and_seeds_the_chat() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("rita", Role::Requester).await;
    let (status, html) = app.page_as(&cookie, "/requests/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("Describe what you need"), "the box is there");
    assert!(html.contains("name=\"module\""), "the pickers stay");

    let text = "somewhere+to+drop+our+nightly+Postgres+dumps+for+90+days+in+dev";
    let (status, html) = app
        .page_as(&cookie, &format!("/requests/new?describe={text}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Suggested: "), "{html}");
    assert!(html.contains("dumps → S3 bucket"), "the reason is shown");
    assert!(html.contains("data-source=\"rules\""));
    let checked = |value: &str| {
        html.split("<input")
            .any(|i| i.contains(&format!("value=\"{value}\"")) && i.contains("checked"))
    };
    assert!(checked("s3-bucket"), "the module is preselected");
    assert!(checked("dev"), "the environment is preselected");
    assert!(
        html.contains("name=\"describe\" value=\"somewhere to drop our nightly Postgres dumps"),
        "the pickers keep the description"
    );
    assert!(
        html.contains("From your description: expiration_days = 90"),
        "the chat starts from what was read"
    );
}

#[tokio::test]
async fn a_description_that_matches_nothing_offers_three_modules() {
    let app = TestApp::spawn().await;
    let cookie = app.signed_in("rita", Role::Requester).await;
    let (status, html) = app
        .page_as(&cookie, "/requests/new?describe=xyzzy+plugh")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Nothing in the catalogue matches"), "{html}");
    assert_eq!(
        html.matches("/requests/new?describe=xyzzy%20plugh&amp;module=")
            .count(),
        3,
        "{html}"
    );
}

#[tokio::test]
async fn a_question_in_the_box_gets_its_answer() {
    let app = TestApp::spawn().await;
    let token = app.token("rita", Role::Requester).await;
    let id = app
        .file(
            &token,
            "dev",
            "sqs-queue",
            serde_json::json!({"name": "asked-about"}),
        )
        .await;
    let cookie = app.signed_in("rita2", Role::Requester).await;
    let (status, html) = app
        .page_as(&cookie, &format!("/requests/new?describe=status+of+{id}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("aria-label=\"Answer\""), "{html}");
    assert!(html.contains(&format!("href=\"/requests/{id}\"")), "{html}");
    assert!(!html.contains("Suggested: "), "a question is not a request");
}
