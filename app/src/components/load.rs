//! One way every page waits for its data and shows a failure: loading text where the data goes,
//! the failure's sentence in an alert, a page that says which thing was not found.

use crate::error::ConsoleError;
use leptos::either::Either;
use leptos::prelude::*;

/// The error view of a failed call: `what` names what could not be loaded.
#[component]
pub fn Failure(error: ConsoleError, #[prop(into)] what: String) -> impl IntoView {
    if let ConsoleError::NotFound(sentence) = &error {
        set_not_found();
        return Either::Left(view! {
            <section class="not-found">
                <h1>"Not found"</h1>
                <p role="alert">{capitalize(sentence)}"."</p>
                <p><a href="/pipelines">"See all pipelines"</a></p>
            </section>
        });
    }
    // What may pass (Kubernetes out of reach or slow, the network) is worth another try;
    // a refusal is not.
    let passing = match &error {
        ConsoleError::Failed { status, .. } => matches!(status, 502..=504),
        ConsoleError::Transport(_) => true,
        ConsoleError::NotFound(_) => false,
    };
    Either::Right(view! {
        <div class="alert" role="alert">
            <strong>{format!("Could not load {what}.")}</strong>
            " "
            {capitalize(&error.to_string())}
            // The same address again, query and all: works before the page is interactive too.
            // `rel="external"`: the router leaves it to the browser, which loads the page anew.
            {passing.then(|| view! { " " <a class="retry" href="" rel="external">"Try again"</a> })}
        </div>
    })
}

/// Sets the response's status to 404 when rendering on the server.
pub fn set_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// The sentence with a capital first letter.
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The loading state of a section.
#[component]
pub fn Loading(#[prop(into)] what: String) -> impl IntoView {
    view! { <p class="loading" role="status">{format!("Loading {what}…")}</p> }
}

/// A part of a page whose code is fetched when it is first shown: `view` is the future of a
/// `#[lazy]` function (in the browser a WebAssembly chunk of its own; on the server it is ready
/// at once, so the HTML holds the part). `what` names it in the loading text.
///
/// A page that can open on the part must fetch its chunk in its route's preload (see
/// `lazy_route!`): Leptos hydrates a part whose code is still on its way as empty, which the
/// server's HTML is not, and the page then stops.
pub fn later(what: &'static str, view: impl std::future::Future<Output = AnyView> + Send + 'static) -> impl IntoView {
    view! { <Suspense fallback=move || view! { <Loading what=what/> }>{Suspend::new(view)}</Suspense> }
}
