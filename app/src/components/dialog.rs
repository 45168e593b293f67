//! The delete confirmation: a modal `dialog` (WAI-ARIA dialog pattern) that names the sidecar and
//! the pipeline, holds the focus while open (Tab cycles inside), closes on Escape, and gives the
//! focus back to what opened it.

use leptos::html;
use leptos::prelude::*;

/// What a delete would remove.
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteTarget {
    /// The sidecar's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `namespace/name` of its pipeline.
    pub pipeline: String,
    /// Replicas it runs in.
    pub replicas: usize,
    /// The ETag the page showed (the delete fails if the sidecar changed since).
    pub etag: String,
}

/// The dialog, open while `target` is set; `on_delete` is called with it on "Delete".
#[component]
pub fn DeleteDialog(
    target: RwSignal<Option<DeleteTarget>>,
    on_delete: Callback<DeleteTarget>,
    /// Set while the delete is on its way, with the failure's sentence after a failure.
    busy: ReadSignal<bool>,
    error: ReadSignal<Option<String>>,
) -> impl IntoView {
    let cancel_ref = NodeRef::<html::Button>::new();
    let delete_ref = NodeRef::<html::Button>::new();
    #[cfg(feature = "hydrate")]
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    Effect::new(move |_| {
        let open = target.with(Option::is_some);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if open {
                let active = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                opener.set_value(active);
                if let Some(b) = cancel_ref.get() {
                    let _ = b.focus();
                }
            } else if let Some(el) = opener.get_value() {
                let _ = el.focus();
                opener.set_value(None);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = open;
    });
    let close = move || {
        if !busy.get_untracked() {
            target.set(None);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => {
            // Two buttons: Tab and Shift+Tab move between them and never leave the dialog.
            ev.prevent_default();
            let on_cancel = cancel_ref.get().is_some_and(|b| {
                #[cfg(feature = "hydrate")]
                {
                    let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
                    active.is_some_and(|a| {
                        let b: &web_sys::Element = &b;
                        a == *b
                    })
                }
                #[cfg(not(feature = "hydrate"))]
                {
                    let _ = b;
                    false
                }
            });
            let next = if on_cancel { delete_ref.get() } else { cancel_ref.get() };
            if let Some(n) = next {
                let _ = n.focus();
            }
        }
        _ => {}
    };
    // What `<Show>` does, without its erased children (every way of rendering them, in the code
    // of each page with a dialog).
    let open = Memo::new(move |_| target.with(Option::is_some));
    move || {
        open.get().then(|| {
            view! {
            <div class="backdrop" on:click=move |_| close()></div>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="delete-title"
                aria-describedby="delete-what"
                on:keydown=on_key
            >
                {move || {
                    target
                        .get()
                        .map(|t| {
                            let replicas = if t.replicas == 1 {
                                "its 1 replica".to_owned()
                            } else {
                                format!("all {} replicas", t.replicas)
                            };
                            view! {
                                <h2 id="delete-title">{format!("Delete sidecar {}?", t.name)}</h2>
                                <p id="delete-what">
                                    "Sidecar " <code>{t.name.clone()}</code> " is removed from pipeline "
                                    <code>{t.pipeline.clone()}</code> ", and so from " {replicas}
                                    ". The rollout replaces each replica without it."
                                </p>
                            }
                        })
                }}
                {move || error.get().map(|e| view! { <p class="alert" role="alert">{e}</p> })}
                <div class="actions">
                    <button type="button" class="button secondary" node_ref=cancel_ref on:click=move |_| close()>
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class="button danger"
                        node_ref=delete_ref
                        disabled=move || busy.get()
                        on:click=move |_| {
                            if let Some(t) = target.get_untracked() {
                                on_delete.run(t);
                            }
                        }
                    >
                        {move || if busy.get() { "Deleting…" } else { "Delete" }}
                    </button>
                </div>
            </div>
            }
        })
    }
}
