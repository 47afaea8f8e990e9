//! Admin pages: users and roles (`/admin/users`), machine tokens
//! (`/admin/tokens`). Forms post to server functions, so they work before
//! the wasm loads; the server decides who may do what.

use super::Fields;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// A user as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    /// Login.
    pub login: String,
    /// viewer, requester, approver or admin.
    pub role: String,
    /// Disabled users cannot sign in or use tokens.
    pub disabled: bool,
    /// Whether the user has a password (else: GitHub sign-in only).
    pub password: bool,
}

/// A token as the pages list it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Public id.
    pub id: String,
    /// Owner.
    pub user: String,
    /// Label.
    pub name: String,
    /// The most it may do.
    pub scope: Option<String>,
    /// Created at.
    pub created_at: String,
    /// Revoked at.
    pub revoked_at: Option<String>,
}

/// Every user (admins).
#[server(prefix = "/sfn", endpoint = "users", input = Json)]
pub async fn list_users() -> Result<Vec<UserRow>, ServerFnError> {
    crate::services::services()?
        .users()
        .await
        .map_err(crate::services::refuse)
}

/// Adds a user (admins).
#[server(prefix = "/sfn", endpoint = "user_add", input = Json)]
pub async fn add_user(login: String, role: String, password: String) -> Result<(), ServerFnError> {
    crate::services::services()?
        .add_user(login, role, password)
        .await
        .map_err(crate::services::refuse)
}

/// Changes a user's role or disables them (admins).
#[server(prefix = "/sfn", endpoint = "user_set", input = Json)]
pub async fn set_user(login: String, role: String, disabled: bool) -> Result<(), ServerFnError> {
    crate::services::services()?
        .set_user(login, role, disabled)
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

/// Creates a token for the caller; returns it (shown once).
#[server(prefix = "/sfn", endpoint = "token_add", input = Json)]
pub async fn create_token(name: String, scope: String) -> Result<String, ServerFnError> {
    crate::services::services()?
        .create_token(name, scope)
        .await
        .map_err(crate::services::refuse)
}

/// Revokes a token.
#[server(prefix = "/sfn", endpoint = "token_revoke", input = Json)]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    crate::services::services()?
        .revoke_token(id)
        .await
        .map_err(crate::services::refuse)
}

const ROLES: [&str; 4] = ["viewer", "requester", "approver", "admin"];

use super::error_text;

/// `/admin/users`: the list is read on the server, then handed to an
/// island whose forms update it in place.
#[component]
pub fn UsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());
    view! {
        <section aria-labelledby="users-title">
            <h1 id="users-title">"Users and roles"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UsersAdmin list/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The users table and the add form (an island).
#[island]
fn UsersAdmin(list: Vec<UserRow>) -> impl IntoView {
    let add = ServerAction::<AddUser>::new();
    let set = ServerAction::<SetUser>::new();
    let users = RwSignal::new(list);
    Effect::watch(
        move || (add.version().get(), set.version().get()),
        move |_, _, _| {
            leptos::task::spawn_local(async move {
                if let Ok(list) = list_users().await {
                    users.set(list);
                }
            })
        },
        false,
    );
    view! {
        <div class="users-admin" data-ready=super::ready()>
            {move || view! { <UserTable list=users.get() set/> }}
            <h2>"Add a user"</h2>
            <form class="form" on:submit=move |ev| {
                if let Some(f) = Fields::of(&ev) {
                    add.dispatch(AddUser { login: f.get("login"), role: f.get("role"), password: f.get("password") });
                }
            }>
                <label>"Login" <input name="login" required/></label>
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
                <button type="submit">"Add user"</button>
            </form>
            {move || add.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert" data-testid="add-user-error">{error_text(&e)}</p>
            })}
            {move || set.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{error_text(&e)}</p>
            })}
        </div>
    }
}

#[component]
fn UserTable(list: Vec<UserRow>, set: ServerAction<SetUser>) -> impl IntoView {
    view! {
        <table class="table" data-testid="users">
            <thead><tr><th>"Login"</th><th>"Role"</th><th>"Sign-in"</th><th>"Disabled"</th><th></th></tr></thead>
            <tbody>
                {list.into_iter().map(|u| {
                    let role = u.role.clone();
                    let login = u.login.clone();
                    let label = format!("Role of {}", u.login);
                    view! {
                        <tr data-login=u.login.clone()>
                            <td>{u.login.clone()}</td>
                            <td colspan="3">
                                <form class="inline" on:submit=move |ev| {
                                    if let Some(f) = Fields::of(&ev) {
                                        set.dispatch(SetUser { login: f.get("login"), role: f.get("role"), disabled: f.get("disabled") == "on" });
                                    }
                                }>
                                    <input type="hidden" name="login" value=login.clone()/>
                                    <select name="role" aria-label=label.clone()>
                                        {ROLES.map(|r| view! { <option value=r selected=r == role>{r}</option> })}
                                    </select>
                                    <span>{if u.password { "password" } else { "GitHub" }}</span>
                                    <label>
                                        <input type="checkbox" name="disabled" value="on" checked=u.disabled/>
                                        " disabled"
                                    </label>
                                    <button type="submit">"Save"</button>
                                </form>
                            </td>
                            <td></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// `/admin/tokens`: the list is read on the server, then handed to an
/// island that shows a new token once, in place.
#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| list_tokens());
    view! {
        <section aria-labelledby="tokens-title">
            <h1 id="tokens-title">"Machine tokens"</h1>
            <p>"Scripts, CI and bots send " <code>"Authorization: Bearer <token>"</code> "."</p>
            <Suspense fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) => view! { <TokensAdmin list/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The create form and the tokens table (an island).
#[island]
fn TokensAdmin(list: Vec<TokenRow>) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = RwSignal::new(list);
    Effect::watch(
        move || (create.version().get(), revoke.version().get()),
        move |_, _, _| {
            leptos::task::spawn_local(async move {
                if let Ok(list) = list_tokens().await {
                    tokens.set(list);
                }
            })
        },
        false,
    );
    view! {
        <div class="tokens-admin" data-ready=super::ready()>
            <form class="form" on:submit=move |ev| {
                if let Some(f) = Fields::of(&ev) {
                    create.dispatch(CreateToken { name: f.get("name"), scope: f.get("scope") });
                }
            }>
                <label>"Name" <input name="name" required placeholder="ci"/></label>
                <label>
                    "Scope"
                    <select name="scope">
                        <option value="">"my role"</option>
                        {ROLES.map(|r| view! { <option value=r>{r}</option> })}
                    </select>
                </label>
                <button type="submit">"Create token"</button>
            </form>
            {move || create.value().get().map(|r| match r {
                Ok(token) => view! {
                    <div class="notice" role="status">
                        <p>"Copy it now: it is shown only this once."</p>
                        <code data-testid="new-token">{token}</code>
                    </div>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
            })}
            {move || revoke.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{error_text(&e)}</p>
            })}
            <table class="table" data-testid="tokens">
                <thead><tr><th>"Id"</th><th>"User"</th><th>"Name"</th><th>"Scope"</th><th>"Created"</th><th>"Status"</th></tr></thead>
                <tbody>
                    {move || tokens.get().into_iter().map(|t| {
                        let id = t.id.clone();
                        view! {
                        <tr data-token=t.id.clone()>
                            <td><code>{t.id.clone()}</code></td>
                            <td>{t.user}</td>
                            <td>{t.name}</td>
                            <td>{t.scope.unwrap_or_else(|| "-".into())}</td>
                            <td>{t.created_at}</td>
                            <td>
                                {match t.revoked_at {
                                    Some(at) => view! { <span class="revoked">{format!("revoked {at}")}</span> }.into_any(),
                                    None => view! {
                                        <form class="inline" on:submit=move |ev| {
                                            if let Some(f) = Fields::of(&ev) {
                                                revoke.dispatch(RevokeToken { id: f.get("id") });
                                            }
                                        }>
                                            <input type="hidden" name="id" value=id.clone()/>
                                            <button type="submit" class="danger">"Revoke"</button>
                                        </form>
                                    }.into_any(),
                                }}
                            </td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
