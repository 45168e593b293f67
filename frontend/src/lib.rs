//! The WebAssembly entry point: the server's page loads this module and calls [`hydrate`].

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// Makes the server-rendered page interactive.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets browser tests (and anyone curious) know the page is interactive now.
    let _ = js_sys::Reflect::set(&js_sys::global(), &JsValue::from_str("__sidecarHydrated"), &JsValue::TRUE);
}
