//! GitHub sign-in, once GitHub sent its code: the code is exchanged for a
//! user token, the person read from `GET /user`, checked against the
//! allow-lists and mapped to a tfpilot user.
//!
//! Who: the user is found by GitHub's numeric user id
//! (`auth::identities`), so a renamed GitHub account keeps its user and a
//! local account or a reused login is never taken over. At every sign-in
//! the person must be named in `TFPILOT_ALLOWED_LOGINS` or be an active
//! member of an organization or team in `TFPILOT_ALLOWED_ORGS` (asked of
//! the API with their own token); with both empty, nobody is. A first
//! sign-in makes the user a requester; `TFPILOT_ADMINS` /
//! `TFPILOT_APPROVERS` may raise the role.

use super::{SignIn, SignInError};
use crate::auth::User;
use crate::auth::identities::Found;
use crate::config::GitHubOAuth;
use serde::Deserialize;

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    error_description: Option<String>,
}

/// The person GitHub vouched for.
#[derive(Deserialize)]
pub struct GitHubPerson {
    /// Their GitHub login now.
    pub login: String,
    /// GitHub's numeric user id.
    pub id: u64,
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl SignIn {
    /// The user GitHub's `code` signs in as, and the audit detail; refusals
    /// are audited.
    pub async fn github(
        &self,
        oauth: &GitHubOAuth,
        code: &str,
        redirect_uri: &str,
    ) -> Result<(User, String), SignInError> {
        let token = exchange(oauth, code, redirect_uri).await?;
        let gh = github_user(oauth, &token).await?;
        let login = gh.login.clone();
        let refuse = |rule: &'static str, message: String| SignInError::Refused { rule, message };
        let find = || async {
            self.identities
                .find(gh.id, &login)
                .await
                .map_err(|e| SignInError::Unavailable(format!("cannot read the user: {e}")))
        };
        // The allow-lists are asked at every sign-in: someone removed from
        // them no longer gets in, whatever record they have.
        if !admitted(oauth, &gh, &token).await? {
            let known = matches!(find().await?, Found::User(_));
            self.admin
                .audit(
                    &login,
                    "auth.login_failed",
                    if known {
                        "GitHub: no longer on the allow-list or in an allowed organization or team"
                    } else {
                        "GitHub: not on the allow-list"
                    }
                    .into(),
                )
                .await;
            let message = if known {
                format!(
                    "`{login}` may no longer sign in to this tfpilot: the GitHub login is not in TFPILOT_ALLOWED_LOGINS and not an active member of an organization or team in TFPILOT_ALLOWED_ORGS any more; ask an admin"
                )
            } else {
                format!(
                    "`{login}` may not sign in to this tfpilot: an admin adds GitHub logins (TFPILOT_ALLOWED_LOGINS) or organizations and teams (TFPILOT_ALLOWED_ORGS)"
                )
            };
            return Err(refuse("auth.allowed_logins", message));
        }
        let found = find().await?;
        if let Found::Taken(message) = &found {
            self.admin
                .audit(
                    &login,
                    "auth.login_failed",
                    format!("GitHub account {}: {message}", gh.id),
                )
                .await;
            return Err(refuse("auth.identity", message.clone()));
        }
        let found = match found {
            Found::Nobody => self
                .identities
                .sign_up(gh.id, &login)
                .await
                .map_err(|e| SignInError::Unavailable(format!("cannot add the user: {e}")))?,
            found => found,
        };
        let user = match found {
            Found::User(user) => user,
            Found::Taken(message) => return Err(refuse("auth.identity", message)),
            Found::Nobody => {
                return Err(SignInError::Unavailable(
                    "the new user vanished as it was made; try again".into(),
                ));
            }
        };
        if user.disabled {
            return Err(refuse(
                "auth.disabled",
                format!("the account `{}` is disabled", user.login),
            ));
        }
        let detail = if user.login == login {
            "GitHub".to_owned()
        } else {
            format!("GitHub, now called `{login}` there")
        };
        Ok((user, detail))
    }
}

/// Whether a person GitHub vouched for may get a tfpilot account: named in
/// `TFPILOT_ALLOWED_LOGINS`, or an active member of an organization or
/// team in `TFPILOT_ALLOWED_ORGS`.
async fn admitted(
    oauth: &GitHubOAuth,
    gh: &GitHubPerson,
    token: &str,
) -> Result<bool, SignInError> {
    if oauth.allowed_logins.contains(&gh.login) {
        return Ok(true);
    }
    for entry in &oauth.allowed_orgs {
        let path = match entry.split_once('/') {
            Some((org, team)) => format!(
                "/orgs/{}/teams/{}/memberships/{}",
                enc(org),
                enc(team),
                enc(&gh.login)
            ),
            None => format!("/user/memberships/orgs/{}", enc(entry)),
        };
        let reply = crate::github::get_as_user(&oauth.api_url, &path, token)
            .await
            .map_err(|e| {
                SignInError::Unavailable(format!("cannot check the membership of {entry}: {e}"))
            })?;
        if reply.status.is_success() {
            let body: serde_json::Value = reply.json().map_err(SignInError::Unavailable)?;
            if body["state"] == "active" {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

async fn exchange(
    oauth: &GitHubOAuth,
    code: &str,
    redirect_uri: &str,
) -> Result<String, SignInError> {
    let body = serde_json::json!({
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret.expose(),
        "code": code,
        "redirect_uri": redirect_uri,
    });
    let reply = crate::github::post_json(&oauth.oauth_url, "/login/oauth/access_token", &body)
        .await
        .map_err(|e| SignInError::Unavailable(format!("GitHub did not answer the sign-in: {e}")))?;
    let parsed: TokenReply = reply.json().map_err(SignInError::Unavailable)?;
    parsed.access_token.ok_or_else(|| {
        SignInError::Unauthorized(format!(
            "GitHub did not accept the sign-in: {}",
            parsed
                .error_description
                .unwrap_or_else(|| "no token".into())
        ))
    })
}

async fn github_user(oauth: &GitHubOAuth, token: &str) -> Result<GitHubPerson, SignInError> {
    let reply = crate::github::get_as_user(&oauth.api_url, "/user", token)
        .await
        .map_err(|e| SignInError::Unavailable(format!("cannot read the GitHub user: {e}")))?;
    if !reply.status.is_success() {
        return Err(SignInError::Unauthorized(format!(
            "GitHub refused the user token: {}",
            reply.message()
        )));
    }
    let user: GitHubPerson = reply.json().map_err(SignInError::Unavailable)?;
    if !crate::auth::valid_login(&user.login) {
        return Err(SignInError::Unauthorized(format!(
            "the GitHub login `{}` cannot be used",
            user.login.chars().take(64).collect::<String>()
        )));
    }
    Ok(user)
}
