//! Light and dark: the system's choice unless the person picked one, kept in the browser.

use leptos::prelude::*;

/// Sets the stored theme on the page before it is painted (no flash of the other theme).
pub const EARLY_SCRIPT: &str = "try{var t=localStorage.getItem('theme');if(t==='dark'||t==='light')document.documentElement.dataset.theme=t}catch(e){}";

/// Whether the page is dark now: the stored choice, else the system's.
#[cfg(feature = "hydrate")]
pub fn is_dark() -> bool {
    let stored = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"));
    let system_dark = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    stored.as_deref().map_or(system_dark, |t| t == "dark")
}

/// The toggle: a pressed "Dark theme" button means dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let (dark, set_dark) = signal(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| set_dark.set(is_dark()));
    let toggle = move |_| {
        let next = !dark.get_untracked();
        set_dark.set(next);
        #[cfg(feature = "hydrate")]
        {
            let theme = if next { "dark" } else { "light" };
            if let Some(e) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
                let _ = e.set_attribute("data-theme", theme);
            }
            if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let _ = s.set_item("theme", theme);
            }
        }
    };
    view! {
        <button type="button" class="theme" aria-pressed=move || if dark.get() { "true" } else { "false" } on:click=toggle>
            <span aria-hidden="true">"◐ "</span>
            "Dark theme"
        </button>
    }
}
