//! `/pipelines`: every pipeline, filtered by namespace and a search text, a page at a time; the
//! filters live in the URL (`?namespace=logging&q=app&page=2`).

use crate::api::{list_namespaces, list_pipelines};
use crate::components::badge::HealthBadge;
use crate::components::hydrate::Synchronous;
use crate::components::live::follow;
use crate::components::load::{Failure, Loading};
use crate::components::logs::encode;
use crate::components::time::Age;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::query_signal_with_options;
use leptos_router::NavigateOptions;
use sidecar_api::PipelinePage;

fn replace() -> NavigateOptions {
    NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() }
}

/// The URL of a listing page.
fn page_href(namespace: &Option<String>, q: &Option<String>, page: usize) -> String {
    let mut parts = Vec::new();
    if let Some(ns) = namespace.as_deref().filter(|n| !n.is_empty()) {
        parts.push(format!("namespace={}", encode(ns)));
    }
    if let Some(q) = q.as_deref().filter(|n| !n.is_empty()) {
        parts.push(format!("q={}", encode(q)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/pipelines".into()
    } else {
        format!("/pipelines?{}", parts.join("&"))
    }
}

/// The `/pipelines` route. In the browser its view is a WebAssembly chunk of its own,
/// fetched with the page that shows it (and preloaded by the server's HTML for the page it
/// renders).
pub struct PipelinesRoute;

lazy_route!(PipelinesRoute, pipelines_code, __preload_pipelines_code);

/// The page's code: in the browser a WebAssembly chunk of its own.
#[lazy]
fn pipelines_code() -> AnyView {
    crate::components::code::preload("pipelines_code", &[]);
    view! { <Pipelines/> }.into_any()
}

/// The page.
#[component]
pub fn Pipelines() -> impl IntoView {
    let (namespace, set_namespace) = query_signal_with_options::<String>("namespace", replace());
    let (q, set_q) = query_signal_with_options::<String>("q", replace());
    let (page, set_page) = query_signal_with_options::<usize>("page", replace());
    let data = Resource::new(
        move || (namespace.get(), q.get(), page.get().unwrap_or(1)),
        |(namespace, q, page)| list_pipelines(namespace, q, page),
    );
    let namespaces = Resource::new(|| (), |_| list_namespaces());
    let table = move || {
        Suspend::new(async move {
            match data.await {
                Ok(p) => Either::Left(Synchronous(
                    view! { <LiveTable initial=p namespace=namespace.get_untracked() q=q.get_untracked()/> },
                )),
                Err(e) => Either::Right(view! { <Failure error=e what="the pipelines"/> }),
            }
        })
    };
    view! {
        <Title text="Pipelines"/>
        <section class="page">
            <nav class="crumbs" aria-label="Breadcrumb"><span aria-current="page">"Pipelines"</span></nav>
            <h1>"Pipelines"</h1>
            <form class="filters" method="get" action="/pipelines" role="search" on:submit=|ev| ev.prevent_default()>
                <label>
                    "Namespace "
                    <select
                        name="namespace"
                        on:change:target=move |ev| {
                            let v = ev.target().value();
                            set_page.set(None);
                            set_namespace.set(if v.is_empty() { None } else { Some(v) });
                        }
                    >
                        <option value="" selected=move || namespace.get().is_none()>"All namespaces"</option>
                        <Suspense>{move || Suspend::new(async move {
                            let mut all = namespaces.await.unwrap_or_default();
                            if let Some(ns) = namespace.get_untracked().filter(|n| !all.contains(n)) {
                                all.push(ns);
                            }
                            all.into_iter()
                                .map(|ns| {
                                    let value = ns.clone();
                                    let selected = move || namespace.get().as_deref() == Some(value.as_str());
                                    view! { <option value=ns.clone() selected=selected>{ns.clone()}</option> }
                                })
                                .collect_view()
                        })}</Suspense>
                    </select>
                </label>
                <label>
                    "Search "
                    <input
                        type="search"
                        name="q"
                        placeholder="name"
                        prop:value=move || q.get().unwrap_or_default()
                        on:input:target=move |ev| {
                            let v = ev.target().value();
                            set_page.set(None);
                            set_q.set(if v.is_empty() { None } else { Some(v) });
                        }
                    />
                </label>
                <noscript><button type="submit" class="button secondary">"Filter"</button></noscript>
            </form>
            <Transition fallback=|| view! { <Loading what="pipelines"/> }>{table}</Transition>
        </section>
    }
}

/// The table, kept up to date by the listing's live stream (pipelines added, deleted, their
/// replicas and health changing).
#[component]
fn LiveTable(initial: PipelinePage, namespace: Option<String>, q: Option<String>) -> impl IntoView {
    let page = initial.page;
    let state = RwSignal::new(initial);
    let url = {
        let mut url = format!("/api/v1/pipelines/watch?page={page}");
        if let Some(ns) = namespace.as_deref() {
            url.push_str(&format!("&namespace={}", encode(ns)));
        }
        if let Some(q) = q.as_deref() {
            url.push_str(&format!("&q={}", encode(q)));
        }
        url
    };
    let _live = follow::<PipelinePage>(move || url.clone(), move |p| state.set(p), |_| {});
    move || view! { <PipelineTable page=state.get() namespace=namespace.clone() q=q.clone()/> }
}

#[component]
fn PipelineTable(page: PipelinePage, namespace: Option<String>, q: Option<String>) -> impl IntoView {
    if page.items.is_empty() {
        let filtered = namespace.is_some() || q.is_some();
        return Either::Left(view! {
            <div class="empty-state">
                {if filtered {
                    Either::Left(view! { <p>"No pipeline matches these filters. " <a href="/pipelines">"Show all pipelines"</a></p> })
                } else {
                    Either::Right(view! {
                        <p>"There are no pipelines in this cluster yet."</p>
                        <p>"Pipelines are created with Calyptia Core or " <code>"kubectl apply"</code> "; their sidecars are then managed here."</p>
                    })
                }}
            </div>
        });
    }
    let rows = page
        .items
        .iter()
        .map(|p| {
            let href = format!("/pipelines/{}/{}", p.namespace, p.name);
            let sidecars = if p.sidecars.is_empty() { "—".to_owned() } else { p.sidecars.len().to_string() };
            view! {
                <tr>
                    <td class="mono" data-label="Namespace">{p.namespace.clone()}</td>
                    <td class="mono" data-label="Name"><a href=href>{p.name.clone()}</a></td>
                    <td data-label="Kind">{p.kind.clone()}</td>
                    <td data-label="Ready">{format!("{}/{}", p.ready_replicas, p.replicas)}</td>
                    <td data-label="Phase">{p.phase.clone().unwrap_or_else(|| "—".into())}</td>
                    <td data-label="Sidecars">{sidecars}</td>
                    <td data-label="Health"><HealthBadge health=p.health/></td>
                    <td data-label="Age">{p.created_at.clone().map(|t| view! { <Age at=t/> })}</td>
                </tr>
            }
        })
        .collect_view();
    let (first, last) = ((page.page - 1) * page.per_page + 1, ((page.page - 1) * page.per_page + page.items.len()));
    let prev = (page.page > 1).then(|| page_href(&namespace, &q, page.page - 1));
    let next = (page.page < page.pages).then(|| page_href(&namespace, &q, page.page + 1));
    Either::Right(view! {
        <table class="list">
            <caption class="sr-only">"Pipelines"</caption>
            <thead>
                <tr>
                    <th scope="col">"Namespace"</th>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Ready"</th>
                    <th scope="col">"Phase"</th>
                    <th scope="col">"Sidecars"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Age"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            <span>{format!("{first}–{last} of {}", page.total)}</span>
            {prev.map(|h| view! { <a href=h rel="prev">"Previous page"</a> })}
            {next.map(|h| view! { <a href=h rel="next">"Next page"</a> })}
        </nav>
    })
}
