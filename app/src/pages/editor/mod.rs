//! The sidecar editor: `/pipelines/{ns}/{name}/sidecars/new` adds a sidecar, `…/sidecars/{id}`
//! with `?tab=form` or `?tab=json` edits one. The form and the JSON view edit one draft (JSON
//! text); it is checked as you type with the validator the server uses, kept in the browser
//! until it is applied or discarded, reviewed (diff and the server's dry run) before it is
//! applied, and guarded against changes made by others meanwhile.

pub mod draft;
mod form;
mod json;
mod review;

use crate::api::{load_editor, EditorSeed};
use crate::components::crumbs::PipelineCrumbs;
use crate::components::guard::{confirm, guard_unsaved};
use crate::components::hydrate::Synchronous;
use crate::components::live::follow;
use crate::components::load::{capitalize, later, Failure, Loading};
use crate::components::rights::WhyNot;
use crate::components::storage;
use crate::components::tabs::{Tab, TabList, TabPanel};
use crate::error::ConsoleError;
use crate::pages::pipeline::LiveBadge;
use draft::{check, pretty, Checked};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sidecar_api::{ConfigMapView, SidecarView};

const TABS: [Tab; 2] = [Tab { key: "form", label: "Form" }, Tab { key: "json", label: "JSON" }];

/// What a new sidecar starts as, without a preset.
const BLANK: &str = "{\n  \"name\": \"\",\n  \"image\": \"\"\n}";

/// The draft both views edit: its text, and the text checked.
#[derive(Clone, Copy)]
pub struct Draft {
    /// The JSON text: the one draft.
    pub text: RwSignal<String>,
    /// It parsed, validated and placed.
    pub checked: Memo<Checked>,
}

impl Draft {
    /// Reads the parsed draft (`null` while the text is not JSON).
    pub fn read<T>(&self, f: impl FnOnce(&Value) -> T) -> T {
        self.checked.with(|c| match &c.json {
            Ok(v) => f(v),
            Err(_) => f(&Value::Null),
        })
    }

    /// Changes the parsed draft and writes it back as text; nothing happens while the text is
    /// not JSON (the form is not shown then).
    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        let Ok(mut v) = self.checked.with_untracked(|c| c.json.clone()) else { return };
        if !v.is_object() {
            v = Value::Object(Default::default());
        }
        f(&mut v);
        self.text.set(pretty(&v));
    }
}

/// What the draft started from: the stored spec and its ETag (none for a new sidecar).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// The stored spec.
    pub spec: Option<Value>,
    /// Its ETag.
    pub etag: Option<String>,
}

/// A draft as kept in the browser's storage.
#[derive(Serialize, Deserialize)]
struct Kept {
    text: String,
    base: Base,
    saved_at: f64,
}

/// The editor page for pipeline `namespace/name`: a new sidecar when `id` is `None`.
#[component]
pub fn SidecarEditor(namespace: String, name: String, id: Option<String>) -> impl IntoView {
    let key = (namespace.clone(), name.clone(), id.clone());
    let start = Resource::new(move || key.clone(), |(ns, n, id)| load_editor(ns, n, id));
    let what = match &id {
        Some(id) => format!("sidecar {id} of pipeline {namespace}/{name}"),
        None => format!("pipeline {namespace}/{name}"),
    };
    view! {
        <Transition fallback=|| view! { <Loading what="the editor"/> }>
            {move || {
                let what = what.clone();
                Suspend::new(async move {
                    match start.await {
                        Ok(s) => Either::Left(view! { <Editor start=s/> }),
                        Err(e) => Either::Right(view! { <Title text="Not found"/> <Failure error=e what=what/> }),
                    }
                })
            }}
        </Transition>
    }
}

/// What the editor reads of a sidecar's live state: the sidecar as stored. The stream's replicas,
/// events and diagnosis are for the sidecar's page; skipping them keeps their decoders out of the
/// editor's code.
#[derive(Deserialize)]
struct Stored {
    sidecar: SidecarView,
}

#[component]
fn Editor(start: EditorSeed) -> impl IntoView {
    let ns = start.pipeline.namespace.clone();
    let pname = start.pipeline.name.clone();
    let stored = start.sidecar.clone();
    let id = stored.as_ref().map(|s| s.id.clone());
    let config_maps: Vec<ConfigMapView> = start.config_maps.clone();
    let query = use_query_map();
    let preset = query.with_untracked(|q| q.get("preset")).and_then(|k| sidecar_spec::presets::find(&k));

    let storage_key = format!("sidecar-draft:{ns}/{pname}/{}", id.as_deref().unwrap_or("new"));
    let base = RwSignal::new(Base {
        spec: stored.as_ref().map(|s| s.spec.clone()),
        etag: stored.as_ref().map(|s| s.etag.clone()),
    });
    // What "unchanged" means: the stored spec, or the preset or blank a new one starts as.
    let origin = RwSignal::new(match (&stored, preset) {
        (Some(s), _) => pretty(&s.spec),
        (None, Some(p)) => p.json.trim_end().to_owned(),
        (None, None) => BLANK.to_owned(),
    });
    let text = RwSignal::new(origin.get_untracked());
    let cluster = start.cluster_schema.clone();
    let offers = form::Offers(cluster.clone().map(std::sync::Arc::new));
    let checked = Memo::new(move |_| text.with(|t| check(t, cluster.as_ref())));
    let draft = Draft { text, checked };
    let dirty = Memo::new(move |_| text.with(|t| origin.with(|o| t != o)));
    // The sidecar as it is on the server now (edits only), kept current by its live stream.
    let current = RwSignal::new(stored.clone());
    let (restored, set_restored) = signal(None::<f64>);

    // A kept draft comes back after a reload (browser only: storage is the browser's).
    #[cfg(feature = "hydrate")]
    {
        let key = storage_key.clone();
        Effect::new(move |first: Option<()>| {
            if first.is_some() {
                return;
            }
            let Some(kept) = storage::get(&key).and_then(|s| serde_json::from_str::<Kept>(&s).ok()) else { return };
            if kept.text != text.get_untracked() {
                base.set(kept.base);
                text.set(kept.text);
                set_restored.set(Some(kept.saved_at));
            }
        });
    }
    {
        let key = storage_key.clone();
        Effect::new(move |_| {
            let t = text.get();
            if dirty.get() {
                let kept = Kept { text: t, base: base.get_untracked(), saved_at: now_ms() };
                if let Ok(s) = serde_json::to_string(&kept) {
                    storage::set(&key, &s);
                }
            } else {
                storage::remove(&key);
            }
        });
    }
    guard_unsaved(dirty.into(), "Leave the editor? Your changes stay in this browser as a draft.");

    let live = match &id {
        Some(id) => {
            let id = id.clone();
            let url = format!("/api/v1/sidecars/{id}/watch");
            Some(follow::<Stored>(
                move || url.clone(),
                move |s| current.set(Some(s.sidecar)),
                move |_| current.set(None),
            ))
        }
        None => None,
    };
    let editing = id.is_some();
    let changed_meanwhile = Memo::new(move |_| {
        if !editing {
            return None;
        }
        let b = base.get();
        match current.get() {
            None => Some(Err(())),
            // Both specs as the server stores them (its writes store them defaulted): the fields
            // whose stored value changed. Defaulting them again here would bring the spec's
            // encoder into the editor's code; the review, which defaults the draft, has it.
            Some(c) if Some(&c.etag) != b.etag.as_ref() => {
                Some(Ok(draft::changed_fields(b.spec.as_ref().unwrap_or(&Value::Null), &c.spec)))
            }
            Some(_) => None,
        }
    });

    // Tabs: JSON that does not parse keeps you on the JSON tab.
    let asked = Memo::new(move |_| query.with(|q| q.get("tab")).unwrap_or_default());
    let blocked = Memo::new(move |_| asked.get() == "form" && checked.with(|c| c.json.is_err()));
    let tab = Memo::new(move |_| if asked.get() == "json" || blocked.get() { "json" } else { "form" });
    let page = match &id {
        Some(id) => format!("/pipelines/{ns}/{pname}/sidecars/{id}"),
        None => format!("/pipelines/{ns}/{pname}/sidecars/new"),
    };
    let href = {
        let page = page.clone();
        move |k: &str| format!("{page}?tab={k}")
    };
    let jump = RwSignal::new(None::<(usize, usize)>);
    let (review_open, set_review_open) = signal(false);

    let discard = {
        let key = storage_key.clone();
        move |_| {
            let b = base.get_untracked();
            storage::remove(&key);
            set_restored.set(None);
            set_review_open.set(false);
            if let Some(c) = current.get_untracked() {
                base.set(Base { spec: Some(c.spec.clone()), etag: Some(c.etag.clone()) });
                origin.set(pretty(&c.spec));
            } else if let Some(spec) = b.spec {
                origin.set(pretty(&spec));
            }
            text.set(origin.get_untracked());
        }
    };

    let navigate = use_navigate();
    let after_apply = {
        let key = storage_key.clone();
        let ns = ns.clone();
        let pname = pname.clone();
        Callback::new(move |(new_id, warnings): (String, Vec<String>)| {
            storage::remove(&key);
            origin.set(text.get_untracked());
            // Kubernetes' warnings go along to the sidecar page, which shows them.
            let warned: String =
                warnings.iter().map(|w| format!("&warning={}", crate::components::logs::encode(w))).collect();
            navigate(
                &format!("/pipelines/{ns}/{pname}/sidecars/{new_id}?applied=1{warned}"),
                NavigateOptions::default(),
            );
        })
    };

    let title = match &stored {
        Some(s) => format!("Edit {} · {ns}/{pname}", s.name),
        None => format!("Add a sidecar · {ns}/{pname}"),
    };
    let heading = match &stored {
        Some(s) => format!("Edit sidecar {}", s.name),
        None => format!("Add a sidecar to {ns}/{pname}"),
    };
    let sidecar_name = stored.as_ref().map(|s| s.name.clone()).unwrap_or_default();
    let pipeline_href = format!("/pipelines/{ns}/{pname}");
    let crumb = match &stored {
        Some(s) => Either::Left(view! {
            <a href=format!("{pipeline_href}/sidecars/{}", s.id)>{s.name.clone()}</a><span aria-hidden="true">" › "</span>
            <span aria-current="page">"Edit"</span>
        }),
        None => Either::Right(view! { <span aria-current="page">"Add a sidecar"</span> }),
    };
    let chosen = preset.map(|p| p.key);
    let presets = (!editing).then(|| view! { <PresetPicker draft origin dirty chosen/> });
    let cms = config_maps.clone();
    let cm_ns = ns.clone();
    let panel = move || match tab.get() {
        "json" => Either::Left(later("the JSON editor", json_view(draft, jump))),
        // The form waits for nothing inside, so it hydrates in one go (see components::hydrate).
        _ => Either::Right(Synchronous(
            view! { <form::SidecarForm draft config_maps=cms.clone() namespace=cm_ns.clone() offers=offers.clone()/> },
        )),
    };
    let change = start.rights.change.clone();
    let allowed = change.allowed;
    let not_allowed = change.reason.clone().unwrap_or_default();
    let valid = Memo::new(move |_| allowed && checked.with(Checked::is_valid));
    let reason = move || {
        if !allowed {
            return not_allowed.clone();
        }
        checked.with(|c| match (&c.json, c.problems.len()) {
            (Err(_), _) => "The JSON does not parse; fix it on the JSON tab first.".to_owned(),
            (_, 0) => String::new(),
            (_, 1) => "Fix the problem listed above first.".to_owned(),
            (_, n) => format!("Fix the {n} problems listed above first."),
        })
    };
    let review = review::ReviewInput {
        namespace: ns.clone(),
        name: pname.clone(),
        id: id.clone(),
        draft,
        base,
        current,
        valid: valid.into(),
        on_applied: after_apply,
    };

    view! {
        <Title text=title/>
        <section class="page editor">
            <div class="crumb-row">
                <PipelineCrumbs namespace=ns.clone() pipeline=pname.clone()>{crumb}</PipelineCrumbs>
                {live.map(|live| view! { <LiveBadge live/> })}
            </div>
            <h1>{heading}</h1>
            {let discard = discard.clone(); move || restored.get().map(|_| view! {
                <p class="notice" role="status">"Your unsaved changes from this browser were restored. "
                    <button type="button" class="button secondary" on:click=discard.clone()>"Discard changes"</button></p>
            })}
            {move || changed_meanwhile.get().map(|c| match c {
                Ok(fields) => Either::Left(view! {
                    <p class="alert" role="alert">
                        <strong>{format!("{sidecar_name} was changed by someone else since you started editing")}</strong>
                        {if fields.is_empty() { ".".to_owned() } else { format!(" ({}).", fields.join(", ")) }}
                        " Review your changes to see their version; applying asks you how to go on."
                    </p>
                }),
                Err(()) => Either::Right(view! {
                    <p class="alert" role="alert"><strong>"This sidecar was deleted by someone else."</strong>
                        " Applying your draft cannot succeed; it stays in this browser until you discard it."</p>
                }),
            })}
            <WhyNot right=change/>
            <WhyNot right=start.rights.config_maps.clone()/>
            {presets}
            {move || blocked.get().then(|| view! {
                <p class="alert" role="alert">{checked.with(|c| c.problems.first().map(|p|
                    format!("The form needs JSON that parses: line {}, column {}: {}. Your text is kept; fix it here.", p.start.0, p.start.1, p.message)))}</p>
            })}
            <TabList label="Edit the sidecar as".to_owned() tabs=TABS.to_vec() selected=tab href=href id="editor"/>
            <TabPanel selected=tab id="editor">{panel}</TabPanel>
            <Problems draft jump tab=tab.into()/>
            <div class="toolbar actions">
                <button type="button" class="button primary" disabled=move || !valid.get()
                    aria-describedby="review-why" on:click=move |_| set_review_open.set(true)>"Review changes"</button>
                // "Apply" lives in the review; until one is open it is here, disabled, saying why.
                {move || (!review_open.get()).then(|| view! {
                    <button type="button" class="button" disabled=true aria-describedby="review-why">"Apply"</button>
                })}
                <span id="review-why" class="why">{move || {
                    let r = reason();
                    if !r.is_empty() { r } else if review_open.get() { String::new() } else { "Review the changes before applying them.".to_owned() }
                }}</span>
                <button type="button" class="button secondary" disabled=move || !dirty.get() on:click=discard.clone()>"Discard changes"</button>
            </div>
            {move || review_open.get().then(|| later("the review", review_view(review.clone(), Callback::new(move |_| set_review_open.set(false)))))}
        </section>
    }
}

/// The JSON tab (its code, and the Monaco binding, fetched when the tab is first shown).
#[lazy]
pub(crate) fn json_view(draft: Draft, jump: RwSignal<Option<(usize, usize)>>) -> AnyView {
    crate::components::code::preload("json_view", &[]);
    Synchronous(view! { <json::JsonView draft jump/> }).into_any()
}

/// "Review changes" (the diff and the dry run, fetched when a review is first asked for).
#[lazy]
fn review_view(props: review::ReviewInput, on_close: Callback<()>) -> AnyView {
    Synchronous(view! { <review::Review props on_close/> }).into_any()
}

/// "Start from preset": fills the draft with a ready-made sidecar.
#[component]
fn PresetPicker(
    draft: Draft,
    origin: RwSignal<String>,
    dirty: Memo<bool>,
    chosen: Option<&'static str>,
) -> impl IntoView {
    let options = sidecar_spec::presets::ALL
        .iter()
        .map(|p| view! { <option value=p.key selected=chosen == Some(p.key)>{p.title}</option> })
        .collect_view();
    let (note, set_note) = signal(chosen.and_then(sidecar_spec::presets::find).map(|p| p.summary));
    let pick = move |ev: leptos::ev::Event| {
        let key = event_target_value(&ev);
        let Some(p) = sidecar_spec::presets::find(&key) else { return };
        if dirty.get_untracked() && !confirm("Replace your draft with the preset?") {
            return;
        }
        let json = p.json.trim_end().to_owned();
        origin.set(json.clone());
        draft.text.set(json);
        set_note.set(Some(p.summary));
    };
    view! {
        <div class="field preset">
            <label for="preset">"Start from preset"</label>
            <select id="preset" on:change=pick>
                <option value="">"Choose a preset…"</option>
                {options}
            </select>
            <p class="hint" aria-live="polite">{move || note.get()}</p>
        </div>
    }
}

/// Every problem of the draft, `path: message`; choosing one goes to its field or its place in
/// the JSON.
#[component]
fn Problems(draft: Draft, jump: RwSignal<Option<(usize, usize)>>, tab: Signal<&'static str>) -> impl IntoView {
    let items = move || {
        draft.checked.with(|c| {
            c.problems
                .iter()
                .map(|p| {
                    let label = if p.path.is_empty() { p.message.clone() } else { format!("{}: {}", p.path, p.message) };
                    let at = p.start;
                    let path = p.path.clone();
                    let go = move |_| {
                        if tab.get_untracked() == "json" {
                            jump.set(Some(at));
                        } else {
                            focus_field(&path);
                        }
                    };
                    view! { <li><button type="button" class="link" data-path=p.path.clone() on:click=go>{label}</button></li> }
                })
                .collect_view()
        })
    };
    let count = move || draft.checked.with(|c| c.problems.len());
    view! {
        <section class="problems" aria-labelledby="problems-h">
            <h2 id="problems-h">{move || match count() { 0 => "No problems".to_owned(), 1 => "1 problem".to_owned(), n => format!("{n} problems") }}</h2>
            <ul aria-live="polite">{items}</ul>
        </section>
    }
}

/// Focuses the form field of `path` (or of its nearest parent that has one).
fn focus_field(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        let mut p = path.to_owned();
        loop {
            let selector = format!("[data-field=\"{}\"]", p.replace('"', "\\\""));
            if let Some(el) =
                doc.query_selector(&selector).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = el.focus();
                return;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return,
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// A failed save in words, and the sidecar as it is now when it was a conflict.
pub fn failure(e: &ConsoleError) -> (String, Option<SidecarView>) {
    match e {
        ConsoleError::Failed { status: 409, body } => {
            let theirs = body.current.as_deref().and_then(|v| serde_json::from_value::<SidecarView>(v.clone()).ok());
            (capitalize(&body.error), theirs)
        }
        other => (capitalize(&other.to_string()), None),
    }
}
