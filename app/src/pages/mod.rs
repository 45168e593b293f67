//! One module per page.

/// `impl LazyRoute for $route`, whose view is the `#[lazy]` function `$code` (in the browser a
/// WebAssembly chunk of its own) and whose preload is `$preload`, the function `#[lazy]` makes
/// to fetch that chunk; the router awaits it before it hydrates (or shows) the route.
///
/// Not `#[lazy_route]`: the name that macro gives the chunk differs between the server's build
/// and the browser's, so the server's HTML did not preload the chunks of the page it rendered.
macro_rules! lazy_route {
    ($route:ident, $code:ident, $preload:ident) => {
        lazy_route!($route, $code, $preload, {});
    };
    // With the `#[lazy]` tabs of the page, by their `?tab=` key: the one the page opens on is
    // fetched before the route hydrates too (Leptos hydrates a part whose code is still being
    // fetched as empty, which the server's HTML is not).
    ($route:ident, $code:ident, $preload:ident, { $($tab:literal => $tab_preload:ident),* $(,)? }) => {
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                {
                    $preload().await;
                    match crate::pages::shown_tab().as_str() {
                        $($tab => $tab_preload().await,)*
                        _ => {}
                    }
                }
            }

            async fn view(_this: Self) -> leptos::prelude::AnyView {
                $code().await
            }
        }
    };
}

/// The `?tab=` of the page the browser shows (empty when there is none). A route's preload
/// reads it from the window: it runs before the route's own signals exist.
#[cfg(feature = "hydrate")]
pub(crate) fn shown_tab() -> String {
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    search.trim_start_matches('?').split('&').find_map(|kv| kv.strip_prefix("tab=")).unwrap_or_default().to_owned()
}

pub mod editor;
pub mod not_found;
pub mod pipeline;
pub mod pipelines;
pub mod playground;
pub mod sidecar;
