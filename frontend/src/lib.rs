//! The WebAssembly entry point: the server's page loads this module and calls [`hydrate`].

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// Makes the server-rendered page interactive.
#[wasm_bindgen]
pub fn hydrate() {
    // Panics abort at once in the release build (no message, no hook); the page's own script
    // tells the user (app::components::stopped). Builds with debug assertions print the message.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Asynchronous: a lazy route's code (a chunk of its own) is fetched before its part of the
    // page is hydrated (Leptos' `hydrate_lazy`, which also says nothing when it is done).
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
        let owner = leptos::mount::hydrate_from_async(body, app::App).await;
        owner.forget();
        // Lets browser tests (and anyone curious) know the page is interactive now.
        let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("__sidecarHydrated"), &JsValue::TRUE);
    });
}
