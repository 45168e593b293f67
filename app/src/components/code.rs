//! Preload links for the WebAssembly a part of a page needs, written by the server.
//!
//! Leptos records the `#[lazy]` functions a page renders and links their chunks after the page,
//! but on pages that wait for data the links were there only some of the time. A part calls
//! [`preload`] from its `#[lazy]` function instead: the links are written while the page is
//! rendered, from the split manifest (`__wasm_split_manifest.json`), every time.
//!
//! A part's chunks are linked as one download, a bundle (`bundle?chunks=…`, served by the
//! server): compressed together they are about a sixth smaller than one by one. A page's part
//! names the `#[lazy]` tab the page opens on too, so that the page needs one bundle, not two.

/// Links the chunks of the `#[lazy]` function `name`, and of the one `tabs` names for the page's
/// `?tab=` (a `(tab, function)` pair; the tab `""` stands for any other), as one bundle
/// (`<link rel="preload">` in the page's head), and the loader that fetches them. Chunks the
/// page links already are left out. Nothing in the browser, or without a split build.
pub fn preload(name: &'static str, tabs: &[(&str, &'static str)]) {
    #[cfg(feature = "ssr")]
    server::preload(name, tabs);
    #[cfg(not(feature = "ssr"))]
    let _ = (name, tabs);
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use leptos_meta::Link;
    use std::collections::{BTreeSet, HashSet};
    use std::sync::{Arc, Mutex};

    /// The files this response links already.
    #[derive(Clone, Default)]
    struct Linked(Arc<Mutex<HashSet<String>>>);

    /// Provided once per response, at the root, so that the parts of one page share it.
    pub fn provide() {
        provide_context(Linked::default());
    }

    /// The chunks of `#[lazy]` function `name` (`NAME_DIGITS` in the manifest).
    fn chunks(map: &std::collections::HashMap<String, Vec<String>>, name: &str) -> Vec<String> {
        map.iter()
            .filter(|(key, _)| {
                key.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('_'))
                    .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            })
            .flat_map(|(_, modules)| modules.iter().cloned())
            .collect()
    }

    pub fn preload(name: &'static str, tabs: &[(&str, &'static str)]) {
        let (Some(manifest), Some(linked)) = (use_context::<leptos::WasmSplitManifest>(), use_context::<Linked>())
        else {
            return;
        };
        let tab = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("tab")).unwrap_or_default();
        // The tab asked for, else the page's default tab (`""`), as the page itself chooses.
        let shown = tabs.iter().find(|(t, _)| *t == tab).or_else(|| tabs.iter().find(|(t, _)| t.is_empty()));
        let names: Vec<&'static str> = std::iter::once(name).chain(shown.map(|(_, f)| *f)).collect();
        let Some((pkg, modules, loader)) = manifest.0.try_with_value(|(pkg, map, loader)| {
            let modules: BTreeSet<String> = names.iter().flat_map(|n| chunks(map, n)).collect();
            (pkg.clone(), modules, loader.clone())
        }) else {
            return;
        };
        if modules.is_empty() {
            return;
        }
        // Leptos' own links for these functions would repeat these.
        if let Some(mut prefetched) = use_context::<leptos::PrefetchLazyFn>().and_then(|p| p.0.try_write_value()) {
            prefetched.retain(|id| !names.iter().any(|n| id.starts_with(n) && id[n.len()..].starts_with('_')));
        }
        let mut seen = linked.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let new: Vec<String> = modules.into_iter().filter(|m| seen.insert(m.clone())).collect();
        let href = match new.as_slice() {
            [] => None,
            [one] => Some(format!("{pkg}/{one}.wasm")),
            many => Some(format!("{pkg}/bundle?chunks={}", many.join(","))),
        };
        if let Some(href) = href {
            // Rendering a leptos_meta tag registers it for the page's head. The loader fetches
            // with `fetch()`'s defaults, which a preload matches with `crossorigin`.
            let _ = view! { <Link rel="preload" href=href as_="fetch" crossorigin="anonymous"/> }.to_html();
        }
        if seen.insert(loader.clone()) {
            let _ = view! { <Link rel="modulepreload" href=format!("{pkg}/{loader}")/> }.to_html();
        }
    }
}

/// Makes [`preload`] work for this response (call it once, at the root of the app).
pub fn provide_preloads() {
    #[cfg(feature = "ssr")]
    server::provide();
}
