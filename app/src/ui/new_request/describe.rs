//! "Describe what you need": one box whose words the assistant reads (a
//! GET form, so it works before the browser bundle loads), and the
//! proposal it makes, with its reasons.

use crate::api::url_encode;
use crate::api::{AskAnswer, AssistantDraft};
use leptos::prelude::*;

/// The box.
#[component]
pub fn Describe(text: String) -> impl IntoView {
    view! {
        <form method="get" action="/requests/new" class="describe" aria-label="Describe what you need">
            <label for="describe">"Describe what you need"</label>
            <textarea id="describe" name="describe" rows="2" maxlength="4000"
                placeholder="e.g. somewhere to drop our nightly Postgres dumps for 90 days, in dev">{text}</textarea>
            <button type="submit">"Suggest"</button>
            <p class="muted hint">"tfpilot proposes a project, an environment, a module and the values it read; you confirm or change them below. Or pick them yourself. It also answers questions: “what is waiting for my approval?”, “status of <id>”, “what failed in prod this week?”, “who approved <id>?”."</p>
        </form>
    }
}

/// What the assistant proposed, or why it could not.
#[component]
pub fn Proposal(proposal: Result<AssistantDraft, String>, describe: String) -> impl IntoView {
    let p = match proposal {
        Ok(p) => p,
        Err(e) => return view! { <p class="error" role="alert">{e}</p> }.into_any(),
    };
    let offers = p.closest.clone();
    let place = [p.project.clone(), p.environment.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <section class="proposal" aria-label="Suggestion" data-source=p.source.as_str()>
            {match &p.module {
                Some(m) => view! {
                    <p class="proposed"><strong>"Suggested: "</strong>{format!("{} ({m})", p.title.clone().unwrap_or_default())}
                        {(!place.is_empty()).then(|| format!(" in {place}"))}
                    </p>
                }.into_any(),
                None => ().into_any(),
            }}
            <p class="reason">{p.explanation.clone()}</p>
            {(!p.dropped.is_empty()).then(|| view! {
                <ul class="dropped">
                    {p.dropped.iter().map(|d| view! { <li>{format!("{} {} — asked again below", d.field, d.message)}</li> }).collect_view()}
                </ul>
            })}
            {(!offers.is_empty()).then(|| view! {
                <ul class="offers">
                    {offers.into_iter().map(|o| {
                        let href = format!("/requests/new?describe={}&module={}", url_encode(&describe), url_encode(&o.module));
                        view! { <li><a href=href data-module=o.module.clone()>{o.title}</a>" — "{o.description}</li> }
                    }).collect_view()}
                </ul>
            })}
            {p.module.is_some().then(|| view! {
                <p class="muted">"Confirm or change the choices below; the chat asks only what is still missing."</p>
            })}
        </section>
    }
    .into_any()
}

/// The answer to a question about platform state, with the requests it
/// names.
#[component]
pub fn Answer(answer: Result<AskAnswer, String>) -> impl IntoView {
    match answer {
        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Ok(a) => view! {
            <section class="proposal answer" aria-label="Answer">
                <p class="reason">{a.answer}</p>
                {(!a.items.is_empty()).then(|| view! {
                    <ul class="answers">
                        {a.items.into_iter().map(|i| view! {
                            <li>
                                <a href=i.link>{i.title}</a>
                                " "<span class="status">{i.status}</span>
                                {(!i.detail.is_empty()).then(|| format!(" — {}", i.detail))}
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                <p class="muted"><a href="/requests/new">"Start a new request"</a></p>
            </section>
        }
        .into_any(),
    }
}
