//! `/pipelines/{namespace}/{name}/sidecars/{id}`: a sidecar's overview (default) and its
//! troubleshooting view (`?tab=troubleshoot&replica=POD`), live.

use crate::api::{delete_sidecar, load_sidecar};
use crate::components::badge::{Badge, SidecarBadge};
use crate::components::copy::CopyLink;
use crate::components::crumbs::PipelineCrumbs;
use crate::components::dialog::{DeleteDialog, DeleteTarget};
use crate::components::hydrate::Synchronous;
use crate::components::live::follow;
use crate::components::load::{capitalize, later, Failure, Loading};
use crate::components::logs::LogViewer;
use crate::components::rights::{Forbidden, WhyNot};
use crate::components::table::{Cell, DataTable, Row};
use crate::components::tabs::{Tab, TabList, TabPanel};
use crate::components::time::Age;
use crate::pages::editor::SidecarEditor;
use crate::pages::pipeline::LiveBadge;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::LazyRoute;
use serde_json::Value;
use sidecar_api::{Diagnosis, Severity, SidecarState, Tone};

const TABS: [Tab; 2] = [Tab { key: "overview", label: "Overview" }, Tab { key: "troubleshoot", label: "Troubleshoot" }];

/// The `/pipelines/{namespace}/{name}/sidecars/{id}` route. Its page only chooses between the
/// sidecar's views and the editor, each a WebAssembly chunk of its own (see [`editor`] and
/// [`sidecar_view`]).
pub struct SidecarRoute;

impl LazyRoute for SidecarRoute {
    fn data() -> Self {
        Self
    }

    // What the server rendered must be here before the page hydrates: Leptos hydrates a part
    // whose code is still being fetched as empty, which the server's HTML is not. The router
    // awaits this before it hydrates (or shows) the route.
    async fn preload() {
        #[cfg(feature = "hydrate")]
        {
            let path = web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default();
            let tab = crate::pages::shown_tab();
            if path.ends_with("/sidecars/new") || tab == "form" || tab == "json" {
                __preload_editor().await;
                if tab == "json" {
                    crate::pages::editor::__preload_json_view().await;
                }
            } else {
                __preload_sidecar_view().await;
                if tab == "troubleshoot" {
                    __preload_troubleshoot_view().await;
                } else {
                    __preload_overview_view().await;
                }
            }
        }
    }

    async fn view(_this: Self) -> AnyView {
        view! { <SidecarPage/> }.into_any()
    }
}

/// The page; at `…/sidecars/new`, and with `?tab=form` or `?tab=json`, the editor.
#[component]
pub fn SidecarPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let pipeline = move || params.with(|p| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default()));
    let editing =
        Memo::new(move |_| id() == "new" || matches!(query.with(|q| q.get("tab")).as_deref(), Some("form" | "json")));
    move || {
        let (ns, name) = pipeline();
        if editing.get() {
            let id = Some(id()).filter(|i| i != "new");
            Either::Left(later("the editor", editor(ns, name, id)))
        } else {
            Either::Right(later("the sidecar", sidecar_view()))
        }
    }
}

/// The editor, in the browser a WebAssembly chunk of its own: the validator, the form, the
/// diff and the Monaco binding are fetched only when a sidecar is added or edited.
#[lazy]
fn editor(namespace: String, name: String, id: Option<String>) -> AnyView {
    crate::components::code::preload("editor", &[("json", "json_view")]);
    view! { <SidecarEditor namespace=namespace name=name id=id/> }.into_any()
}

/// Its overview and troubleshooting (fetched apart from the editor, which they do not need).
#[lazy]
fn sidecar_view() -> AnyView {
    crate::components::code::preload("sidecar_view", &[("troubleshoot", "troubleshoot_view"), ("", "overview_view")]);
    view! { <SidecarView/> }.into_any()
}

#[component]
fn SidecarView() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let pipeline = move || params.with(|p| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default()));
    let data = Resource::new(id, load_sidecar);
    view! {
        <Transition fallback=|| view! { <Loading what="the sidecar"/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(state) => Either::Left(view! { <Sidecar initial=state/> }),
                    Err(e) => {
                        let (ns, name) = pipeline();
                        Either::Right(view! {
                            <Title text="Sidecar not found"/>
                            <Failure error=e what=format!("sidecar {} of pipeline {ns}/{name}", id())/>
                        })
                    }
                }
            })}
        </Transition>
    }
}

fn text(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).map(|x| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn list(v: &Value, ptr: &str) -> Vec<Value> {
    v.pointer(ptr).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// What the Kubernetes API server warned about a write, as kubectl prints it ("Warning: ...").
#[component]
pub fn Warnings(warnings: Vec<String>) -> impl IntoView {
    (!warnings.is_empty()).then(|| {
        view! {
            <div class="notice warnings" role="note" aria-label="Kubernetes warnings">
                <ul class="plain">{warnings.into_iter().map(|w| view! { <li><strong>"Warning: "</strong>{w}</li> }).collect_view()}</ul>
            </div>
        }
    })
}

/// What a probe or lifecycle hook does, in words: "HTTP GET /ready on port 9901", "sleeps 5 s".
fn action_words(p: &Value) -> String {
    if let Some(h) = p.get("httpGet") {
        format!(
            "{} GET {} on port {}",
            text(h, "/scheme").unwrap_or_else(|| "HTTP".into()),
            text(h, "/path").unwrap_or_else(|| "/".into()),
            text(h, "/port").unwrap_or_default()
        )
    } else if let Some(t) = p.get("tcpSocket") {
        format!("TCP connect to port {}", text(t, "/port").unwrap_or_default())
    } else if let Some(g) = p.get("grpc") {
        format!("gRPC health check on port {}", text(g, "/port").unwrap_or_default())
    } else if let Some(e) = p.get("exec") {
        let cmd: Vec<String> = list(e, "/command").iter().filter_map(|c| c.as_str().map(str::to_owned)).collect();
        format!("runs {}", cmd.join(" "))
    } else if let Some(seconds) = p.pointer("/sleep/seconds").and_then(Value::as_i64) {
        format!("sleeps {seconds} s")
    } else {
        "no handler".into()
    }
}

/// A probe in a sentence: "HTTP GET /ready on port 9901, after 5 s, every 10 s, timeout 1 s, 3 failures".
fn probe_words(p: &Value) -> String {
    let how = action_words(p);
    let n = |k: &str, d: i64| p.get(k).and_then(Value::as_i64).unwrap_or(d);
    format!(
        "{how}, after {} s, every {} s, timeout {} s, {} failures",
        n("initialDelaySeconds", 0),
        n("periodSeconds", 10),
        n("timeoutSeconds", 1),
        n("failureThreshold", 3)
    )
}

#[component]
fn Sidecar(initial: SidecarState) -> impl IntoView {
    let id = initial.sidecar.id.clone();
    let ns = initial.pipeline.namespace.clone();
    let pname = initial.pipeline.name.clone();
    let name = initial.sidecar.name.clone();
    let state = RwSignal::new(initial);
    let (gone, set_gone) = signal(None::<String>);
    let live = follow::<SidecarState>(
        {
            let id = id.clone();
            move || format!("/api/v1/sidecars/{id}/watch")
        },
        move |s| state.set(s),
        move |e| set_gone.set(Some(e.error)),
    );
    let query = use_query_map();
    let asked = Memo::new(move |_| query.with(|q| q.get("tab")).unwrap_or_default());
    let applied = Memo::new(move |_| query.with(|q| q.get("applied")).is_some());
    let tab = Memo::new(move |_| {
        let t = asked.get();
        TABS.iter().find(|x| x.key == t).map(|x| x.key).unwrap_or("overview")
    });
    let base = format!("/pipelines/{ns}/{pname}/sidecars/{id}");
    let href = {
        let base = base.clone();
        move |k: &str| if k == "overview" { base.clone() } else { format!("{base}?tab={k}") }
    };

    let target = RwSignal::new(None::<DeleteTarget>);
    let remove = Action::new(|t: &DeleteTarget| {
        let t = t.clone();
        async move { delete_sidecar(t.id.clone(), Some(t.etag.clone())).await }
    });
    let (delete_error, set_delete_error) = signal(None::<String>);
    let (deleted, set_deleted) = signal(false);
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(_)) => {
            target.set(None);
            set_deleted.set(true);
        }
        Some(Err(e)) => set_delete_error.set(Some(capitalize(&e.to_string()))),
        None => {}
    });
    let (busy, set_busy) = signal(false);
    Effect::new(move |_| set_busy.set(remove.pending().get()));
    let ask_delete = move |_| {
        let s = state.get_untracked();
        target.set(Some(DeleteTarget {
            id: s.sidecar.id.clone(),
            name: s.sidecar.name.clone(),
            pipeline: format!("{}/{}", s.pipeline.namespace, s.pipeline.name),
            replicas: (s.pipeline.replicas.max(0) as usize).max(s.sidecar.status.replicas),
            etag: s.sidecar.etag.clone(),
        }));
    };
    let on_delete = Callback::new(move |t: DeleteTarget| {
        set_delete_error.set(None);
        remove.dispatch(t);
    });

    let panel = {
        let id = id.clone();
        let name = name.clone();
        move || match tab.get() {
            "troubleshoot" => {
                Either::Left(later("troubleshooting", troubleshoot_view(state, id.clone(), name.clone())))
            }
            _ => Either::Right(later("the overview", overview_view(state))),
        }
    };
    let pipeline_href = format!("/pipelines/{ns}/{pname}");
    let crumb = name.clone();
    view! {
        <Title text=format!("{name} · {ns}/{pname}")/>
        <section class="page">
            <div class="crumb-row">
                <PipelineCrumbs namespace=ns.clone() pipeline=pname.clone()>
                    <span aria-current="page">{crumb}</span>
                </PipelineCrumbs>
                <LiveBadge live/>
                <CopyLink/>
            </div>
            <div class="title-row">
                <h1 class="mono">{move || state.with(|s| s.sidecar.name.clone())}</h1>
                <p class="facts">
                    "in " <a href=pipeline_href.clone()>{format!("{ns}/{pname}")}</a> " · "
                    {move || if state.with(|s| s.sidecar.problems.is_empty()) {
                        Either::Left(view! { <SidecarBadge summary=state.with(|s| s.sidecar.status.clone())/> })
                    } else {
                        Either::Right(view! { <Badge tone=Tone::Bad words="Invalid spec"/> })
                    }}
                    " · " {move || state.with(|s| format!("{}/{} ready", s.sidecar.status.ready, s.sidecar.status.replicas))}
                </p>
                {let (base, name) = (base.clone(), name.clone()); move || {
                    let change = state.with(|s| s.rights.change.clone());
                    if change.allowed {
                        Either::Left(view! {
                            <div class="toolbar">
                                <a class="button" href=format!("{base}?tab=form") aria-label=format!("Edit {name}")>"Edit"</a>
                                <button type="button" class="button danger" on:click=ask_delete disabled=move || deleted.get()
                                    aria-label=format!("Delete {name}")>"Delete"</button>
                            </div>
                        })
                    } else {
                        Either::Right(view! {
                            <div class="toolbar">
                                <Forbidden right=change.clone() label=format!("Edit {name}") text="Edit"/>
                                <Forbidden right=change.clone() label=format!("Delete {name}") text="Delete" class="danger"/>
                                <WhyNot right=change/>
                            </div>
                        })
                    }
                }}
            </div>
            {move || state.with(|s| (!s.sidecar.problems.is_empty()).then(|| view! {
                <div class="alert" role="alert">
                    <strong>"This spec breaks the sidecar rules, so it is not rolled out (it was written past the console). "</strong>
                    <ul>{s.sidecar.problems.iter().map(|p| view! { <li><code>{p.clone()}</code></li> }).collect_view()}</ul>
                    <a href=format!("{base}?tab=json")>"Fix it in the editor"</a>
                </div>
            }))}
            {move || applied.get().then(|| view! { <Rollout state/> })}
            {move || view! { <Warnings warnings=query.with(|q| q.get_all("warning").unwrap_or_default())/> }}
            {move || deleted.get().then(|| view! {
                <p class="notice" role="status">"This sidecar was deleted; the rollout removes it from every replica. "
                    <a href=pipeline_href.clone()>"Back to the pipeline"</a></p>
            })}
            {move || (gone.get().is_some() && !deleted.get()).then(|| view! {
                <p class="alert" role="alert">"This sidecar no longer exists: someone deleted it. What is shown is its last state."</p>
            })}
            <TabList label=format!("Sidecar {name}") tabs=TABS.to_vec() selected=tab href=href id="sidecar"/>
            <TabPanel selected=tab id="sidecar">{panel}</TabPanel>
        </section>
        <DeleteDialog target on_delete busy error=delete_error/>
    }
}

/// After an apply: the change reaching every replica.
#[component]
fn Rollout(state: RwSignal<SidecarState>) -> impl IntoView {
    let words = move || {
        state.with(|s| {
            let st = &s.sidecar.status;
            let total = st.replicas.max(s.pipeline.replicas.max(0) as usize);
            if st.updated >= total && st.ready >= total && total > 0 {
                format!("Applied: every replica ({total} of {total}) runs the new spec and is ready.")
            } else {
                format!(
                    "Applied. Rolling out: {} of {total} replicas run the new spec, {} ready.",
                    st.updated.min(total),
                    st.ready
                )
            }
        })
    };
    let done = move || {
        state.with(|s| {
            let st = &s.sidecar.status;
            let total = st.replicas.max(s.pipeline.replicas.max(0) as usize);
            total > 0 && st.updated >= total && st.ready >= total
        })
    };
    view! {
        <div class="notice rollout" role="status" aria-live="polite" data-done=move || if done() { "true" } else { "false" }>
            {words}
            " " <progress max=move || state.with(|s| s.sidecar.status.replicas.max(1)) value=move || state.with(|s| s.sidecar.status.updated)
                aria-label="Replicas running the new spec"></progress>
        </div>
    }
}

/// The Overview tab: its code is a chunk of its own, so that a page opened on the Troubleshoot
/// tab does not fetch it.
#[lazy]
fn overview_view(state: RwSignal<SidecarState>) -> AnyView {
    crate::components::code::preload("overview_view", &[]);
    Synchronous(view! { <Overview state/> }).into_any()
}

#[component]
fn Overview(state: RwSignal<SidecarState>) -> impl IntoView {
    move || {
        let s = state.get();
        let sc = s.sidecar;
        let spec = sc.spec.clone();
        let cmd = |ptr: &str| -> Option<String> {
            let parts: Vec<String> = list(&spec, ptr)
                .iter()
                .map(|c| c.as_str().map(str::to_owned).unwrap_or_else(|| c.to_string()))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        let volumes = list(&spec, "/volumes");
        let mounts = list(&spec, "/volumeMounts")
            .iter()
            .map(|m| {
                let vname = text(m, "/name").unwrap_or_default();
                let cm = volumes
                    .iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(vname.as_str()))
                    .and_then(|v| text(v, "/configMap/name"))
                    .unwrap_or_default();
                let ro = if m.get("readOnly").and_then(Value::as_bool).unwrap_or(false) { ", read-only" } else { "" };
                view! { <li><code>{text(m, "/mountPath").unwrap_or_default()}</code> " ← ConfigMap " <code>{cm}</code> {format!(" (volume {vname}{ro})")}</li> }
            })
            .collect_view();
        let env = list(&spec, "/env")
            .iter()
            .map(|e| {
                let value = text(e, "/value")
                    .unwrap_or_else(|| e.get("valueFrom").map(|v| format!("from {v}")).unwrap_or_default());
                view! { <li><code>{text(e, "/name").unwrap_or_default()}</code> " = " <code>{value}</code></li> }
            })
            .collect_view();
        let has_probes = ["livenessProbe", "readinessProbe", "startupProbe"].iter().any(|k| spec.get(*k).is_some());
        let probes = ["livenessProbe", "readinessProbe", "startupProbe"]
            .into_iter()
            .filter_map(|k| spec.get(k).map(|p| (k, probe_words(p))))
            .map(|(k, words)| view! { <li><strong>{k.trim_end_matches("Probe").to_owned()}</strong> ": " {words}</li> })
            .collect_view();
        let hooks = [("postStart", "after start"), ("preStop", "before stop")]
            .into_iter()
            .filter_map(|(k, when)| spec.pointer(&format!("/lifecycle/{k}")).map(|h| (when, action_words(h))))
            .map(|(when, words)| view! { <li><strong>{when}</strong> ": " {words}</li> })
            .collect_view();
        let has_hooks = spec.get("lifecycle").is_some();
        let resources = spec.get("resources").map(|r| r.to_string());
        let ports = sc.ports();
        let json = serde_json::to_string_pretty(&spec).unwrap_or_default();
        view! {
            <h2>"Overview"</h2>
            <dl class="facts-list">
                <dt>"Image"</dt><dd class="mono">{sc.image.clone()}</dd>
                <dt>"Image pull policy"</dt><dd>{text(&spec, "/imagePullPolicy").unwrap_or_else(|| "—".into())}</dd>
                <dt>"Command"</dt><dd class="mono">{cmd("/command").unwrap_or_else(|| "the image's own".into())}</dd>
                <dt>"Arguments"</dt><dd class="mono">{cmd("/args").unwrap_or_else(|| "—".into())}</dd>
                <dt>"Ports"</dt><dd class="mono">{if ports.is_empty() { "—".into() } else { ports.join(", ") }}</dd>
                <dt>"Mounts"</dt><dd>{if volumes.is_empty() { Either::Left(view! { "—" }) } else { Either::Right(view! { <ul class="plain">{mounts}</ul> }) }}</dd>
                <dt>"Environment"</dt><dd>{if spec.get("env").is_none() { Either::Left(view! { "—" }) } else { Either::Right(view! { <ul class="plain">{env}</ul> }) }}</dd>
                <dt>"Probes"</dt><dd>{if has_probes { Either::Right(view! { <ul class="plain">{probes}</ul> }) } else { Either::Left(view! { "—" }) }}</dd>
                <dt>"Lifecycle hooks"</dt><dd>{if has_hooks { Either::Right(view! { <ul class="plain">{hooks}</ul> }) } else { Either::Left(view! { "—" }) }}</dd>
                <dt>"Resources"</dt><dd class="mono">{resources.unwrap_or_else(|| "—".into())}</dd>
                <dt>"Created"</dt><dd><Age at=sc.created_at.clone() long=true/></dd>
                <dt>"Updated"</dt><dd><Age at=sc.updated_at.clone() long=true/></dd>
                <dt>"ID"</dt><dd class="mono">{sc.id.clone()}</dd>
            </dl>
            <h3>"Spec (JSON)"</h3>
            <pre class="spec" tabindex="0" aria-label="The sidecar's spec as JSON">{json}</pre>
        }
    }
}

fn severity_tone(s: Severity) -> (Tone, &'static str) {
    match s {
        Severity::Error => (Tone::Bad, "Problem"),
        Severity::Progress => (Tone::Busy, "In progress"),
        Severity::Ok => (Tone::Good, "Healthy"),
    }
}

fn diagnosis_card(d: Diagnosis) -> impl IntoView {
    let (tone, word) = severity_tone(d.severity);
    view! {
        <article class=format!("diagnosis {}", tone.as_str()) data-reason=d.reason.clone()>
            <h3><Badge tone words=word/> " " {d.title.clone()}</h3>
            {(!d.reason.is_empty()).then(|| view! { <p class="reason">"Reason: " <code>{d.reason.clone()}</code></p> })}
            {d.detail.clone().map(|x| view! { <p class="kubelet"><span>"Kubernetes says: "</span><q>{x}</q></p> })}
            {(!d.hints.is_empty()).then(|| view! { <ul>{d.hints.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view()}</ul> })}
            {d.command.clone().map(|c| view! { <pre class="command">{c}</pre> })}
            {(!d.replicas.is_empty()).then(|| view! { <p class="replicas">"Replicas: " {d.replicas.join(", ")}</p> })}
            {(!d.log_tail.is_empty()).then(|| view! {
                <p>"Last lines of the previous run:"</p>
                <pre class="log-tail">{d.log_tail.join("\n")}</pre>
            })}
        </article>
    }
}

/// The Troubleshoot tab (status per replica, events, logs, diagnosis): its code is fetched when
/// the tab is first shown, not with the overview.
#[lazy]
fn troubleshoot_view(state: RwSignal<SidecarState>, id: String, name: String) -> AnyView {
    crate::components::code::preload("troubleshoot_view", &[]);
    Synchronous(view! { <Troubleshoot state id name/> }).into_any()
}

#[component]
fn Troubleshoot(state: RwSignal<SidecarState>, id: String, name: String) -> impl IntoView {
    let diagnosis = move || state.with(|s| s.diagnosis.clone()).into_iter().map(diagnosis_card).collect_view();
    let replicas = move || {
        let rows = state.with(|s| {
            s.replicas
                .iter()
                .map(|r| {
                    let last = r.last_termination.as_ref().map(|t| {
                        format!(
                            "exit code {}{}",
                            t.exit_code,
                            t.reason.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()
                        )
                    });
                    let tone = if r.ready {
                        Tone::Good
                    } else if r.reason.as_deref().is_some_and(|x| x.contains("BackOff") || x.starts_with("Err")) {
                        Tone::Bad
                    } else {
                        Tone::Busy
                    };
                    Row::new(vec![
                        Cell::Mono(r.replica.clone()),
                        Cell::Mono(r.node.clone().unwrap_or_else(|| "—".into())),
                        Cell::Badge(tone, r.state.clone()),
                        Cell::Mono(r.reason.clone().unwrap_or_else(|| "—".into())),
                        Cell::Text(r.message.clone().unwrap_or_default()),
                        Cell::Text(if r.ready { "yes" } else { "no" }.into()),
                        Cell::Text(r.restart_count.to_string()),
                        Cell::Text(last.unwrap_or_else(|| "—".into())),
                    ])
                })
                .collect()
        });
        view! {
            <DataTable
                caption="The sidecar in each replica"
                columns=&["Replica", "Node", "State", "Reason", "Message", "Ready", "Restarts", "Last termination"]
                rows
                empty="No replica runs this sidecar yet."
            />
        }
    };
    let events = move || {
        let rows = state.with(|s| {
            s.events
                .iter()
                .take(50)
                .map(|e| Row {
                    class: (e.type_ == "Warning").then_some("warning"),
                    cells: vec![
                        Cell::Age(e.last_seen.clone()),
                        Cell::Text(e.type_.clone()),
                        Cell::Mono(e.reason.clone()),
                        Cell::Mono(e.replica.clone()),
                        Cell::Text(if e.count > 1 {
                            format!("{} (×{})", e.message, e.count)
                        } else {
                            e.message.clone()
                        }),
                    ],
                })
                .collect()
        });
        view! {
            <DataTable
                caption="Events, newest first"
                columns=&["Last seen", "Type", "Reason", "Replica", "Message"]
                rows
                empty="No events about this sidecar."
            />
        }
    };
    let pods = Signal::derive(move || {
        state.with(|s| s.replicas.iter().filter(|r| r.state != "Absent").map(|r| r.replica.clone()).collect())
    });
    view! {
        <h2>"Diagnosis"</h2>
        <div class="diagnoses" aria-live="polite">{diagnosis}</div>
        <h2>"Replicas"</h2>
        {replicas}
        <h2>"Events"</h2>
        {events}
        <h2>"Logs"</h2>
        {move || {
            let logs = state.with(|s| s.rights.logs.clone());
            if logs.allowed {
                Either::Left(view! { <LogViewer endpoint=format!("/api/v1/sidecars/{id}/logs") replicas=pods of=format!("sidecar {name}")/> })
            } else {
                Either::Right(view! { <WhyNot right=logs/> })
            }
        }}
    }
}
