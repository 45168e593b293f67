//! The WebAssembly entry point: the server's page loads this module and calls [`hydrate`].

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

/// Makes the server-rendered page interactive.
#[wasm_bindgen]
pub fn hydrate() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        say_stopped();
    }));
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

/// After a panic the page's code cannot go on; the most common cause is a page left open across
/// an upgrade of the console, whose code (the chunks of its build) is gone. Says so at the top of
/// the page, once, with a link that loads the page anew (what is shown stays readable).
fn say_stopped() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    if doc.get_element_by_id("stopped").is_some() {
        return;
    }
    let (Ok(alert), Ok(reload)) = (doc.create_element("p"), doc.create_element("a")) else { return };
    alert.set_id("stopped");
    alert.set_class_name("alert stopped");
    let _ = alert.set_attribute("role", "alert");
    alert.set_text_content(Some(
        "This page stopped working: its code could not be loaded or failed (the console may have been updated since the page was opened). ",
    ));
    // `rel="external"`: the router, itself stopped, must leave the link to the browser.
    let _ = reload.set_attribute("href", "");
    let _ = reload.set_attribute("rel", "external");
    reload.set_text_content(Some("Reload the page"));
    let _ = alert.append_child(&reload);
    let place = doc.get_element_by_id("main").or_else(|| doc.body().map(Into::into));
    if let Some(place) = place {
        let _ = place.prepend_with_node_1(&alert);
    }
}
