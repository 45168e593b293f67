//! Preload links for the WebAssembly a part of a page needs, written by the server.
//!
//! Leptos records the `#[lazy]` functions a page renders and links their chunks after the page,
//! but on pages that wait for data the links were there only some of the time. A part calls
//! [`preload`] from its `#[lazy]` function instead: the links are written while the page is
//! rendered, from the split manifest (`__wasm_split_manifest.json`), every time.

/// Links the chunks of the `#[lazy]` function `name` (`<link rel="preload">` in the page's
/// head), and the loader that fetches them, unless the page links them already. Nothing in the
/// browser, or without a split build.
pub fn preload(name: &'static str) {
    #[cfg(feature = "ssr")]
    server::preload(name);
    #[cfg(not(feature = "ssr"))]
    let _ = name;
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use leptos_meta::Link;
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    /// The files this response links already.
    #[derive(Clone, Default)]
    struct Linked(Arc<Mutex<HashSet<String>>>);

    /// Provided once per response, at the root, so that the parts of one page share it.
    pub fn provide() {
        provide_context(Linked::default());
    }

    pub fn preload(name: &'static str) {
        let (Some(manifest), Some(linked)) = (use_context::<leptos::WasmSplitManifest>(), use_context::<Linked>())
        else {
            return;
        };
        // The manifest names each function with a hash: `NAME_DIGITS`.
        let Some((pkg, modules, loader)) = manifest.0.try_with_value(|(pkg, map, loader)| {
            let modules = map
                .iter()
                .filter(|(key, _)| {
                    key.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('_'))
                        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                })
                .flat_map(|(_, modules)| modules.iter().map(|m| format!("{m}.wasm")))
                .collect::<Vec<_>>();
            (pkg.clone(), modules, loader.clone())
        }) else {
            return;
        };
        if modules.is_empty() {
            return;
        }
        // Leptos' own links for this function would repeat these.
        if let Some(mut prefetched) = use_context::<leptos::PrefetchLazyFn>().and_then(|p| p.0.try_write_value()) {
            prefetched.retain(|id| !(id.starts_with(name) && id[name.len()..].starts_with('_')));
        }
        let nonce = leptos::nonce::use_nonce().map(|n| n.to_string()).unwrap_or_default();
        let mut seen = linked.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for module in modules {
            if seen.insert(module.clone()) {
                // Rendering a leptos_meta tag registers it for the page's head.
                let _ = view! {
                    <Link rel="preload" href=format!("{pkg}/{module}") as_="fetch" type_="application/wasm" crossorigin=nonce.clone()/>
                }
                .to_html();
            }
        }
        if seen.insert(loader.clone()) {
            let _ = view! { <Link rel="modulepreload" href=format!("{pkg}/{loader}") crossorigin=nonce/> }.to_html();
        }
    }
}

/// Makes [`preload`] work for this response (call it once, at the root of the app).
pub fn provide_preloads() {
    #[cfg(feature = "ssr")]
    server::provide();
}
