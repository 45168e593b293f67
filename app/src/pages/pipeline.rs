//! `/pipelines/{namespace}/{name}`: a pipeline's sidecars (default), its status, and its main
//! container's logs (`?tab=status`, `?tab=logs`), live.

use crate::api::{delete_sidecar, load_pipeline};
use crate::components::badge::{Badge, HealthBadge, ReplicaDots, SidecarBadge};
use crate::components::copy::CopyLink;
use crate::components::dialog::{DeleteDialog, DeleteTarget};
use crate::components::hydrate::Synchronous;
use crate::components::live::{follow, Live};
use crate::components::load::{capitalize, later, Failure, Loading};
use crate::components::logs::LogViewer;
use crate::components::rights::{Forbidden, WhyNot};
use crate::components::table::{Cell, DataTable, Row};
use crate::components::tabs::{Tab, TabList, TabPanel};
use crate::components::time::Age;
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use sidecar_api::{PipelineState, SidecarView, Tone};

const TABS: [Tab; 3] = [
    Tab { key: "sidecars", label: "Sidecars" },
    Tab { key: "status", label: "Status" },
    Tab { key: "logs", label: "Logs" },
];

/// The `/pipelines/{namespace}/{name}` route. In the browser its view is a WebAssembly chunk of its own,
/// fetched with the page that shows it (and preloaded by the server's HTML for the page it
/// renders).
pub struct PipelineRoute;

lazy_route!(PipelineRoute, pipeline_code, __preload_pipeline_code, { "status" => __preload_status_view, "logs" => __preload_logs_view });

/// The page's code: in the browser a WebAssembly chunk of its own.
#[lazy]
fn pipeline_code() -> AnyView {
    crate::components::code::preload("pipeline_code", &[("status", "status_view"), ("logs", "logs_view")]);
    view! { <PipelinePage/> }.into_any()
}

/// The page.
#[component]
pub fn PipelinePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || params.with(|p| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default()));
    let data = Resource::new(key, |(ns, name)| load_pipeline(ns, name));
    view! {
        <Transition fallback=|| view! { <Loading what="the pipeline"/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(state) => Either::Left(view! { <Pipeline initial=state/> }),
                    Err(e) => {
                        let (ns, name) = key();
                        Either::Right(view! { <Title text=format!("{name} · {ns}")/> <Failure error=e what=format!("pipeline {ns}/{name}")/> })
                    }
                }
            })}
        </Transition>
    }
}

/// The live frame: the live badge and "Copy link" beside the breadcrumb.
#[component]
pub fn LiveBadge(live: ReadSignal<Live>) -> impl IntoView {
    view! {
        <span class=move || format!("live {}", match live.get() { Live::Live => "on", Live::Ended => "off", _ => "wait" })
            role="status"
        >
            <span class="dot" aria-hidden="true"></span>
            {move || live.get().words()}
        </span>
    }
}

#[component]
fn Pipeline(initial: PipelineState) -> impl IntoView {
    let ns = initial.pipeline.namespace.clone();
    let name = initial.pipeline.name.clone();
    let state = RwSignal::new(initial);
    let (gone, set_gone) = signal(None::<String>);
    let live = follow::<PipelineState>(
        {
            let (ns, name) = (ns.clone(), name.clone());
            move || format!("/api/v1/pipelines/{ns}/{name}/watch")
        },
        move |s| state.set(s),
        move |e| set_gone.set(Some(e.error)),
    );
    let query = use_query_map();
    let tab = Memo::new(move |_| {
        let t = query.with(|q| q.get("tab")).unwrap_or_default();
        TABS.iter().find(|x| x.key == t).map(|x| x.key).unwrap_or("sidecars")
    });
    let base = format!("/pipelines/{ns}/{name}");
    let href = {
        let base = base.clone();
        move |k: &str| if k == "sidecars" { base.clone() } else { format!("{base}?tab={k}") }
    };

    // Delete: the dialog, the call, and what the page says afterwards.
    let target = RwSignal::new(None::<DeleteTarget>);
    let (notice, set_notice) = signal(None::<String>);
    let remove = Action::new(|t: &DeleteTarget| {
        let t = t.clone();
        async move { (delete_sidecar(t.id.clone(), Some(t.etag.clone())).await, t) }
    });
    let (delete_error, set_delete_error) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some((result, t)) = remove.value().get() {
            match result {
                Ok(_) => {
                    target.set(None);
                    set_delete_error.set(None);
                    set_notice.set(Some(format!(
                        "Sidecar {} was deleted from pipeline {}. The rollout removes it from every replica.",
                        t.name, t.pipeline
                    )));
                }
                Err(e) => set_delete_error.set(Some(capitalize(&e.to_string()))),
            }
        }
    });
    let busy = Signal::derive(move || remove.pending().get());
    let (busy_r, set_busy) = signal(false);
    Effect::new(move |_| set_busy.set(busy.get()));
    let on_delete = Callback::new(move |t: DeleteTarget| {
        set_delete_error.set(None);
        remove.dispatch(t);
    });

    // `with`, not `get`: a read clones nothing (on the server each closure runs twice per page).
    let header = move || {
        state.with(|s| {
            let p = &s.pipeline;
            view! {
                <div class="title-row">
                    <h1 class="mono">{p.name.clone()}</h1>
                    <p class="facts">
                        {p.kind.clone()} " · " {format!("{}/{} ready", p.ready_replicas, p.replicas)} " · "
                        {p.phase.clone().unwrap_or_else(|| "no phase yet".into())} " · "
                        <HealthBadge health=p.health/>
                    </p>
                </div>
            }
        })
    };
    let panel = {
        let (ns, name) = (ns.clone(), name.clone());
        move || match tab.get() {
            "status" => EitherOf3::A(later("the status", status_view(state))),
            "logs" => EitherOf3::B(later("the logs", logs_view(state, ns.clone(), name.clone()))),
            _ => EitherOf3::C(Synchronous(
                view! { <SidecarsTab state=state target=target namespace=ns.clone() name=name.clone()/> },
            )),
        }
    };
    view! {
        <Title text=format!("{name} · {ns}")/>
        <section class="page">
            <div class="crumb-row">
                <nav class="crumbs" aria-label="Breadcrumb">
                    <a href="/pipelines">"Pipelines"</a>
                    <span aria-hidden="true">" › "</span>
                    <a href=format!("/pipelines?namespace={ns}")>{ns.clone()}</a>
                    <span aria-hidden="true">" › "</span>
                    <span aria-current="page">{name.clone()}</span>
                </nav>
                <LiveBadge live/>
                <CopyLink/>
            </div>
            {header}
            {move || gone.get().map(|g| view! { <p class="alert" role="alert">{capitalize(&g)} ". It may have been deleted."</p> })}
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <TabList label=format!("Pipeline {name}") tabs=TABS.to_vec() selected=tab href=href id="pipeline"/>
            <TabPanel selected=tab id="pipeline">{panel}</TabPanel>
        </section>
        <DeleteDialog target on_delete busy=busy_r error=delete_error/>
    }
}

/// Dots for a sidecar's replicas from its summary: ready ones green, the others in the tone of
/// its state.
fn dots(s: &SidecarView) -> Vec<(String, Tone, String)> {
    let tone = sidecar_api::state_tone(&s.status);
    let words = sidecar_api::state_words(&s.status);
    (0..s.status.replicas)
        .map(|i| {
            if i < s.status.ready {
                (format!("replica {}", i + 1), Tone::Good, "ready".to_owned())
            } else {
                (format!("replica {}", i + 1), if tone == Tone::Good { Tone::Busy } else { tone }, words.clone())
            }
        })
        .collect()
}

#[component]
fn SidecarsTab(
    state: RwSignal<PipelineState>,
    target: RwSignal<Option<DeleteTarget>>,
    namespace: String,
    name: String,
) -> impl IntoView {
    let add = format!("/pipelines/{namespace}/{name}/sidecars/new");
    let rows = {
        let (namespace, name) = (namespace.clone(), name.clone());
        move || {
            state.with(|s| {
                let replicas = s.pipeline.replicas.max(0) as usize;
                let change = s.rights.change.clone();
                if s.sidecars.is_empty() {
                    return Either::Left(view! {
                        <div class="empty-state">
                            <p><strong>"This pipeline has no sidecars yet."</strong></p>
                            <p hidden=!change.allowed>
                                "Add the first one with " <a href=format!("/pipelines/{namespace}/{name}/sidecars/new")>"Add sidecar"</a>
                                ", or from the command line: "
                                <code>{format!("sidecarctl create sidecar --pipeline {namespace}/{name} --spec my-sidecar.json")}</code>
                            </p>
                        </div>
                    });
                }
                let body = s
                    .sidecars
                    .iter()
                    .map(|sc| {
                        let page = format!("/pipelines/{namespace}/{name}/sidecars/{}", sc.id);
                        let trouble = format!("{page}?tab=troubleshoot");
                        let failing = sidecar_api::state_tone(&sc.status) == Tone::Bad;
                        let ports = sc.ports();
                        let t = DeleteTarget {
                            id: sc.id.clone(),
                            name: sc.name.clone(),
                            pipeline: format!("{namespace}/{name}"),
                            replicas: replicas.max(sc.status.replicas),
                            etag: sc.etag.clone(),
                        };
                        let status = sc.status.clone();
                        view! {
                            <tr data-sidecar=sc.name.clone()>
                                <td class="mono" data-label="Name"><a href=page.clone()>{sc.name.clone()}</a></td>
                                <td class="mono image" data-label="Image" title=sc.image.clone()>{sc.image.clone()}</td>
                                <td class="mono" data-label="Ports">{if ports.is_empty() { "—".to_owned() } else { ports.join(", ") }}</td>
                                <td class="inline" data-label="Ready">
                                    {format!("{}/{}", sc.status.ready, sc.status.replicas)} " " <ReplicaDots replicas=dots(sc)/>
                                </td>
                                <td data-label="Status">
                                    {if !sc.problems.is_empty() {
                                        // Not rolled out until fixed: that, not a rollout, is its state.
                                        EitherOf3::A(view! {
                                            <a href=page.clone() class="status-link" title=sc.problems.join("; ")><Badge tone=Tone::Bad words="Invalid spec"/></a>
                                            <span class="invalid">{sc.problems[0].clone()}</span>
                                        })
                                    } else if failing {
                                        EitherOf3::B(view! { <a href=trouble class="status-link"><SidecarBadge summary=status/></a> })
                                    } else {
                                        EitherOf3::C(view! { <SidecarBadge summary=status/> })
                                    }}
                                </td>
                                <td data-label="Age"><Age at=sc.created_at.clone()/></td>
                                <td class="actions inline" data-label="Actions">
                                    {if change.allowed {
                                        Either::Left(view! {
                                            <a href=format!("{page}?tab=form") class="button secondary small" aria-label=format!("Edit {}", sc.name)>"Edit"</a>
                                            <button
                                                type="button"
                                                class="button danger small"
                                                aria-label=format!("Delete {}", sc.name)
                                                on:click=move |_| target.set(Some(t.clone()))
                                            >
                                                "Delete"
                                            </button>
                                        })
                                    } else {
                                        Either::Right(view! {
                                            <Forbidden right=change.clone() label=format!("Edit {}", sc.name) text="Edit" class="secondary small"/>
                                            <Forbidden right=change.clone() label=format!("Delete {}", sc.name) text="Delete" class="danger small"/>
                                        })
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view();
                Either::Right(view! {
                    <table class="list sidecars">
                        <caption class="sr-only">{format!("Sidecars of pipeline {namespace}/{name}")}</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Image"</th>
                                <th scope="col">"Ports"</th>
                                <th scope="col">"Ready"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Age"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr>
                        </thead>
                        <tbody>{body}</tbody>
                    </table>
                })
            })
        }
    };
    let rollout = move || {
        let r = state.with(|s| s.status.rollout.clone());
        // An invalid sidecar is not rolled out at all; its row says so.
        let invalid = state.with(|s| s.sidecars.iter().any(|sc| !sc.problems.is_empty()));
        (!r.complete && r.exists && !invalid).then(|| {
            view! {
                <p class="notice" role="status">
                    <Badge tone=Tone::Busy words="Rolling out"/>
                    {format!(" {} of {} replicas updated, {} ready", r.updated, r.desired, r.ready)}
                </p>
            }
        })
    };
    view! {
        <h2 class="sr-only">"Sidecars"</h2>
        {move || {
            let change = state.with(|s| s.rights.change.clone());
            if change.allowed {
                Either::Left(view! { <div class="toolbar"><a href=add.clone() class="button">"Add sidecar"</a></div> })
            } else {
                Either::Right(view! {
                    <div class="toolbar">
                        <Forbidden right=change.clone() label="Add sidecar".to_owned() text="Add sidecar"/>
                        <WhyNot right=change/>
                    </div>
                })
            }
        }}
        {rollout}
        {rows}
    }
}

/// The Status tab: its code is fetched when the tab is first shown, not with the sidecars.
#[lazy]
fn status_view(state: RwSignal<PipelineState>) -> AnyView {
    crate::components::code::preload("status_view", &[]);
    Synchronous(view! { <StatusTab state/> }).into_any()
}

/// The Logs tab: its code is fetched when the tab is first shown, not with the sidecars.
#[lazy]
fn logs_view(state: RwSignal<PipelineState>, namespace: String, name: String) -> AnyView {
    crate::components::code::preload("logs_view", &[]);
    Synchronous(view! { <LogsTab state namespace name/> }).into_any()
}

#[component]
fn LogsTab(state: RwSignal<PipelineState>, namespace: String, name: String) -> impl IntoView {
    let pods = Signal::derive(move || state.with(|s| s.status.replicas.iter().map(|r| r.name.clone()).collect()));
    // Only a change of the right redraws the tab (and restarts its stream), not every update.
    let logs = Memo::new(move |_| state.with(|s| s.rights.logs.clone()));
    let endpoint = format!("/api/v1/pipelines/{namespace}/{name}/logs");
    view! {
        <h2 class="sr-only">"Logs"</h2>
        {move || {
            let logs = logs.get();
            if logs.allowed {
                Either::Left(view! { <LogViewer endpoint=endpoint.clone() replicas=pods of=format!("pipeline {name}")/> })
            } else {
                Either::Right(view! { <WhyNot right=logs/> })
            }
        }}
    }
}

#[component]
fn StatusTab(state: RwSignal<PipelineState>) -> impl IntoView {
    move || {
        let s = state.get();
        let st = s.status;
        let r = st.rollout.clone();
        let conditions = st
            .conditions
            .iter()
            .map(|c| {
                Row::new(vec![
                    Cell::Text(c.type_.clone()),
                    Cell::Text(c.status.clone()),
                    Cell::Text(c.reason.clone().unwrap_or_default()),
                    Cell::Text(c.message.clone().unwrap_or_default()),
                    Cell::Age(c.last_transition_time.clone()),
                ])
            })
            .collect();
        let replicas = st
            .replicas
            .iter()
            .map(|p| {
                Row::new(vec![
                    Cell::Mono(p.name.clone()),
                    Cell::Mono(p.node.clone().unwrap_or_else(|| "—".into())),
                    Cell::Text(p.phase.clone()),
                    Cell::Text(format!("{}/{}", p.ready, p.containers)),
                    Cell::Text(p.restarts.to_string()),
                    Cell::Text(if p.current { "current" } else { "previous (being replaced)" }.into()),
                    Cell::Age(p.created_at.clone()),
                ])
            })
            .collect();
        let rollout_words = if !r.exists {
            "The workload does not exist yet.".to_owned()
        } else if r.complete {
            format!("Complete: all {} replicas run the current version.", r.desired)
        } else {
            format!(
                "Rolling out: {} of {} replicas updated, {} ready, {} available.",
                r.updated, r.desired, r.ready, r.available
            )
        };
        let observed = match st.observed_generation {
            Some(o) if o >= st.generation => "the operator has acted on the current spec".to_owned(),
            Some(o) => format!("the operator has acted on generation {o} of {}", st.generation),
            None => "the operator has not reported yet".to_owned(),
        };
        view! {
            <h2>"Status"</h2>
            <dl class="facts-list">
                <dt>"Phase"</dt><dd>{s.pipeline.phase.clone().unwrap_or_else(|| "not reported".into())}</dd>
                <dt>"Message"</dt><dd>{s.pipeline.message.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Replicas"</dt><dd>{format!("{} desired, {} ready", s.pipeline.replicas, s.pipeline.ready_replicas)}</dd>
                <dt>"Generation"</dt><dd>{format!("{} ({observed})", st.generation)}</dd>
                <dt>{format!("Rollout ({} {})", r.kind, r.name)}</dt><dd>{rollout_words}</dd>
            </dl>
            <h3>"Conditions"</h3>
            <DataTable
                caption="Conditions"
                columns=&["Type", "Status", "Reason", "Message", "Since"]
                rows=conditions
                empty="The operator has not reported conditions yet."
            />
            <h3>"Replicas"</h3>
            <DataTable
                caption="Replicas"
                columns=&["Replica", "Node", "Phase", "Ready", "Restarts", "Version", "Age"]
                rows=replicas
                empty="No replica exists yet."
            />
        }
    }
}
