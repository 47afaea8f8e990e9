//! The guided chat (an island): the domain's [`Conversation`] runs in the
//! browser, so every answer is read and checked at once by the same code
//! the server runs again on submit. A form view edits the same answers; the
//! preview is the server's rendering of the exact block.

use super::{Draft, file_request, preview};
use crate::domain::assistant::{Answer, Conversation, Speaker, form_text, parse_answer, show};
use crate::domain::registry::{Input, InputType, Module};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// The chat, the form view and the preview for one module.
#[island]
pub fn Chat(id: String, project: String, environment: String, module: Module) -> impl IntoView {
    let conv = RwSignal::new(Conversation::start(&module));
    let module = StoredValue::new(module);
    let form_view = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let block = RwSignal::new(None::<Result<String, String>>);
    let field_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let sending = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let to_draft = {
        let (id, project, environment) = (id.clone(), project.clone(), environment.clone());
        move || Draft {
            id: id.clone(),
            project: project.clone(),
            environment: environment.clone(),
            module: module.with_value(|m| m.module_type.to_string()),
            config: conv.with_untracked(Conversation::config),
        }
    };
    // The preview follows the answers; a stale answer never overwrites a newer one.
    let generation = StoredValue::new(0u64);
    Effect::new({
        let to_draft = to_draft.clone();
        move |_| {
            conv.track();
            let d = to_draft();
            generation.update_value(|g| *g += 1);
            let mine = generation.get_value();
            leptos::task::spawn_local(async move {
                let result = preview(d).await.map_err(|e| crate::ui::error_text(&e));
                if generation.get_value() == mine {
                    block.set(Some(result));
                }
            });
        }
    });
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        module.with_value(|m| conv.update(|c| c.reply(m, &text)));
        draft.set(String::new());
    };
    let quick =
        move |text: &'static str| move |_| module.with_value(|m| conv.update(|c| c.reply(m, text)));
    let submit = {
        let to_draft = to_draft.clone();
        move |_| {
            sending.set(true);
            failure.set(None);
            let d = to_draft();
            let transcript = conv.with_untracked(|c| c.transcript.clone());
            leptos::task::spawn_local(async move {
                match file_request(d, transcript).await {
                    Ok(id) => {
                        let _ = window().location().set_href(&format!("/requests/{id}"));
                    }
                    Err(e) => {
                        failure.set(Some(crate::ui::error_text(&e)));
                        sending.set(false);
                    }
                }
            });
        }
    };
    let complete = move || module.with_value(|m| conv.with(|c| c.is_complete(m)));
    let inputs = module.with_value(|m| m.inputs.clone());
    let talk = view! {
            <section class="panel" aria-labelledby="chat-title">
                <div class="page-head">
                    <h2 id="chat-title">"Inputs"</h2>
                    <button type="button" class="link" aria-pressed=move || form_view.get().to_string()
                        on:click=move |_| form_view.update(|f| *f = !*f)>
                        {move || if form_view.get() { "Back to the chat" } else { "Show as a form" }}
                    </button>
                </div>
                <Show when=move || !form_view.get() fallback=move || view! {
                    <FormView inputs=inputs.clone() conv module field_errors/>
                }>
                    <ol class="chat" aria-live="polite" data-testid="chat">
                        {move || conv.with(|c| c.transcript.iter().map(|l| {
                            let who = match l.from { Speaker::Assistant => "assistant", Speaker::User => "user" };
                            view! { <li class=who>{l.text.clone()}</li> }
                        }).collect_view())}
                    </ol>
                    {move || conv.with(|c| c.offered.is_some()).then(|| view! {
                        <div class="buttons">
                            <button type="button" on:click=quick("yes")>"Yes"</button>
                            <button type="button" class="link" on:click=quick("no")>"No"</button>
                        </div>
                    })}
                    <form class="say" on:submit=send>
                        <label for="chat-input" class="sr-only">"Your answer"</label>
                        <input id="chat-input" autocomplete="off" placeholder="Type an answer, or describe what you need"
                            bind:value=draft/>
                        <button type="submit">"Send"</button>
                    </form>
                </Show>
                <h3>"Answers"</h3>
                <ul class="answers" data-testid="answers">
                    {move || module.with_value(|m| conv.with(|c| m.inputs.iter().filter_map(|i| {
                        let value = c.answers.get(&i.name)?;
                        let name = i.name.clone();
                        let again = name.clone();
                        let key = name.clone();
                        Some(view! {
                            <li data-input=key>
                                <code>{name}</code>" = "<span>{show(i, value)}</span>
                                <button type="button" class="link" aria-label=format!("Change {again}")
                                    on:click=move |_| module.with_value(|m| conv.update(|c| c.revisit(m, &again)))>
                                    "change"
                                </button>
                            </li>
                        })
                    }).collect_view()))}
                </ul>
            </section>
    }
    .into_any();
    let side = view! {
            <section class="panel" aria-labelledby="preview-title">
                <h2 id="preview-title">"Terraform block"</h2>
                <p class="muted">{format!("envs/{environment}/")}{move || module.with_value(|m| m.file.clone())}</p>
                {move || match block.get() {
                    None => view! { <p class="muted">"The block appears as you answer."</p> }.into_any(),
                    Some(Ok(text)) => view! { <pre class="code" data-testid="preview">{text}</pre> }.into_any(),
                    Some(Err(e)) => view! { <p class="muted" data-testid="preview-note">{e}</p> }.into_any(),
                }}
                <button type="button" data-testid="submit" on:click=submit
                    disabled=move || !complete() || sending.get()>
                    {move || if sending.get() { "Filing…" } else { "Submit request" }}
                </button>
                {move || (!complete()).then(|| view! { <p class="muted">"Answer every question (or keep its default) to submit."</p> })}
                {move || failure.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
    }
    .into_any();
    view! { <div class="composer-grid" data-ready=crate::ui::ready()>{talk}{side}</div> }
}

/// The same answers as a form; each field is read and checked on change.
#[component]
fn FormView(
    inputs: Vec<Input>,
    conv: RwSignal<Conversation>,
    module: StoredValue<Module>,
    field_errors: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    view! {
        <div class="form-view" data-testid="form-view">
            {inputs.into_iter().map(|input| {
                let name = input.name.clone();
                let id = format!("field-{name}");
                let error_id = format!("{id}-error");
                let current = conv.with_untracked(|c| form_text(&input, c.answers.get(&name)));
                let label = format!("{}{}", input.name, if input.required { " *" } else { "" });
                let help = crate::domain::assistant::question(&input);
                let on_change = {
                    let (input, name) = (input.clone(), name.clone());
                    move |text: String| {
                        let result = match parse_answer(&input, &text) {
                            Answer::Value(v) => Ok(Some(v)),
                            Answer::Default => Ok(None),
                            Answer::Suggest(v) => Err(format!("Did you mean {}?", show(&input, &v))),
                            Answer::Invalid(why) => Err(why),
                        };
                        match result {
                            Ok(v) => {
                                field_errors.update(|f| { f.remove(&name); });
                                module.with_value(|m| conv.update(|c| c.set(m, &name, v)));
                            }
                            Err(why) => field_errors.update(|f| { f.insert(name.clone(), why); }),
                        }
                    }
                };
                let err_name = name.clone();
                let error = move || field_errors.with(|f| f.get(&err_name).cloned());
                let control = match input.ty {
                    InputType::Bool | InputType::Enum => {
                        let mut choices: Vec<String> = if input.ty == InputType::Bool {
                            vec!["yes".into(), "no".into()]
                        } else {
                            input.values.clone()
                        };
                        choices.insert(0, String::new());
                        view! {
                            <select id=id.clone() aria-describedby=error_id.clone()
                                on:change=move |ev| on_change(event_target_value(&ev))>
                                {choices.into_iter().map(|c| {
                                    let selected = c == current;
                                    let text = if c.is_empty() { "(default)".to_owned() } else { c.clone() };
                                    view! { <option value=c selected=selected>{text}</option> }
                                }).collect_view()}
                            </select>
                        }.into_any()
                    }
                    _ => view! {
                        <input id=id.clone() value=current aria-describedby=error_id.clone()
                            type=if input.sensitive { "password" } else { "text" }
                            on:change=move |ev| on_change(event_target_value(&ev))/>
                    }.into_any(),
                };
                view! {
                    <div class="field" data-input=name.clone()>
                        <label for=id>{label}</label>
                        <p class="muted">{help}</p>
                        {control}
                        <p class="field-error" id=error_id role="alert">{error}</p>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}
