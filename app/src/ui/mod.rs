//! The Leptos UI: the HTML shell, the router and the pages.

pub mod admin;
pub mod catalog;
pub mod dashboard;
pub mod detail;
mod home;
pub mod integrations;
pub mod jobs;
#[cfg(feature = "hydrate")]
mod live;
pub mod new_request;
pub mod policies;
pub mod projects;
pub mod shell;
pub mod signin;

/// Escapes text for HTML (lists that islands render as HTML strings).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A server function's error as a sentence for the page.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

/// An island's hydration marker: `data-ready="true"` once its wasm runs,
/// so tests (and styles) can tell a live island from server HTML.
pub fn ready() -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    move || if ready.get() { "true" } else { "false" }
}

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, StaticSegment,
    components::{Route, Router, Routes},
};

/// The document the server streams: head, hydration scripts, the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/pkg/favicon.svg" type="image/svg+xml"/>
                <script inner_html=shell::THEME_SCRIPT></script>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: shared layout and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="tfpilot" href="/pkg/tfpilot.css"/>
        <Title text="tfpilot"/>
        <div class="app">
            <shell::TopBar/>
            <Router>
                <main id="main">
                    <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                        <Route path=StaticSegment("") view=home::HomePage/>
                        <Route path=StaticSegment("login") view=signin::LoginPage/>
                        <Route path=StaticSegment("setup") view=signin::SetupPage/>
                        <Route path=StaticSegment("requests") view=dashboard::DashboardPage/>
                        <Route path=(StaticSegment("requests"), StaticSegment("new")) view=new_request::NewRequestPage/>
                        <Route path=(StaticSegment("requests"), ParamSegment("id")) view=detail::RequestPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("users")) view=admin::UsersPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("tokens")) view=admin::TokensPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("policies")) view=policies::PoliciesPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("integrations")) view=integrations::IntegrationsPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("projects")) view=projects::ProjectsListPage/>
                        <Route path=(StaticSegment("admin"), StaticSegment("projects"), ParamSegment("key")) view=projects::ProjectPage/>
                        <Route path=StaticSegment("jobs") view=jobs::JobsPage/>
                    </Routes>
                </main>
            </Router>
        </div>
    }
}
