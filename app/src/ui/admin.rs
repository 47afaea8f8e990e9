//! Admin pages: users, roles and their Slack ids and e-mail addresses
//! (`/admin/users`), machine tokens
//! (`/admin/tokens`). They are server-rendered HTML with plain forms (no
//! island, no script): each form posts to a route of the server, which
//! decides who may do what and comes back to the page with the outcome in
//! the URL (`?done=`, `?error=`). A new token is shown on the page the
//! create form's post returns, and nowhere else.

use super::error_text;
use crate::api::{FreshToken, TokenRow, UserRow, short_time, url_encode};
use crate::domain::policy::TokenScope;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::hooks::use_query_map;

/// Every user (admins).
#[server(prefix = "/sfn", endpoint = "users", input = Json)]
pub async fn list_users() -> Result<Vec<UserRow>, ServerFnError> {
    crate::services::services()?
        .users()
        .await
        .map_err(crate::services::refuse)
}

/// Tokens: everyone's for an admin, one's own otherwise.
#[server(prefix = "/sfn", endpoint = "tokens", input = Json)]
pub async fn list_tokens() -> Result<Vec<TokenRow>, ServerFnError> {
    crate::services::services()?
        .tokens()
        .await
        .map_err(crate::services::refuse)
}

const ROLES: [&str; 4] = ["viewer", "requester", "approver", "admin"];

/// A scope as the token form offers it: a role by its name, a machine
/// scope with what it is for.
fn scope_label(scope: TokenScope) -> &'static str {
    match scope {
        TokenScope::Automation => "automation (files alerts only; admins)",
        TokenScope::Metrics => "metrics (reads /metrics only; admins)",
        role => role.as_str(),
    }
}

/// The outcome of the form last posted, from `?done=` / `?error=`.
#[component]
fn Outcome() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let done = query.get("done");
    let error = query.get("error");
    view! {
        {done.map(|d| view! { <p class="notice" role="status" data-testid="done">{d}</p> })}
        {error.map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
    }
}

/// `/admin/users`: every user with their role, and the add form.
#[component]
pub fn UsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <section aria-labelledby="users-title" class="users-admin">
            <h1 id="users-title">"Users and roles"</h1>
            <Outcome/>
            <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UserTable list/><AddUser/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AddUser() -> impl IntoView {
    view! {
        <h2>"Add a user"</h2>
        <form class="form" method="post" action="/admin/users" data-testid="add-user">
            <label>"Login" <input name="login" required autocomplete="off"/></label>
            <label>
                "Role"
                <select name="role">
                    {ROLES.map(|r| view! { <option value=r selected=r == "requester">{r}</option> })}
                </select>
            </label>
            <label>
                "Password (12+ characters; empty for GitHub sign-in only)"
                <input name="password" type="password" autocomplete="new-password"/>
            </label>
            <label>
                "Slack member id (optional)"
                <input name="slack_user_id" placeholder="U0123ABCD" autocomplete="off" spellcheck="false"/>
            </label>
            <label>
                "E-mail (optional)"
                <input name="email" inputmode="email" autocomplete="off" spellcheck="false"/>
            </label>
            <button type="submit">"Add user"</button>
        </form>
    }
}

#[component]
fn UserTable(list: Vec<UserRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="users">
                <thead><tr><th>"Login"</th><th>"Role"</th><th>"Sign-in"</th><th>"Slack"</th><th>"E-mail"</th><th>"Disabled"</th><th></th></tr></thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let form = format!("user-{}", u.login);
                        let action = format!("/admin/users/{}", url_encode(&u.login));
                        let label = format!("Role of {}", u.login);
                        let slack_label = format!("Slack member id of {} (empty: unlinked)", u.login);
                        let email_label = format!("E-mail of {} (empty: none)", u.login);
                        let role = u.role.clone();
                        view! {
                            <tr data-login=u.login.clone()>
                                <td>{u.login.clone()}</td>
                                <td>
                                    <select name="role" form=form.clone() aria-label=label>
                                        {ROLES.map(|r| view! { <option value=r selected=r == role>{r}</option> })}
                                    </select>
                                </td>
                                <td>{if u.password { "password" } else { "GitHub" }}</td>
                                <td>
                                    <input name="slack_user_id" form=form.clone() aria-label=slack_label
                                        value=u.slack_user_id.unwrap_or_default() placeholder="U0123ABCD"
                                        size="12" autocomplete="off" spellcheck="false"/>
                                </td>
                                <td>
                                    <input name="email" form=form.clone() aria-label=email_label
                                        value=u.email.unwrap_or_default() inputmode="email"
                                        size="20" autocomplete="off" spellcheck="false"/>
                                </td>
                                <td>
                                    <label>
                                        <input type="checkbox" name="disabled" value="on" form=form.clone() checked=u.disabled/>
                                        " disabled"
                                    </label>
                                </td>
                                <td>
                                    <form id=form method="post" action=action class="inline">
                                        <button type="submit">"Save"</button>
                                    </form>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `/admin/tokens`: the create form, a token just created (once), and the
/// tokens with their revoke buttons.
#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    let fresh = use_context::<FreshToken>();
    view! {
        <section aria-labelledby="tokens-title" class="tokens-admin">
            <h1 id="tokens-title">"Machine tokens"</h1>
            <p>"Scripts, CI and bots send " <code>"Authorization: Bearer <token>"</code> "."</p>
            <Outcome/>
            {fresh.map(|FreshToken(token)| view! {
                <div class="notice" role="status">
                    <p>"Copy it now: it is shown only this once."</p>
                    <code data-testid="new-token">{token}</code>
                </div>
            })}
            <form class="form" method="post" action="/admin/tokens" data-testid="create-token">
                <label>"Name" <input name="name" required placeholder="ci" autocomplete="off"/></label>
                <label>
                    "Scope"
                    <select name="scope">
                        <option value="">"my role"</option>
                        {TokenScope::ALL.map(|s| view! { <option value=s.as_str()>{scope_label(s)}</option> })}
                    </select>
                </label>
                <button type="submit">"Create token"</button>
            </form>
            <Suspense fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokenTable list/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TokenTable(list: Vec<TokenRow>) -> impl IntoView {
    view! {
        <table class="table" data-testid="tokens">
            <thead><tr><th>"Id"</th><th>"User"</th><th>"Name"</th><th>"Scope"</th><th>"Created"</th><th>"Status"</th></tr></thead>
            <tbody>
                {list.into_iter().map(|t| {
                    let action = format!("/admin/tokens/{}/revoke", url_encode(&t.id));
                    view! {
                        <tr data-token=t.id.clone()>
                            <td><code>{t.id.clone()}</code></td>
                            <td>{t.user}</td>
                            <td>{t.name}</td>
                            <td>{t.scope.unwrap_or_else(|| "-".into())}</td>
                            <td><time datetime=t.created_at.clone()>{short_time(&t.created_at)}</time></td>
                            <td>
                                {match t.revoked_at {
                                    Some(at) => view! { <span class="revoked">{format!("revoked {at}")}</span> }.into_any(),
                                    None => view! {
                                        <form class="inline" method="post" action=action>
                                            <button type="submit" class="danger">"Revoke"</button>
                                        </form>
                                    }.into_any(),
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
