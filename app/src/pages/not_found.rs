//! Any address the console does not have.

use crate::components::load::set_not_found;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    set_not_found();
    let path = use_location().pathname;
    view! {
        <Title text="Not found"/>
        <section class="not-found">
            <h1>"Not found"</h1>
            <p role="alert">"There is no page at " <code>{move || path.get()}</code> "."</p>
            <p><a href="/pipelines">"See all pipelines"</a></p>
        </section>
    }
}
