//! The JSON view: Monaco with the sidecar JSON Schema (completion, hovers) and the validator's
//! findings as markers on the exact text of each field. The page renders a plain text area
//! first (it works before, and without, the editor bundle); Monaco replaces it once loaded.

use super::Draft;
use leptos::prelude::*;

/// The JSON view of `draft`; `jump` asks it to put the cursor at a line and column.
#[component]
pub fn JsonView(draft: Draft, jump: RwSignal<Option<(usize, usize)>>) -> impl IntoView {
    let (state, set_state) = signal(Editor::Plain);
    let host = NodeRef::<leptos::html::Div>::new();
    let area = NodeRef::<leptos::html::Textarea>::new();
    #[cfg(feature = "hydrate")]
    browser::mount(draft, jump, host, set_state);
    #[cfg(not(feature = "hydrate"))]
    let _ = (jump, set_state);
    // The text area follows jumps too, while it is what is shown.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let Some((line, column)) = jump.get() else { return };
        if state.get_untracked() == Editor::Monaco {
            return;
        }
        if let Some(el) = area.get() {
            let text = draft.text.get_untracked();
            let offset: usize =
                text.split('\n').take(line.saturating_sub(1)).map(|l| l.encode_utf16().count() + 1).sum::<usize>()
                    + column.saturating_sub(1);
            let _ = el.focus();
            let _ = el.set_selection_range(offset as u32, offset as u32);
        }
    });
    view! {
        <div class="json-view">
            <p class="hint">"The spec as JSON, checked as you type. Completion (Ctrl+Space) and hovers come from the sidecar schema; Tab moves focus out after Ctrl+M."</p>
            <textarea
                class="spec-input"
                node_ref=area
                aria-label="Sidecar spec (JSON)"
                spellcheck="false"
                hidden=move || state.get() == Editor::Monaco
                prop:value=move || draft.text.get()
                on:input:target=move |ev| draft.text.set(ev.target().value())
            >{draft.text.get_untracked()}</textarea>
            <div class="monaco-host" node_ref=host hidden=move || state.get() != Editor::Monaco></div>
            {move || (state.get() == Editor::Failed).then(|| view! {
                <p class="notice" role="status">"The code editor could not be loaded; you are editing the JSON as plain text. Everything else works the same."</p>
            })}
        </div>
    }
}

/// Which editor is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Editor {
    /// The plain text area (before Monaco loads).
    Plain,
    /// Monaco.
    Monaco,
    /// The text area, because Monaco could not be loaded.
    Failed,
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{Draft, Editor};
    use leptos::prelude::*;
    use monaco_sys::{Marker, Severity};
    use send_wrapper::SendWrapper;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Loads Monaco, creates the editor in `host` and keeps draft, markers and editor in step.
    pub fn mount(
        draft: Draft,
        jump: RwSignal<Option<(usize, usize)>>,
        host: NodeRef<leptos::html::Div>,
        set_state: WriteSignal<Editor>,
    ) {
        let slot: Rc<RefCell<Option<monaco_sys::Editor>>> = Rc::new(RefCell::new(None));
        let held = SendWrapper::new(slot.clone());
        // The editor lives as long as this view.
        on_cleanup(move || {
            held.borrow_mut().take();
        });
        let ready = RwSignal::new(false);
        let slot_for_load = SendWrapper::new(slot.clone());
        Effect::new(move |once: Option<()>| {
            if once.is_some() {
                return;
            }
            let Some(el) = host.get() else { return };
            let slot = slot_for_load.clone();
            leptos::task::spawn_local(async move {
                let module = match monaco_sys::load().await {
                    Ok(m) => m,
                    Err(e) => {
                        leptos::logging::warn!("Monaco did not load: {e:?}");
                        set_state.set(Editor::Failed);
                        return;
                    }
                };
                monaco_sys::use_json_schema_at(&module, "/api/v1/schema/sidecar.json");
                monaco_sys::set_dark(&module, crate::components::theme::is_dark());
                set_state.set(Editor::Monaco);
                let mut editor =
                    monaco_sys::Editor::create(&module, &el, &draft.text.get_untracked(), "Sidecar spec (JSON)");
                editor.on_change(move |text| {
                    EDIT_AT.with(|t| t.set(now()));
                    if draft.text.get_untracked() != text {
                        draft.text.set(text);
                    }
                });
                *slot.borrow_mut() = Some(editor);
                ready.set(true);
            });
        });
        // Text set elsewhere (a preset, "Discard") reaches the editor; markers follow every check.
        let slot_text = SendWrapper::new(slot.clone());
        Effect::new(move |_| {
            let text = draft.text.get();
            if !ready.get() {
                return;
            }
            if let Some(e) = slot_text.borrow().as_ref() {
                e.set_value(&text);
            }
        });
        let slot_markers = SendWrapper::new(slot.clone());
        Effect::new(move |_| {
            let problems = draft.checked.with(|c| c.problems.clone());
            if !ready.get() {
                return;
            }
            let markers: Vec<Marker> = problems
                .into_iter()
                .map(|p| Marker {
                    start_line: p.start.0,
                    start_column: p.start.1,
                    end_line: p.end.0,
                    end_column: p.end.1.max(p.start.1 + usize::from(p.end.0 == p.start.0)),
                    message: if p.path.is_empty() { p.message } else { format!("{}: {}", p.path, p.message) },
                    source: "sidecar spec".into(),
                    severity: Severity::Error,
                })
                .collect();
            if let Some(e) = slot_markers.borrow().as_ref() {
                e.set_markers("sidecar-spec", &markers);
            }
            // For the benchmark: from the editor's change to its markers set (check, placing,
            // marker update), and how many there are.
            let edited = EDIT_AT.with(|t| t.get());
            let global = js_sys::global();
            let _ = js_sys::Reflect::set(&global, &"__sidecarMarkers".into(), &(markers.len() as f64).into());
            if edited > 0.0 {
                let _ = js_sys::Reflect::set(&global, &"__sidecarMarkersMs".into(), &(now() - edited).into());
            }
        });
        let slot_jump = SendWrapper::new(slot);
        Effect::new(move |_| {
            let Some((line, column)) = jump.get() else { return };
            if let Some(e) = slot_jump.borrow().as_ref() {
                e.reveal(line, column);
            }
        });
    }

    thread_local! {
        static EDIT_AT: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    }

    fn now() -> f64 {
        web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
    }
}
