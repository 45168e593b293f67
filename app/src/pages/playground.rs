//! "Check a sidecar spec": type or paste a spec and see at once whether it is valid. The check
//! runs in the browser with the same `spec` crate the server and the CLI use; nothing is sent.

use crate::components::hydrate::Synchronous;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use sidecar_spec::{CheckError, FieldError};

/// The `/validate` route. In the browser its view is a WebAssembly chunk of its own,
/// fetched with the page that shows it (and preloaded by the server's HTML for the page it
/// renders).
pub struct PlaygroundRoute;

lazy_route!(PlaygroundRoute, playground_code, __preload_playground_code);

/// The page's code: in the browser a WebAssembly chunk of its own.
#[lazy]
fn playground_code() -> AnyView {
    crate::components::code::preload("playground_code", &[]);
    Synchronous(view! { <Playground/> }).into_any()
}

/// The spec playground, the console's home page.
#[component]
pub fn Playground() -> impl IntoView {
    let (text, set_text) = signal(sidecar_spec::examples::ALL[0].json.to_owned());
    let outcome = Memo::new(move |_| text.with(|t| sidecar_spec::check(t)));

    let examples = sidecar_spec::examples::ALL
        .iter()
        .map(|ex| {
            view! {
                <button type="button" class="example" on:click=move |_| set_text.set(ex.json.to_owned())>
                    {ex.title}
                </button>
            }
        })
        .collect_view();

    view! {
        <section class="playground">
            <Title text="Check a spec"/>
            <h1>"Check a sidecar spec"</h1>
            <p class="lede">
                "Paste or type a sidecar spec (JSON). It is checked as you type against the rules Kubernetes applies to a container, plus the sidecar rules. Nothing leaves your browser."
            </p>
            <div class="examples">
                <span>"Load an example:"</span>
                {examples}
            </div>
            <div class="panes">
                <textarea
                    class="spec-input"
                    aria-label="Sidecar spec (JSON)"
                    spellcheck="false"
                    prop:value=move || text.get()
                    on:input:target=move |ev| set_text.set(ev.target().value())
                ></textarea>
                <div class="result" aria-live="polite">
                    {move || outcome.with(render_outcome)}
                </div>
            </div>
        </section>
    }
}

fn render_outcome(outcome: &Result<sidecar_spec::SidecarSpec, CheckError>) -> impl IntoView {
    match outcome {
        Ok(spec) => {
            let defaulted = serde_json::to_string_pretty(spec).unwrap_or_default();
            EitherOf3::A(view! {
                <div class="verdict ok" data-verdict="valid">
                    <strong>"Valid."</strong>
                    " Sidecar "<code>{spec.name.clone()}</code>", with Kubernetes' defaults applied:"
                </div>
                <pre class="defaulted">{defaulted}</pre>
            })
        }
        Err(CheckError::Syntax(e)) => EitherOf3::B(view! {
            <div class="verdict bad" data-verdict="syntax">
                <strong>"Not JSON."</strong>
                {format!(" Line {}, column {}: {}", e.line, e.column, e.message)}
            </div>
        }),
        Err(CheckError::Invalid(errors)) => {
            let count = errors.len();
            let rows = errors.iter().map(error_row).collect_view();
            EitherOf3::C(view! {
                <div class="verdict bad" data-verdict="invalid">
                    <strong>{if count == 1 { "1 problem".to_owned() } else { format!("{count} problems") }}</strong>
                </div>
                <ul class="errors">{rows}</ul>
            })
        }
    }
}

fn error_row(e: &FieldError) -> impl IntoView {
    let field = if e.field.is_root() { "(spec)".to_owned() } else { e.field.to_string() };
    view! {
        <li class="error" data-field=e.field.as_str().to_owned() data-kind=e.kind.as_str()>
            <code class="field">{field}</code>
            <span class="kind">{e.kind.as_str()}</span>
            <span class="message">{e.message.clone()}</span>
        </li>
    }
}
