//! "Copy link": the page's URL (with its tab and options) to the clipboard.

use leptos::prelude::*;

/// A button that copies the current page's address.
#[component]
pub fn CopyLink() -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if let Some(w) = web_sys::window() {
                let href = w.location().href().unwrap_or_default();
                let _ = w.navigator().clipboard().write_text(&href);
                set_copied.set(true);
                set_timeout(move || set_copied.set(false), std::time::Duration::from_secs(2));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        set_copied.set(true);
    };
    view! {
        <button type="button" class="button secondary" on:click=copy>
            {move || if copied.get() { "Link copied" } else { "Copy link" }}
        </button>
        <span class="sr-only" role="status">{move || if copied.get() { "The link to this view was copied." } else { "" }}</span>
    }
}
