//! The Sidecar Console web UI. Compiled twice: with `ssr` into the server, which renders every
//! page (each view is a URL that shows its content before, and without, JavaScript), and with
//! `hydrate` into the browser's WebAssembly, which makes the pages interactive and live.

// The pages' view types nest deeply (one type per branch, instead of boxed views).
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod pages;

use components::hydrate::Synchronous;
use components::stopped::STOPPED_SCRIPT;
use components::theme::{ThemeToggle, EARLY_SCRIPT};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, Lazy, SsrMode};

/// The name the site's script, WebAssembly and stylesheet are published under (`/pkg/NAME.*`).
pub const OUTPUT_NAME: &str = "sidecar-console";

/// The Content-Security-Policy of the console's pages: scripts of our own origin and the inline
/// ones carrying this response's `nonce` (Leptos' hydration and resource scripts), WebAssembly,
/// the Monaco workers from our origin, and nothing from anywhere else. Styles allow inline
/// `<style>` because Monaco writes its own at run time.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; worker-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The HTML document around the app, rendered by the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    #[cfg(feature = "ssr")]
    if let (Some(n), Some(response)) = (&nonce, use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(v) = http::HeaderValue::from_str(&content_security_policy(n)) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <script nonce=nonce.clone()>{EARLY_SCRIPT}</script>
                <script nonce=nonce>{STOPPED_SCRIPT}</script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: its page frame and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::code::provide_preloads();
    let api::Frame { cluster, user } = api::frame_facts();
    // The frame waits for no code while it is hydrated, only the routes do: hydrated
    // synchronously, it needs no async state machine of its own (see `Synchronous`).
    let meta = Synchronous(view! {
        <Stylesheet id="leptos" href="/pkg/sidecar-console.css"/>
        <Title formatter=|t: String| if t.is_empty() { "Sidecar Console".to_owned() } else { format!("{t} — Sidecar Console") }/>
    });
    view! {
        {meta}
        <Router>
            {Synchronous(view! {
                // `target="_self"` leaves the link to the browser: the router would only scroll to
                // `#main`, while the browser's own jump also moves the keyboard focus there.
                <a class="skip" href="#main" target="_self">"Skip to content"</a>
                <header class="topbar">
                    <A href="/pipelines" attr:class="brand">"Sidecar Console"</A>
                    <nav aria-label="Main">
                        <A href="/pipelines">"Pipelines"</A>
                        <A href="/validate">"Check a spec"</A>
                    </nav>
                    <span class="cluster" title="The Kubernetes cluster this console manages">{cluster}</span>
                    {user.map(|user| view! {
                        <span class="user" title="Signed in as this Kubernetes user">{user}</span>
                        // A plain form: signing out works before the page is interactive.
                        <form class="sign-out" method="post" action="/logout">
                            <button type="submit" class="quiet">"Sign out"</button>
                        </form>
                    })}
                    <ThemeToggle/>
                </header>
            })}
            <main id="main" tabindex="-1">
                <Routes fallback=pages::not_found::NotFound>
                    // Each page's code is loaded when it is first shown (see `LazyRoute`).
                    <Route path=path!("/validate") view={Lazy::<pages::playground::PlaygroundRoute>::new()}/>
                    <Route path=path!("/pipelines") view={Lazy::<pages::pipelines::PipelinesRoute>::new()} ssr=SsrMode::Async/>
                    <Route
                        path=path!("/pipelines/:namespace/:name")
                        view={Lazy::<pages::pipeline::PipelineRoute>::new()}
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=path!("/pipelines/:namespace/:name/sidecars/:id")
                        view={Lazy::<pages::sidecar::SidecarRoute>::new()}
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
