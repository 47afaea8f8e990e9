//! Pull requests: open (one open PR per head), get, list by head, close,
//! and merge as a real `git merge-tree` + merge commit that refuses a stale
//! head (409) or a conflict (405).

use super::{Fake, error};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub open: bool,
    pub merged_sha: Option<String>,
    /// Head when closed or merged (the branch may move on or go).
    pub closed_head: Option<String>,
}

pub fn routes() -> Router<Fake> {
    Router::new()
        .route("/repos/{owner}/{repo}/pulls", get(list).post(open))
        .route(
            "/repos/{owner}/{repo}/pulls/{number}",
            get(one).patch(update),
        )
        .route("/repos/{owner}/{repo}/pulls/{number}/merge", put(merge))
}

impl Fake {
    pub(crate) fn open_pull_of(&self, owner: &str, repo: &str, head: &str) -> Option<u64> {
        let s = self.state.lock().unwrap();
        s.repos
            .get(&format!("{owner}/{repo}"))?
            .pulls
            .iter()
            .find(|p| p.open && p.head == head)
            .map(|p| p.number)
    }

    fn pull(&self, owner: &str, repo: &str, number: u64) -> Option<Pull> {
        let s = self.state.lock().unwrap();
        s.repos
            .get(&format!("{owner}/{repo}"))?
            .pulls
            .iter()
            .find(|p| p.number == number)
            .cloned()
    }

    async fn pull_json(&self, owner: &str, repo: &str, p: &Pull) -> Value {
        let git = self.repo(&format!("{owner}/{repo}"));
        let head_sha = match &p.closed_head {
            Some(sha) => sha.clone(),
            None => git.head(&p.head).await.unwrap_or_default(),
        };
        let base_sha = git.head(&p.base).await.unwrap_or_default();
        json!({
            "number": p.number,
            "html_url": format!("https://github.example/{owner}/{repo}/pull/{}", p.number),
            "state": if p.open { "open" } else { "closed" },
            "title": p.title,
            "body": p.body,
            "merged": p.merged_sha.is_some(),
            "merged_at": p.merged_sha.as_ref().map(|_| "2026-01-01T00:00:00Z"),
            "merge_commit_sha": p.merged_sha,
            "head": { "ref": p.head, "sha": head_sha, "label": format!("{owner}:{}", p.head) },
            "base": { "ref": p.base, "sha": base_sha },
        })
    }

    pub(crate) async fn pull_payload(
        &self,
        owner: &str,
        repo: &str,
        number: u64,
        action: &str,
    ) -> Value {
        let p = self.pull(owner, repo, number).expect("pull exists");
        json!({
            "action": action,
            "number": number,
            "pull_request": self.pull_json(owner, repo, &p).await,
            "repository": { "full_name": format!("{owner}/{repo}") },
        })
    }
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    head: Option<String>,
}

async fn list(
    State(fake): State<Fake>,
    Path((owner, repo)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(e) = fake.git_of(&owner, &repo) {
        return *e;
    }
    let pulls = fake.state.lock().unwrap().repos[&format!("{owner}/{repo}")]
        .pulls
        .clone();
    let state = q.state.unwrap_or_else(|| "open".into());
    let mut out = Vec::new();
    for p in pulls.iter().rev() {
        let keep_state = match state.as_str() {
            "all" => true,
            "closed" => !p.open,
            _ => p.open,
        };
        let keep_head = q
            .head
            .as_ref()
            .is_none_or(|h| *h == format!("{owner}:{}", p.head));
        if keep_state && keep_head {
            out.push(fake.pull_json(&owner, &repo, p).await);
        }
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
struct NewPull {
    title: String,
    #[serde(default)]
    body: Option<String>,
    head: String,
    base: String,
}

async fn open(
    State(fake): State<Fake>,
    Path((owner, repo)): Path<(String, String)>,
    Json(body): Json<NewPull>,
) -> Response {
    let git = match fake.git_of(&owner, &repo) {
        Ok(g) => g,
        Err(e) => return *e,
    };
    let (Some(head), Some(base)) = (git.head(&body.head).await, git.head(&body.base).await) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Validation Failed: head or base does not exist",
        );
    };
    if head == base {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "Validation Failed: No commits between {} and {}",
                body.base, body.head
            ),
        );
    }
    let number = {
        let mut s = fake.state.lock().unwrap();
        let full = format!("{owner}/{repo}");
        if s.repos[&full]
            .pulls
            .iter()
            .any(|p| p.open && p.head == body.head)
        {
            drop(s);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "Validation Failed: A pull request already exists for {owner}:{}.",
                    body.head
                ),
            );
        }
        s.next_pr += 1;
        let number = s.next_pr;
        s.repos.get_mut(&full).unwrap().pulls.push(Pull {
            number,
            title: body.title,
            body: body.body.unwrap_or_default(),
            head: body.head,
            base: body.base,
            open: true,
            merged_sha: None,
            closed_head: None,
        });
        number
    };
    let payload = fake.pull_payload(&owner, &repo, number, "opened").await;
    fake.webhook("pull_request", payload.clone()).await;
    (StatusCode::CREATED, Json(payload["pull_request"].clone())).into_response()
}

async fn one(
    State(fake): State<Fake>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
) -> Response {
    match fake.pull(&owner, &repo, number) {
        Some(p) => Json(fake.pull_json(&owner, &repo, &p).await).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

#[derive(Deserialize)]
struct PullUpdate {
    state: Option<String>,
}

async fn update(
    State(fake): State<Fake>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(body): Json<PullUpdate>,
) -> Response {
    let Some(p) = fake.pull(&owner, &repo, number) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if body.state.as_deref() == Some("closed") && p.open {
        let head = fake.repo(&format!("{owner}/{repo}")).head(&p.head).await;
        set(&fake, &owner, &repo, number, |p| {
            p.open = false;
            p.closed_head = head.clone();
        });
        let payload = fake.pull_payload(&owner, &repo, number, "closed").await;
        fake.webhook("pull_request", payload).await;
    }
    let p = fake.pull(&owner, &repo, number).unwrap();
    Json(fake.pull_json(&owner, &repo, &p).await).into_response()
}

fn set(fake: &Fake, owner: &str, repo: &str, number: u64, f: impl FnOnce(&mut Pull)) {
    let mut s = fake.state.lock().unwrap();
    if let Some(p) = s
        .repos
        .get_mut(&format!("{owner}/{repo}"))
        .and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
    {
        f(p);
    }
}

#[derive(Deserialize)]
struct MergeBody {
    sha: Option<String>,
}

async fn merge(
    State(fake): State<Fake>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    Json(body): Json<MergeBody>,
) -> Response {
    let Some(p) = fake.pull(&owner, &repo, number) else {
        return error(StatusCode::NOT_FOUND, "Not Found");
    };
    if !p.open {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Pull Request is not mergeable",
        );
    }
    let git = fake.repo(&format!("{owner}/{repo}"));
    let (Some(head), Some(base)) = (git.head(&p.head).await, git.head(&p.base).await) else {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Pull Request is not mergeable",
        );
    };
    if body.sha.as_ref().is_some_and(|s| *s != head) {
        return error(
            StatusCode::CONFLICT,
            "Head branch was modified. Review and try the merge again.",
        );
    }
    let Some(tree) = git.merge_tree(&base, &head).await else {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Pull Request is not mergeable: merge conflict",
        );
    };
    let message = format!("Merge pull request #{number} from {owner}/{}", p.head);
    let merge = git.commit_tree(&tree, &[&base, &head], &message).await;
    if !git.set_ref(&p.base, &merge, Some(&base)).await {
        return error(
            StatusCode::CONFLICT,
            "Base branch was modified. Review and try the merge again.",
        );
    }
    set(&fake, &owner, &repo, number, |p| {
        p.open = false;
        p.merged_sha = Some(merge.clone());
        p.closed_head = Some(head.clone());
    });
    let payload = fake.pull_payload(&owner, &repo, number, "closed").await;
    fake.webhook("pull_request", payload).await;
    Json(json!({ "sha": merge, "merged": true, "message": "Pull Request successfully merged" }))
        .into_response()
}
