//! `/admin/projects` and `/admin/projects/{key}`: the projects the caller
//! sees (a badge on those tfpilot.toml manages), a form for a new one
//! (admins); one project's settings (admins; those tfpilot.toml owns are
//! shown, not editable) and its members with a role select, a remove
//! button and an add form (admins and the project's admins). Plain forms,
//! no island: they post to `/admin/projects…` and come back with
//! `?done=` or `?error=`.

use super::error_text;
use crate::api::{MemberRow, ProjectRow, ProjectView, ProjectsPage, url_encode};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The list page's data for the caller.
#[server(prefix = "/sfn", endpoint = "projects")]
pub async fn load_projects() -> Result<ProjectsPage, ServerFnError> {
    crate::services::services()?
        .projects()
        .await
        .map_err(crate::services::refuse)
}

/// One project's page data for the caller.
#[server(prefix = "/sfn", endpoint = "project")]
pub async fn load_project(key: String) -> Result<ProjectView, ServerFnError> {
    crate::services::services()?
        .project(key)
        .await
        .map_err(crate::services::refuse)
}

const ROLES: [&str; 4] = ["viewer", "requester", "approver", "admin"];

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

/// `/admin/projects`.
#[component]
pub fn ProjectsListPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| load_projects());
    view! {
        <section aria-labelledby="projects-title" class="projects-admin">
            <h1 id="projects-title">"Projects"</h1>
            <p>"A project is an infra repo and its environments, with members who each have a role in it. Projects in tfpilot.toml are managed by config: change their settings there; their members are managed here."</p>
            <Outcome/>
            <Suspense fallback=|| view! { <p class="loading">"Loading projects…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <Projects page=p/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Projects(page: ProjectsPage) -> impl IntoView {
    let github = page.github;
    view! {
        <table class="table" data-testid="projects">
            <thead><tr>
                <th>"Project"</th><th>"Environments"</th><th>"Repo"</th><th>"Visibility"</th><th>"Members"</th>
            </tr></thead>
            <tbody>
                {page.rows.into_iter().map(|p: ProjectRow| {
                    let href = format!("/admin/projects/{}", url_encode(&p.key));
                    let key = p.key.clone();
                    view! {
                        <tr data-project=key>
                            <td>
                                <a href=href><strong>{p.title}</strong></a>" "<code>{p.key}</code>
                                {p.managed_by_config.then(|| view! { " "<span class="badge" data-testid="managed">"managed by config"</span> })}
                            </td>
                            <td>{p.environments.join(", ")}</td>
                            <td>{p.repo}</td>
                            <td>{p.visibility}</td>
                            <td>{p.members}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {page.can_create.then(|| view! {
            <h2>"New project"</h2>
            <form class="form" method="post" action="/admin/projects" data-testid="new-project">
                <label>"Key" <input name="key" required placeholder="payments" pattern="[a-z](-?[a-z0-9])*" maxlength="40"/></label>
                <label>"Title" <input name="title" placeholder="Payments"/></label>
                <label>"Environments (comma-separated)" <input name="environments" required value="dev, prod"/></label>
                {github.then(|| view! { <label>"Repo (owner/name)" <input name="repo" required placeholder="acme/payments-infra"/></label> })}
                <label>"Visibility"
                    <select name="visibility">
                        <option value="open" selected>"open: everyone signed in"</option>
                        <option value="members">"members only"</option>
                    </select>
                </label>
                <button type="submit">"Create project"</button>
            </form>
        })}
    }
}

/// `/admin/projects/{key}`.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let key = use_params_map()
        .read_untracked()
        .get("key")
        .unwrap_or_default();
    // Blocking: a hidden or unknown project's page answers 404.
    let page = Resource::new_blocking(move || key.clone(), load_project);
    view! {
        <section class="project-admin">
            <p><a href="/admin/projects">"← Projects"</a></p>
            <Outcome/>
            <Suspense fallback=|| view! { <p class="loading">"Loading the project…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <Project view=p/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Project(view: ProjectView) -> impl IntoView {
    let base = format!("/admin/projects/{}", url_encode(&view.key));
    let config_owned = view.managed_by_config || !view.can_settings;
    let list = |l: &Option<String>| l.clone().unwrap_or_default();
    view! {
        <h1>{view.title.clone()}" "<code>{view.key.clone()}</code>
            {view.managed_by_config.then(|| view! { " "<span class="badge" data-testid="managed">"managed by config"</span> })}
        </h1>
        <p class="muted">{view.changed.clone()}</p>
        <h2>"Settings"</h2>
        {view.managed_by_config.then(|| view! { <p>"tfpilot.toml manages this project's title, repo, environments, branch, Slack channel, executor and drift schedule: change them there. Visibility and allow-lists are kept here."</p> })}
        <form class="form" method="post" action=base.clone() data-testid="settings">
            <label>"Title" <input name="title" value=view.title.clone() disabled=config_owned/></label>
            <label>"Environments (comma-separated)" <input name="environments" value=view.environments.clone() disabled=config_owned/></label>
            {view.github.then(|| view! { <label>"Repo (owner/name)" <input name="repo" value=view.repo.clone() disabled=config_owned/></label> })}
            <label>"Default branch" <input name="default_branch" value=view.default_branch.clone() disabled=config_owned || !view.github/></label>
            <label>"Slack channel (empty: the deployment's)" <input name="slack_channel" value=view.slack_channel.clone() disabled=config_owned/></label>
            <label>"Drift schedule (every 6h; empty: none)" <input name="drift_schedule" value=view.drift_schedule.clone() disabled=config_owned/></label>
            <label>"Executor" <input value=view.executor.clone() disabled=true/></label>
            <label>"Visibility"
                <select name="visibility" disabled=!view.can_settings>
                    <option value="open" selected=view.visibility == "open">"open: everyone signed in"</option>
                    <option value="members" selected=view.visibility == "members">"members only"</option>
                </select>
            </label>
            <label>"Production allow-list (comma-separated logins; empty: the deployment's)"
                <input name="prod_allowed_users" value=list(&view.prod_allowed_users) disabled=!view.can_settings/></label>
            <label>"Production destroy allow-list (empty: the deployment's)"
                <input name="destroy_prod_allowed_users" value=list(&view.destroy_prod_allowed_users) disabled=!view.can_settings/></label>
            {view.can_settings.then(|| view! { <button type="submit">"Save settings"</button> })}
        </form>
        <h2>"Members"</h2>
        <p>"A member acts in this project with the role given here, whatever their role elsewhere; an admin of the project manages its members."</p>
        <Members members=view.members.clone() base=base.clone() manage=view.can_members/>
        {view.can_members.then(|| view! {
            <form class="form inline" method="post" action=format!("{base}/members") data-testid="add-member">
                <label>"Login" <input name="login" required/></label>
                <label>"Role" <RoleSelect chosen="requester".to_owned()/></label>
                <button type="submit">"Add member"</button>
            </form>
        })}
    }
}

#[component]
fn RoleSelect(chosen: String, #[prop(optional)] label: Option<String>) -> impl IntoView {
    view! {
        <select name="role" aria-label=label>
            {ROLES.into_iter().map(|r| view! { <option value=r selected=r == chosen>{r}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn Members(members: Vec<MemberRow>, base: String, manage: bool) -> impl IntoView {
    if members.is_empty() {
        return view! { <p class="empty" data-testid="no-members">"No members yet: everyone acts with their own role (members-only projects: admins only)."</p> }.into_any();
    }
    view! {
        <table class="table" data-testid="members">
            <thead><tr><th>"Login"</th><th>"Role here"</th><th></th></tr></thead>
            <tbody>
                {members.into_iter().map(|m| {
                    let action = format!("{base}/members");
                    let remove = format!("{base}/members/{}/remove", url_encode(&m.login));
                    view! {
                        <tr data-member=m.login.clone()>
                            <td>{m.login.clone()}</td>
                            <td>{if manage {
                                view! {
                                    <form class="inline" method="post" action=action>
                                        <input type="hidden" name="login" value=m.login.clone()/>
                                        <RoleSelect chosen=m.role.clone() label=format!("Role of {} here", m.login)/>
                                        <button type="submit">"Change"</button>
                                    </form>
                                }.into_any()
                            } else {
                                view! { <span>{m.role.clone()}</span> }.into_any()
                            }}</td>
                            <td>{manage.then(|| view! {
                                <form class="inline" method="post" action=remove>
                                    <button type="submit" class="danger">{format!("Remove {}", m.login)}</button>
                                </form>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
