//! The Sidecar Console web UI. Compiled twice: with `ssr` into the server, which renders every
//! page, and with `hydrate` into the browser's WebAssembly, which makes the pages interactive.

pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

/// The name the site's script, WebAssembly and stylesheet are published under (`/pkg/NAME.*`).
pub const OUTPUT_NAME: &str = "sidecar-console";

/// The HTML document around the app, rendered by the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: its routes and page frame.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/sidecar-console.css"/>
        <Title text="Sidecar Console"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Sidecar Console"</a>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=pages::playground::Playground/>
                </Routes>
            </main>
        </Router>
    }
}
