//! Tabs as the WAI-ARIA tabs pattern: a `tablist` of `tab`s (arrow keys, Home and End move
//! between them; only the selected one is in the tab order) and one `tabpanel`. Each tab is a
//! link to its own URL (`?tab=`), so it opens without JavaScript and can be shared; with
//! JavaScript a tab replaces the history entry, so Back leaves the page rather than the tab.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

/// One tab: its `?tab=` value and its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tab {
    /// The value in the URL.
    pub key: &'static str,
    /// The label people see (and its accessible name).
    pub label: &'static str,
}

/// The tab list. `href(key)` is the URL of a tab; `selected` the selected tab's key.
#[component]
pub fn TabList(
    /// Names the tab list for screen readers.
    label: String,
    tabs: Vec<Tab>,
    #[prop(into)] selected: Signal<&'static str>,
    href: impl Fn(&str) -> String + Clone + Send + Sync + 'static,
    /// The id prefix of the panel and tabs.
    id: &'static str,
) -> impl IntoView {
    let navigate = use_navigate();
    let keys: Vec<&'static str> = tabs.iter().map(|t| t.key).collect();
    let go = {
        let href = href.clone();
        move |key: &str| {
            navigate(&href(key), NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() });
        }
    };
    let on_key = {
        let go = go.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let current = keys.iter().position(|k| *k == selected.get_untracked()).unwrap_or(0);
            let next = match ev.key().as_str() {
                "ArrowRight" => (current + 1) % keys.len(),
                "ArrowLeft" => (current + keys.len() - 1) % keys.len(),
                "Home" => 0,
                "End" => keys.len() - 1,
                _ => return,
            };
            ev.prevent_default();
            go(keys[next]);
            focus_tab(id, keys[next]);
        }
    };
    let items = tabs
        .into_iter()
        .map(|t| {
            let go = go.clone();
            let is = move || selected.get() == t.key;
            view! {
                <a
                    role="tab"
                    id=format!("{id}-tab-{}", t.key)
                    href=href(t.key)
                    aria-selected=move || if is() { "true" } else { "false" }
                    aria-controls=format!("{id}-panel")
                    tabindex=move || if is() { "0" } else { "-1" }
                    class="tab"
                    on:click=move |ev| {
                        ev.prevent_default();
                        go(t.key);
                    }
                >
                    {t.label}
                </a>
            }
        })
        .collect_view();
    view! {
        <div role="tablist" aria-label=label class="tabs" on:keydown=on_key>
            {items}
        </div>
    }
}

/// The panel of the selected tab (its content typed, not erased, as in `PipelineCrumbs`).
#[component]
pub fn TabPanel<C: IntoView + 'static>(
    #[prop(into)] selected: Signal<&'static str>,
    id: &'static str,
    children: TypedChildren<C>,
) -> impl IntoView {
    let children = children.into_inner();
    view! {
        <div
            role="tabpanel"
            id=format!("{id}-panel")
            aria-labelledby=move || format!("{id}-tab-{}", selected.get())
            class="tabpanel"
            tabindex="0"
        >
            {children()}
        </div>
    }
}

fn focus_tab(id: &str, key: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&format!("{id}-tab-{key}")))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = el {
            let _ = el.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, key);
}
