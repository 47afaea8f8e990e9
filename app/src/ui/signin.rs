//! Sign-in and first-admin setup: plain HTML forms that post to
//! `/auth/login` and `/auth/setup`, so they work before (or without) wasm.

use crate::api::SignInNotice;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let failed = move || query.read().get("error").is_some();
    let next = move || query.read().get("next").unwrap_or_default();
    let notice = use_context::<SignInNotice>().map(|n| {
        let mut text = n.0;
        if let Some(first) = text.get(..1) {
            text.replace_range(..1, &first.to_uppercase());
        }
        view! { <p class="error" role="alert" data-testid="signin-notice">{text}"."</p> }
    });
    view! {
        <section class="signin" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in"</h1>
            {notice}
            <Show when=failed>
                <p class="error" role="alert">"The login or the password is wrong."</p>
            </Show>
            <form method="post" action="/auth/login" class="form">
                <input type="hidden" name="next" value=next/>
                <label>"Login" <input name="login" autocomplete="username" required/></label>
                <label>
                    "Password"
                    <input name="password" type="password" autocomplete="current-password" required/>
                </label>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}

/// `/setup?token=…`: the one-time link printed at the first start.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <section class="signin" aria-labelledby="setup-title">
            <h1 id="setup-title">"Create the first admin"</h1>
            <p>"This link works once, for an hour. Choose the admin's login and a password of at least 12 characters."</p>
            <form method="post" action="/auth/setup" class="form">
                <input type="hidden" name="token" value=token/>
                <label>"Login" <input name="login" autocomplete="username" required/></label>
                <label>
                    "Password"
                    <input name="password" type="password" minlength="12" autocomplete="new-password" required/>
                </label>
                <button type="submit">"Create admin and sign in"</button>
            </form>
        </section>
    }
}
