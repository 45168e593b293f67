//! One module per page.

/// `impl LazyRoute for $route`, whose view is the `#[lazy]` function `$code` (in the browser a
/// WebAssembly chunk of its own) and whose preload is `$preload`, the function `#[lazy]` makes
/// to fetch that chunk; the router awaits it before it hydrates (or shows) the route.
///
/// Not `#[lazy_route]`: the name that macro gives the chunk differs between the server's build
/// and the browser's, so the server's HTML did not preload the chunks of the page it rendered.
macro_rules! lazy_route {
    ($route:ident, $code:ident, $preload:ident) => {
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn preload() {
                #[cfg(feature = "hydrate")]
                $preload().await;
            }

            async fn view(_this: Self) -> leptos::prelude::AnyView {
                $code().await
            }
        }
    };
}

pub mod editor;
pub mod not_found;
pub mod pipeline;
pub mod pipelines;
pub mod playground;
pub mod sidecar;
