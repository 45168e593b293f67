//! The breadcrumb of a page below a pipeline: Pipelines › namespace › pipeline › what follows.

use leptos::prelude::*;

/// `children` are the crumbs after the pipeline (the last with `aria-current="page"`). Typed, not
/// erased: an erased view brings every way of rendering it into each page's code.
#[component]
pub fn PipelineCrumbs<C: IntoView + 'static>(
    namespace: String,
    pipeline: String,
    children: TypedChildren<C>,
) -> impl IntoView {
    let children = children.into_inner();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/pipelines">"Pipelines"</a><span aria-hidden="true">" › "</span>
            <a href=format!("/pipelines?namespace={namespace}")>{namespace.clone()}</a><span aria-hidden="true">" › "</span>
            <a href=format!("/pipelines/{namespace}/{pipeline}")>{pipeline.clone()}</a><span aria-hidden="true">" › "</span>
            {children()}
        </nav>
    }
}
