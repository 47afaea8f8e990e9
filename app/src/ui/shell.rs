//! The shell around every page: brand, navigation, the signed-in user and
//! their role, the theme switch.

use crate::api::Me;
use leptos::prelude::*;

/// Who is signed in (`None` for nobody).
#[server(prefix = "/sfn", endpoint = "me")]
pub async fn whoami() -> Result<Option<Me>, ServerFnError> {
    crate::services::services()?
        .me()
        .await
        .map_err(crate::services::refuse)
}

/// Sets the saved theme before the first paint (no flash).
pub const THEME_SCRIPT: &str = "try{var t=localStorage.getItem('tfpilot-theme');\
if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}";

/// The top bar.
#[component]
pub fn TopBar() -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <header class="topbar">
            <a class="brand" href="/requests">"tfpilot"</a>
            <nav aria-label="Main">
                <a href="/requests">"Requests"</a>
                <a href="/requests/new">"New request"</a>
                <a href="/">"Catalogue"</a>
                <a href="/admin/tokens">"Tokens"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let (role, project_admin) = match me.await {
                            Ok(Some(Me { role, project_admin, .. })) => (role, project_admin),
                            _ => (String::new(), false),
                        };
                        let approver = role == "approver" || role == "admin";
                        let projects = role == "admin" || project_admin;
                        view! {
                            {approver.then(|| view! { <a href="/admin/policies">"Policies"</a> })}
                            {projects.then(|| view! { <a href="/admin/projects">"Projects"</a> })}
                            {(!role.is_empty()).then(|| view! { <a href="/jobs">"Jobs"</a> })}
                            {(role == "admin").then(|| view! { <a href="/admin/users">"Users"</a> })}
                            {(role == "admin").then(|| view! { <a href="/admin/integrations">"Integrations"</a> })}
                        }
                    })}
                </Suspense>
            </nav>
            <div class="account">
                <ThemeToggle/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(Me { login, role, .. })) => view! {
                                <span class="who" data-testid="who">
                                    <strong>{login}</strong>
                                    " "<span class="role" data-role=role.clone()>{role.clone()}</span>
                                </span>
                                <form method="post" action="/auth/logout">
                                    <button type="submit" class="link">"Sign out"</button>
                                </form>
                            }.into_any(),
                            _ => view! { <a href="/login">"Sign in"</a> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </header>
    }
}

/// Light or dark, remembered in the browser; the system preference until
/// the user picks one (an island).
#[island]
fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| dark.set(Some(theme::is_dark())));
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let next = !theme::is_dark();
            theme::set(next);
            dark.set(Some(next));
        }
    };
    view! {
        <button
            type="button"
            class="theme"
            aria-label="Dark theme"
            aria-pressed=move || dark.get().map(|d| d.to_string())
            on:click=toggle
            data-ready=super::ready()
        >
            <span aria-hidden="true">"◐"</span>
        </button>
    }
}

#[cfg(feature = "hydrate")]
mod theme {
    //! The theme on `<html data-theme>` and in `localStorage`.

    fn root() -> Option<web_sys::Element> {
        leptos::prelude::document().document_element()
    }

    pub fn is_dark() -> bool {
        match root()
            .and_then(|r| r.get_attribute("data-theme"))
            .as_deref()
        {
            Some("dark") => true,
            Some("light") => false,
            _ => leptos::prelude::window()
                .match_media("(prefers-color-scheme: dark)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches()),
        }
    }

    pub fn set(dark: bool) {
        let name = if dark { "dark" } else { "light" };
        if let Some(r) = root() {
            let _ = r.set_attribute("data-theme", name);
        }
        if let Ok(Some(storage)) = leptos::prelude::window().local_storage() {
            let _ = storage.set_item("tfpilot-theme", name);
        }
    }
}
