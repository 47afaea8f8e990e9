//! The request page's drift section (server-rendered, no island): what
//! differs, Revert explained, and Adopt as a plain form posting to
//! `/requests/{id}/act` (`action=adopt-drift`), or why it cannot.

use crate::api::{DriftView, short_time};
use leptos::prelude::*;

/// What the newest drift run found on request `id`, and the two answers.
#[component]
pub fn DriftSection(id: String, d: DriftView) -> impl IntoView {
    let DriftView {
        detected_at,
        run,
        rows,
        revert_refused,
        adopt,
        adopt_refused,
    } = d;
    let adopt_form = (adopt_refused.is_none() && !adopt.is_empty()).then(|| {
        view! {
            <ul class="adopt-inputs" data-testid="adopt-inputs">
                {adopt.into_iter().map(|a| view! {
                    <li><code>{a.input}</code>": "<code>{a.from}</code>" → "<code>{a.to}</code></li>
                }).collect_view()}
            </ul>
            <form method="post" action=format!("/requests/{id}/act")>
                <input type="hidden" name="action" value="adopt-drift"/>
                <button type="submit" data-action="adopt-drift">"Adopt what is there (new revision)"</button>
            </form>
        }
    });
    view! {
        <section class="panel wide drift" aria-labelledby="drift-title" data-testid="drift">
            <h2 id="drift-title">"Drift"</h2>
            <p>
                "Drift run "<code>{run}</code>" on "
                <time datetime=detected_at.clone()>{short_time(&detected_at)}</time>
                " found this request's resources different from its config. Sensitive values are never shown."
            </p>
            <table class="drift-diff" data-testid="drift-diff">
                <thead><tr>
                    <th scope="col">"Resource"</th>
                    <th scope="col">"Change"</th>
                    <th scope="col">"Attribute"</th>
                    <th scope="col">"What is there"</th>
                    <th scope="col">"What the config says"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let kind = r.action.clone();
                        view! {
                        <tr data-action=kind>
                            <td><code>{r.address}</code></td>
                            <td>{r.action}</td>
                            <td><code>{r.attribute}</code></td>
                            <td><code>{r.current}</code></td>
                            <td><code>{r.desired}</code></td>
                        </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Revert"</h3>
            <p data-testid="drift-revert">
                "“Revert drift (apply again)” in the actions applies this request's current config again on the tip of main, its own block only: what is there goes back to what the config says."
                {revert_refused.map(|r| view! { <span class="muted">{format!(" Not available to you now: {r}")}</span> })}
            </p>
            <h3>"Adopt"</h3>
            <p>
                "Adopt keeps what is there instead: a new revision whose inputs say it, with a new PR, a plan and an approval as usual. Once applied, the drift is gone."
            </p>
            {adopt_form}
            {adopt_refused.map(|r| view! { <p class="notice" data-testid="drift-adopt-refused">{r}</p> })}
        </section>
    }
}
