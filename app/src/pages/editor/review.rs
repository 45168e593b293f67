//! "Review changes": the diff of the stored spec and the draft, the server's dry run (every
//! error, including those across the pipeline), then "Apply". A conflict (someone else changed
//! the sidecar) shows their version against yours and asks how to go on.

use super::draft::{changed_fields, diff, pretty, stored_form, Line};
use super::{failure, Base, Draft};
use crate::api::save_sidecar;
use crate::error::ConsoleError;
use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;
use serde_json::Value;
use sidecar_api::SidecarView;

/// What the review works on.
#[derive(Clone)]
pub struct ReviewInput {
    /// The pipeline's namespace.
    pub namespace: String,
    /// The pipeline's name.
    pub name: String,
    /// The sidecar edited; `None` when one is added.
    pub id: Option<String>,
    /// The draft.
    pub draft: Draft,
    /// What the draft started from (replaced by "Apply mine on top").
    pub base: RwSignal<Base>,
    /// The sidecar as it is on the server now.
    pub current: RwSignal<Option<SidecarView>>,
    /// Whether the draft is valid.
    pub valid: Signal<bool>,
    /// Called with the sidecar's ID and Kubernetes' warnings once it is applied.
    pub on_applied: Callback<(String, Vec<String>)>,
}

#[derive(Clone, Debug, PartialEq)]
struct Attempt {
    text: String,
    etag: Option<String>,
    dry_run: bool,
}

/// The review panel.
#[component]
pub fn Review(props: ReviewInput, on_close: Callback<()>) -> impl IntoView {
    let ReviewInput { namespace, name, id, draft, base, current, valid, on_applied } = props;
    let save = {
        let (namespace, name, id) = (namespace.clone(), name.clone(), id.clone());
        Action::new(move |a: &Attempt| {
            let (namespace, name, id, a) = (namespace.clone(), name.clone(), id.clone(), a.clone());
            async move { (a.clone(), save_sidecar(namespace, name, id, a.text, a.etag, a.dry_run).await) }
        })
    };
    let attempt = move |dry_run: bool| {
        save.dispatch(Attempt { text: draft.text.get_untracked(), etag: base.get_untracked().etag, dry_run });
    };
    // The dry run starts when the panel opens.
    attempt(true);
    let conflict = RwSignal::new(None::<(String, Option<SidecarView>)>);
    let (reviewed, set_reviewed) = signal(None::<Result<String, ConsoleError>>);
    let (warnings, set_warnings) = signal(Vec::<String>::new());
    Effect::new(move |_| {
        let Some((a, result)) = save.value().get() else { return };
        match result {
            Ok(saved) if !a.dry_run => on_applied.run((saved.id, saved.warnings)),
            Ok(saved) => {
                set_warnings.set(saved.warnings);
                set_reviewed.set(Some(Ok(a.text)));
            }
            Err(e @ ConsoleError::Failed { status: 409, .. }) => {
                let (sentence, theirs) = failure(&e);
                if let Some(t) = &theirs {
                    current.set(Some(t.clone()));
                }
                conflict.set(Some((sentence, theirs)));
                set_reviewed.set(None);
            }
            Err(e) => set_reviewed.set(Some(Err(e))),
        }
    });
    let pending = save.pending();
    let stale = move || reviewed.with(|r| matches!(r, Some(Ok(t)) if *t != draft.text.get()));
    let can_apply = move || {
        valid.get()
            && !pending.get()
            && conflict.with(Option::is_none)
            && matches!(reviewed.get(), Some(Ok(_)))
            && !stale()
    };
    let apply_why = move || {
        if pending.get() {
            "Waiting for the server's dry run…".to_owned()
        } else if conflict.with(Option::is_some) {
            "Someone else changed the sidecar; choose below how to go on.".to_owned()
        } else if stale() {
            "The draft changed since this review; review it again.".to_owned()
        } else if !valid.get() {
            "The draft has problems; fix them first.".to_owned()
        } else if matches!(reviewed.get(), Some(Err(_))) {
            "The server refused the change; fix what it lists first.".to_owned()
        } else {
            String::new()
        }
    };

    // Both sides as they are (or would be) stored, defaults included.
    let old = move || base.with(|b| b.spec.as_ref().map(|s| pretty(&stored_form(s))).unwrap_or_default());
    let new = move || {
        draft.checked.with(|c| c.json.as_ref().map(|v| pretty(&stored_form(v))).unwrap_or_else(|_| draft.text.get()))
    };
    // During a conflict the diff that matters is theirs against yours (below).
    let diff_view = move || {
        conflict.with(Option::is_none).then(|| {
            view! {
                <Diff old=old() new=new() label="Stored spec → your draft".to_owned()/>
                <SideBySide old=Signal::derive(old) new=Signal::derive(new)/>
            }
        })
    };
    let outcome = move || {
        if pending.get() {
            return EitherOf4::A(view! { <p class="loading" role="status">"Checking with the server (dry run)…"</p> });
        }
        match reviewed.get() {
            Some(Ok(_)) => EitherOf4::B(view! {
                <p class="verdict ok" role="status">"The server accepts this change (dry run; nothing is written until you apply)."</p>
                <super::super::sidecar::Warnings warnings=warnings.get()/>
            }),
            Some(Err(ConsoleError::Failed { body, .. })) => EitherOf4::C(view! {
                <div class="alert" role="alert">
                    <strong>"The server refused the change: "</strong>{body.error.clone()}
                    <ul>{body.details.iter().map(|d| view! { <li><code>{d.field.clone()}</code>": "{d.message.clone()}</li> }).collect_view()}</ul>
                </div>
            }),
            Some(Err(e)) => {
                EitherOf4::D(view! { <p class="alert" role="alert">{super::capitalize(&e.to_string())}</p> })
            }
            None => EitherOf4::A(view! { <p class="loading" role="status">""</p> }),
        }
    };
    let mine_on_top = move |_| {
        let Some((_, Some(theirs))) = conflict.get_untracked() else { return };
        base.set(Base { spec: Some(theirs.spec.clone()), etag: Some(theirs.etag.clone()) });
        conflict.set(None);
        attempt(true);
    };
    let discard_mine = move |_| {
        let Some((_, theirs)) = conflict.get_untracked() else { return };
        if let Some(t) = theirs {
            base.set(Base { spec: Some(t.spec.clone()), etag: Some(t.etag.clone()) });
            draft.text.set(pretty(&t.spec));
        }
        conflict.set(None);
        on_close.run(());
    };
    let conflict_view = move || {
        conflict.get().map(|(sentence, theirs)| {
            let mine = new();
            match theirs {
                Some(t) => {
                    let was = base.with_untracked(|b| b.spec.as_ref().map(stored_form)).unwrap_or(Value::Null);
                    let fields = changed_fields(&was, &stored_form(&t.spec));
                    let what = if fields.is_empty() { String::new() } else { format!(" They changed: {}.", fields.join(", ")) };
                    Either::Left(view! {
                        <div class="conflict" role="alert">
                            <h3>"Someone else changed this sidecar"</h3>
                            <p>{sentence.trim_end_matches('.').to_owned()}"."{what}</p>
                            <Diff old=pretty(&stored_form(&t.spec)) new=mine label="Their version → yours".to_owned()/>
                            <div class="toolbar">
                                <button type="button" class="button primary" on:click=mine_on_top>"Apply mine on top"</button>
                                <button type="button" class="button secondary" on:click=discard_mine>"Discard mine"</button>
                            </div>
                        </div>
                    })
                }
                None => Either::Right(view! {
                    <div class="conflict" role="alert">
                        <h3>"This sidecar was deleted by someone else"</h3>
                        <p>{sentence}</p>
                    </div>
                }),
            }
        })
    };
    let heading = NodeRef::<leptos::html::H2>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    view! {
        <section class="review" aria-labelledby="review-h">
            <h2 id="review-h" tabindex="-1" node_ref=heading>"Review changes"</h2>
            {diff_view}
            {outcome}
            {conflict_view}
            <div class="toolbar">
                <button type="button" class="button primary" disabled=move || !can_apply() aria-describedby="apply-why"
                    on:click=move |_| attempt(false)>"Apply"</button>
                <button type="button" class="button secondary" disabled=move || pending.get() on:click=move |_| attempt(true)>"Review again"</button>
                <button type="button" class="button secondary" on:click=move |_| on_close.run(())>"Back to editing"</button>
                <span id="apply-why" class="why">{apply_why}</span>
            </div>
        </section>
    }
}

/// A line diff of two texts, readable without colour: removed lines start with "−", added with
/// "+", and screen readers hear "removed" and "added".
#[component]
pub fn Diff(old: String, new: String, label: String) -> impl IntoView {
    let lines = diff(&old, &new);
    let added = lines.iter().filter(|l| matches!(l, Line::Added(_))).count();
    let removed = lines.iter().filter(|l| matches!(l, Line::Removed(_))).count();
    let summary = match (added, removed) {
        (0, 0) => "No changes.".to_owned(),
        (a, r) => format!("{a} line{} added, {r} removed.", if a == 1 { "" } else { "s" }),
    };
    let label2 = format!("{label}, {summary}");
    let rows = lines
        .into_iter()
        .map(|l| match l {
            Line::Same(s) => EitherOf3::A(view! { <span class="same">{format!("  {s}\n")}</span> }),
            Line::Removed(s) => {
                EitherOf3::B(view! { <del><span class="sr-only">"removed: "</span>{format!("− {s}\n")}</del> })
            }
            Line::Added(s) => {
                EitherOf3::C(view! { <ins><span class="sr-only">"added: "</span>{format!("+ {s}\n")}</ins> })
            }
        })
        .collect_view();
    view! {
        <figure class="diff">
            <figcaption>{label} " · " {summary}</figcaption>
            <pre tabindex="0" aria-label=format!("Diff: {label2}")>{rows}</pre>
        </figure>
    }
}

/// Where Monaco is loaded already (someone opened the JSON view), the same diff side by side in
/// Monaco's diff editor, on request. Never loads Monaco by itself.
#[component]
fn SideBySide(old: Signal<String>, new: Signal<String>) -> impl IntoView {
    let (shown, set_shown) = signal(false);
    let available = RwSignal::new(false);
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        available.set(monaco_sys::is_loaded());
        let slot =
            send_wrapper::SendWrapper::new(std::rc::Rc::new(std::cell::RefCell::new(None::<monaco_sys::DiffEditor>)));
        let held = slot.clone();
        on_cleanup(move || {
            held.borrow_mut().take();
        });
        Effect::new(move |_| {
            let (Some(el), true) = (host.get(), shown.get()) else {
                slot.borrow_mut().take();
                return;
            };
            let slot = slot.clone();
            leptos::task::spawn_local(async move {
                if let Ok(module) = monaco_sys::load().await {
                    *slot.borrow_mut() =
                        Some(monaco_sys::DiffEditor::create(&module, &el, &old.get_untracked(), &new.get_untracked()));
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (old, new);
    move || {
        available.get().then(|| {
            view! {
                <button type="button" class="button secondary small" aria-pressed=move || if shown.get() { "true" } else { "false" }
                    on:click=move |_| set_shown.update(|s| *s = !*s)>"Side by side"</button>
                <div class="monaco-diff" node_ref=host hidden=move || !shown.get()
                    role="region" aria-label="Stored spec and your draft, side by side"></div>
            }
        })
    }
}
