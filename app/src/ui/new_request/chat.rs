//! The guided chat (an island): the domain's [`Conversation`] runs in the
//! browser, so every answer is read and checked at once by the same code
//! the server runs again on submit. A form view edits the same answers; the
//! preview is the server's rendering of the exact block.

use super::{file_request, preview, update_request};
use crate::api::Draft;
use crate::domain::assistant::{
    ASKING_KIND, Answer, Conversation, KIND_QUESTION, Speaker, USE_DEFAULTS, default_text,
    form_text, parse_answer, show,
};
use crate::domain::registry::Risk;
use crate::domain::registry::{Input, InputType, Module};
use crate::domain::request::Kind;

use crate::ui::esc;
use leptos::prelude::*;
use std::collections::BTreeMap;

/// The chat, the form view and the preview for one module.
#[island]
pub fn Chat(
    id: String,
    ticket: String,
    project: String,
    environment: String,
    module: Module,
    prefill: Option<crate::domain::config::Config>,
    seed: Option<crate::domain::config::Config>,
    /// The description the seed came from (it says new or existing).
    described: String,
) -> impl IntoView {
    let updating = prefill.is_some();
    let conv = RwSignal::new(match (prefill, seed) {
        (Some(answers), _) => Conversation::resume(&module, answers),
        (None, Some(taken)) => Conversation::seeded(&module, taken, &described),
        (None, None) => Conversation::start(&module),
    });
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
            ticket: ticket.clone(),
            project: project.clone(),
            environment: environment.clone(),
            module: module.with_value(|m| m.module_type.to_string()),
            config: conv.with_untracked(Conversation::config),
            kind: conv.with_untracked(Conversation::kind),
        }
    };
    // The preview follows the answers once every required one is known (a
    // draft without them cannot render); a stale answer never overwrites a
    // newer one.
    let answered = Memo::new(move |_| {
        module.with_value(|m| conv.with(|c| c.required_known(m).then(|| c.config())))
    });
    let generation = StoredValue::new(0u64);
    Effect::new({
        let to_draft = to_draft.clone();
        move |_| {
            let known = answered.with(Option::is_some);
            generation.update_value(|g| *g += 1);
            if !known {
                block.set(None);
                return;
            }
            let d = to_draft();
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
        // An empty Enter is an answer too: it keeps the default.
        let text = draft.get_untracked();
        module.with_value(|m| conv.update(|c| c.reply(m, &text)));
        draft.set(String::new());
    };
    let submit = {
        let to_draft = to_draft.clone();
        move |_| {
            sending.set(true);
            failure.set(None);
            let d = to_draft();
            let transcript = conv.with_untracked(|c| c.transcript.clone());
            leptos::task::spawn_local(async move {
                let filed = if updating {
                    update_request(d, transcript).await
                } else {
                    file_request(d, transcript).await
                };
                match filed {
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
    // Lists are rendered as escaped HTML and clicks are delegated: one
    // closure per list instead of a typed view per item keeps the island
    // (and the wasm) small.
    let transcript = move || {
        conv.with(|c| {
            c.transcript
                .iter()
                .map(|l| {
                    let who = match l.from {
                        Speaker::Assistant => "assistant",
                        Speaker::User => "user",
                    };
                    format!("<li class=\"{who}\">{}</li>", esc(&l.text))
                })
                .collect::<String>()
        })
    };
    let answers = move || {
        module.with_value(|m| {
            conv.with(|c| {
                let kind = c.kind_shown(m).map(|k| {
                    format!(
                        "<li data-input=\"{ASKING_KIND}\"><code>new or existing</code> = <span>{k}</span> \
                         <button type=\"button\" class=\"link\" data-change=\"{ASKING_KIND}\" \
                         aria-label=\"Change new or existing\">change</button></li>"
                    )
                });
                kind.into_iter().chain(c.shown(m)
                    .into_iter()
                    .map(|s| {
                        let n = esc(&s.input.name);
                        let note = if s.default {
                            " <small class=\"muted\">default</small>"
                        } else {
                            ""
                        };
                        format!(
                            "<li data-input=\"{n}\"><code>{n}</code> = <span>{}</span>{note} \
                             <button type=\"button\" class=\"link\" data-change=\"{n}\" \
                             aria-label=\"Change {n}\">change</button></li>",
                            esc(&s.value)
                        )
                    }))
                    .collect::<String>()
            })
        })
    };
    // The buttons under the question: the default is the filled one.
    let replies = move || {
        module.with_value(|m| {
            conv.with(|c| {
                c.quick_replies(m)
                    .into_iter()
                    .map(|q| {
                        let class = match (q.primary, q.risky) {
                            (true, _) => "primary",
                            (false, true) => "secondary risky",
                            (false, false) => "secondary",
                        };
                        format!(
                            "<button type=\"button\" class=\"{class}\" data-reply=\"{}\">{}</button>",
                            esc(&q.reply),
                            esc(&q.label)
                        )
                    })
                    .collect::<String>()
            })
        })
    };
    // "Use the defaults for the rest", with what those are, high-risk first.
    let rest = move || {
        module.with_value(|m| {
            conv.with(|c| {
                if !c.offers_defaults(m) {
                    return String::new();
                }
                c.rest(m)
                    .into_iter()
                    .map(|i| {
                        let n = esc(&i.name);
                        let risk = if i.risk == Risk::High {
                            " <strong class=\"risk\">high risk</strong>"
                        } else {
                            ""
                        };
                        format!(
                            "<li data-input=\"{n}\"><code>{n}</code> = {}{risk} \
                             <button type=\"button\" class=\"link\" data-change=\"{n}\" \
                             aria-label=\"Answer {n}\">answer</button></li>",
                            esc(&default_text(i))
                        )
                    })
                    .collect::<String>()
            })
        })
    };
    let offers_defaults = move || module.with_value(|m| conv.with(|c| c.offers_defaults(m)));
    let placeholder = move || module.with_value(|m| conv.with(|c| c.placeholder(m)));
    // One delegated handler for every button rendered as HTML.
    let click = move |ev: leptos::ev::MouseEvent| {
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let Ok(Some(button)) = target.closest("button") else {
            return;
        };
        if let Some(name) = button.get_attribute("data-change") {
            form_view.set(false);
            module.with_value(|m| conv.update(|c| c.revisit(m, &name)));
        } else if let Some(text) = button.get_attribute("data-reply") {
            module.with_value(|m| conv.update(|c| c.reply(m, &text)));
        }
    };
    let preview_text = move || match block.get() {
        Some(Ok(text)) => text,
        _ => String::new(),
    };
    let preview_note = move || match block.get() {
        None => "The block appears once every required input is known.".to_owned(),
        Some(Ok(_)) => String::new(),
        Some(Err(e)) => e,
    };
    // The newest line stays in view.
    let chat_list = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |_| {
        conv.with(|c| c.transcript.len());
        if let Some(list) = chat_list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    let inputs = module.with_value(|m| m.inputs.clone());
    let talk = view! {
        <section class="panel" aria-labelledby="chat-title" on:click=click>
            <div class="page-head">
                <h2 id="chat-title">"Inputs"</h2>
                <button type="button" class="link" aria-pressed=move || form_view.get().to_string()
                    on:click=move |_| form_view.update(|f| *f = !*f)>
                    {move || if form_view.get() { "Back to the chat" } else { "Show as a form" }}
                </button>
            </div>
            <div hidden=move || form_view.get()>
                <ol class="chat" node_ref=chat_list aria-live="polite" data-testid="chat" inner_html=transcript></ol>
                <div class="buttons quick" data-testid="quick-replies" inner_html=replies></div>
                <div class="defaults" data-testid="defaults" hidden=move || !offers_defaults()>
                    <p>"Everything required is known. The rest can keep their defaults:"</p>
                    <ul inner_html=rest></ul>
                    <button type="button" data-reply=USE_DEFAULTS data-testid="use-defaults">{USE_DEFAULTS}</button>
                </div>
                <form class="say" on:submit=send>
                    <label for="chat-input" class="sr-only">"Your answer"</label>
                    <input id="chat-input" autocomplete="off" placeholder=placeholder
                        bind:value=draft/>
                    <button type="submit">"Send"</button>
                </form>
            </div>
            <div hidden=move || !form_view.get()>
                <FormView inputs conv module field_errors/>
            </div>
            <h3>"Answers"</h3>
            <ul class="answers" data-testid="answers" inner_html=answers></ul>
        </section>
    };
    let side = view! {
        <section class="panel" aria-labelledby="preview-title">
            <h2 id="preview-title">"Terraform block"</h2>
            <p class="muted">{format!("envs/{environment}/")}{move || module.with_value(|m| m.file.clone())}</p>
            <p class="muted" data-testid="preview-note" hidden=move || preview_note().is_empty()>{preview_note}</p>
            <pre class="code" data-testid="preview" hidden=move || preview_text().is_empty()>{preview_text}</pre>
            <button type="button" data-testid="submit" on:click=submit
                disabled=move || !complete() || sending.get()>
                {move || match (sending.get(), updating) {
                    (true, _) => "Filing…",
                    (false, true) => "Submit the new revision",
                    (false, false) => "Submit request",
                }}
            </button>
            <p class="muted" hidden=complete>
                {move || if offers_defaults() {
                    "Answer the remaining questions, or use the defaults for the rest, to submit."
                } else {
                    "Answer every required question to submit."
                }}
            </p>
            <p class="error" role="alert" hidden=move || failure.with(Option::is_none)>
                {move || failure.get().unwrap_or_default()}
            </p>
        </section>
    };
    view! { <div class="composer-grid" data-ready=crate::ui::ready()>{talk}{side}</div> }
}

/// The same answers as a form: one text field per input (choices offered
/// as suggestions), read and checked on change, one delegated handler.
#[component]
fn FormView(
    inputs: Vec<Input>,
    conv: RwSignal<Conversation>,
    module: StoredValue<Module>,
    field_errors: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| {
        let target = event_target::<leptos::web_sys::Element>(&ev);
        let kind = match target.id().as_str() {
            "kind-create" => Some(Kind::Create),
            "kind-adopt" => Some(Kind::Adopt),
            _ => None,
        };
        if let Some(kind) = kind {
            module.with_value(|m| conv.update(|c| c.set_kind(m, kind)));
            return;
        }
        let Some(name) = target.id().strip_prefix("field-").map(str::to_owned) else {
            return;
        };
        let text = event_target_value(&ev);
        let result = module.with_value(|m| {
            let input = m.input(&name)?;
            Some(match parse_answer(input, &text) {
                Answer::Value(v) => Ok(Some(v)),
                Answer::Default => Ok(None),
                Answer::Suggest(v) => Err(format!("Did you mean {}?", show(input, &v))),
                Answer::Invalid(why) => Err(why),
            })
        });
        match result {
            Some(Ok(v)) => {
                field_errors.update(|f| {
                    f.remove(&name);
                });
                module.with_value(|m| conv.update(|c| c.set(m, &name, v)));
            }
            Some(Err(why)) => field_errors.update(|f| {
                f.insert(name, why);
            }),
            None => {}
        }
    };
    let adopts = module.with_value(|m| m.import.is_some());
    let is = move |k: Kind| conv.with(|c| c.kind == Some(k));
    view! {
        <div class="form-view" data-testid="form-view" on:change=on_change>
            {adopts.then(|| view! {
                <fieldset class="field" data-input=ASKING_KIND>
                    <legend>{KIND_QUESTION}</legend>
                    <label><input type="radio" name="kind" id="kind-create" prop:checked=move || is(Kind::Create)/>" New"</label>
                    <label><input type="radio" name="kind" id="kind-adopt" prop:checked=move || is(Kind::Adopt)/>" It already exists (imported, nothing is created)"</label>
                </fieldset>
            })}
            {inputs.into_iter().map(|input| {
                let name = input.name.clone();
                let id = format!("field-{name}");
                let list = format!("choices-{name}");
                let error_id = format!("{id}-error");
                let choices: Vec<String> = match input.ty {
                    InputType::Bool => vec!["yes".into(), "no".into()],
                    InputType::Enum => input.values.clone(),
                    _ => vec![],
                };
                let label = format!("{}{}", input.name, if input.required { " *" } else { "" });
                let help = crate::domain::assistant::question(&input);
                let value = {
                    let (input, name) = (input.clone(), name.clone());
                    move || conv.with(|c| form_text(&input, c.answers.get(&name)))
                };
                let error = {
                    let name = name.clone();
                    move || field_errors.with(|f| f.get(&name).cloned().unwrap_or_default())
                };
                let options: String = choices
                    .iter()
                    .map(|c| format!("<option value=\"{}\"></option>", esc(c)))
                    .collect();
                view! {
                    <div class="field" data-input=name>
                        <label for=id.clone()>{label}</label>
                        <p class="muted">{help}</p>
                        <input id=id list=list.clone() aria-describedby=error_id.clone()
                            type=if input.sensitive { "password" } else { "text" }
                            autocomplete="off" prop:value=value/>
                        <datalist id=list inner_html=options></datalist>
                        <p class="field-error" id=error_id role="alert">{error}</p>
                    </div>
                }
            }).collect_view()}
        </div>
    }
}
