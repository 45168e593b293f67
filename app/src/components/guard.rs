//! Leaving a page with unsaved changes asks first: closing or reloading the tab (the browser's
//! own question) and following a link inside the console (a confirmation).

use leptos::prelude::*;

/// While `dirty` is true, asks before the page is left.
pub fn guard_unsaved(dirty: Signal<bool>, question: &'static str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;

        Effect::new(move |_| {
            if !dirty.get() {
                return;
            }
            let Some(window) = web_sys::window() else { return };
            let unload = Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(|ev: web_sys::BeforeUnloadEvent| {
                ev.prevent_default();
                // Older engines want a return value as well.
                ev.set_return_value("unsaved");
            });
            // Links are followed by the router on click; this listener runs first (capture).
            let click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
                let link = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|e| e.closest("a[href]").ok().flatten());
                let Some(link) = link else { return };
                // Tabs and links that keep the draft open are not leaving.
                if link.get_attribute("role").as_deref() == Some("tab") || link.has_attribute("data-keeps-draft") {
                    return;
                }
                if !confirm(question) {
                    ev.prevent_default();
                    ev.stop_immediate_propagation();
                }
            });
            let _ = window.add_event_listener_with_callback("beforeunload", unload.as_ref().unchecked_ref());
            let _ = window.add_event_listener_with_callback_and_bool("click", click.as_ref().unchecked_ref(), true);
            let held = send_wrapper::SendWrapper::new((window, unload, click));
            on_cleanup(move || {
                let (window, unload, click) = &*held;
                let _ = window.remove_event_listener_with_callback("beforeunload", unload.as_ref().unchecked_ref());
                let _ =
                    window.remove_event_listener_with_callback_and_bool("click", click.as_ref().unchecked_ref(), true);
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (dirty, question);
}

/// Asks the person a yes/no question (always yes on the server).
pub fn confirm(question: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(true)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = question;
        true
    }
}
