//! The form: the fields of a sidecar for people who do not write Kubernetes specs. Every field
//! reads and writes one path of the draft; each shows the validator's error for its path as you
//! type. Fields the form does not show stay in the draft and are listed.

use super::draft::{self, lines, list, number, string, text};
use super::Draft;
use leptos::either::{EitherOf4, EitherOf5};
use leptos::prelude::*;
use serde_json::{json, Value};
use sidecar_api::ConfigMapView;

/// How a field's text becomes JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A string.
    Text,
    /// A whole number (or, as typed, a text the validator refuses).
    Number,
    /// A whole number or a port name.
    Port,
}

/// An element id for a field path.
fn field_id(path: &str) -> String {
    let mut id: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    id.insert_str(0, "f-");
    id
}

/// The validator's messages for `path`, in a sentence.
fn errors_at(d: Draft, path: &str) -> Option<String> {
    d.checked.with(|c| {
        let msgs: Vec<String> = c.at(path).map(|e| e.message.clone()).collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    })
}

/// Its error below a field, and the attributes that tie them together.
#[component]
fn FieldError(draft: Draft, path: String) -> impl IntoView {
    let id = format!("{}-error", field_id(&path));
    view! { <p class="field-error" id=id>{move || errors_at(draft, &path)}</p> }
}

/// A labelled text input bound to `path`.
#[component]
fn Input(
    draft: Draft,
    label: &'static str,
    #[prop(into)] path: String,
    #[prop(default = Kind::Text)] kind: Kind,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] on_set: Option<Callback<String>>,
) -> impl IntoView {
    let id = field_id(&path);
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let p = path.clone();
    let value = Signal::derive(move || draft.read(|v| text(v, &p)));
    let p = path.clone();
    let invalid = Signal::derive(move || errors_at(draft, &p).is_some());
    let p = path.clone();
    let input = move |ev: leptos::ev::Event| {
        let s = event_target_value(&ev);
        let x = match kind {
            Kind::Text => string(&s),
            Kind::Number | Kind::Port => number(&s),
        };
        draft.edit(|v| draft::set(v, &p, x));
        if let Some(f) = on_set {
            f.run(s);
        }
    };
    let described = match &hint {
        Some(_) => format!("{hint_id} {err_id}"),
        None => err_id.clone(),
    };
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <input type="text" id=id data-field=path.clone() placeholder=placeholder
                inputmode=if kind == Kind::Number { "numeric" } else { "text" }
                value=value.get_untracked() prop:value=value on:input=input
                aria-invalid=move || if invalid.get() { "true" } else { "false" } aria-describedby=described/>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <FieldError draft path/>
        </div>
    }
}

/// A labelled list, one entry per line, bound to the array of strings at `path`.
#[component]
fn Lines(draft: Draft, label: &'static str, #[prop(into)] path: String, #[prop(into)] hint: String) -> impl IntoView {
    let id = field_id(&path);
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let p = path.clone();
    // Blank lines while typing are the person's; only a change of the entries rewrites the box.
    let shown = RwSignal::new(draft.read(|v| lines(v, &p)));
    let p = path.clone();
    Effect::new(move |_| {
        let now = draft.read(|v| lines(v, &p));
        let typed = shown.get_untracked();
        if list(&typed) != list(&now) {
            shown.set(now);
        }
    });
    let p = path.clone();
    let invalid = Signal::derive(move || {
        errors_at(draft, &p).is_some()
            || draft.checked.with(|c| c.errors.iter().any(|e| e.field.as_str().starts_with(&format!("{p}["))))
    });
    let p = path.clone();
    let input = move |ev: leptos::ev::Event| {
        let s = event_target_value(&ev);
        shown.set(s.clone());
        draft.edit(|v| draft::set(v, &p, list(&s)));
    };
    let p = path.clone();
    let item_errors = move || {
        draft.checked.with(|c| {
            c.errors
                .iter()
                .filter(|e| e.field.as_str().starts_with(&format!("{p}[")))
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <textarea id=id data-field=path.clone() rows=move || (shown.with(|s| s.lines().count()) + 1).clamp(3, 12) spellcheck="false" prop:value=move || shown.get() on:input=input
                aria-invalid=move || if invalid.get() { "true" } else { "false" } aria-describedby=format!("{hint_id} {err_id}")>{shown.get_untracked()}</textarea>
            <p class="hint" id=hint_id>{hint}</p>
            <p class="field-error" id=err_id>{move || errors_at(draft, &path).into_iter().chain(Some(item_errors()).filter(|s| !s.is_empty())).collect::<Vec<_>>().join("; ")}</p>
        </div>
    }
}

/// A labelled choice bound to `path`; the empty choice removes the field.
#[component]
fn Choice(
    draft: Draft,
    label: &'static str,
    #[prop(into)] path: String,
    options: Vec<(&'static str, &'static str)>,
    #[prop(optional, into)] hint: Option<String>,
    /// What Kubernetes takes when the field is not set (shown as chosen).
    #[prop(optional)]
    default: &'static str,
) -> impl IntoView {
    let id = field_id(&path);
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let p = path.clone();
    let value = Signal::derive(move || {
        Some(draft.read(|v| text(v, &p))).filter(|t| !t.is_empty()).unwrap_or_else(|| default.to_owned())
    });
    let p = path.clone();
    let invalid = Signal::derive(move || errors_at(draft, &p).is_some());
    let p = path.clone();
    let change = move |ev: leptos::ev::Event| {
        let s = event_target_value(&ev);
        draft.edit(|v| draft::set(v, &p, string(&s)));
    };
    let opts = options
        .into_iter()
        .map(|(v, l)| view! { <option value=v selected=move || value.get() == v>{l}</option> })
        .collect_view();
    let described = if hint.is_some() { format!("{hint_id} {err_id}") } else { err_id.clone() };
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}</label>
            <select id=id data-field=path.clone() on:change=change prop:value=value
                aria-invalid=move || if invalid.get() { "true" } else { "false" } aria-describedby=described>{opts}</select>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <FieldError draft path/>
        </div>
    }
}

/// How many entries the array at `path` has.
fn count(draft: Draft, path: &'static str) -> impl Fn() -> Vec<usize> + Copy {
    move || draft.read(|v| (0..draft::get(v, path).and_then(Value::as_array).map_or(0, Vec::len)).collect())
}

/// What the cluster can store of a sidecar (its Pipeline CRD's item schema, when not ours): the
/// form offers only those fields.
#[derive(Clone, Debug, Default)]
pub struct Offers(pub Option<std::sync::Arc<Value>>);

impl Offers {
    /// Whether the form may offer the field at `path`.
    pub fn field(&self, path: &str) -> bool {
        self.0.as_deref().is_none_or(|s| sidecar_spec::fit::declares(s, path))
    }
}

/// The form.
#[component]
pub fn SidecarForm(draft: Draft, config_maps: Vec<ConfigMapView>, namespace: String, offers: Offers) -> impl IntoView {
    let unshown = move || draft.read(draft::unshown);
    let cms = StoredValue::new(config_maps);
    let offer = |path: &str| offers.field(path);
    let drain = offer("lifecycle.preStop.sleep.seconds").then(|| view! {
        <Input draft label="Pre-stop sleep (seconds)" path="lifecycle.preStop.sleep.seconds" kind=Kind::Number placeholder="e.g. 5"
            hint="Wait this long before the sidecar is stopped, so that it can drain its connections (1 to 30)."/>
    });
    let env = offer("env[].name").then(|| view! { <Env draft cms/> });
    let ports = offer("ports[].containerPort").then(|| view! { <Ports draft/> });
    let volumes = (offer("volumes[].configMap.name") && offer("volumeMounts[].mountPath"))
        .then(|| view! { <Volumes draft cms namespace/> });
    let liveness = offer("livenessProbe").then(|| {
        view! {
            <Probe draft key="livenessProbe" title="Liveness probe" what="restarts the sidecar when it fails"/>
        }
    });
    let readiness = offer("readinessProbe").then(|| view! {
        <Probe draft key="readinessProbe" title="Readiness probe" what="marks the replica not ready while it fails"/>
    });
    let startup = offer("startupProbe").then(|| {
        view! {
            <Probe draft key="startupProbe" title="Startup probe" what="holds the other probes until it succeeds"/>
        }
    });
    let resources = offer("resources.limits[cpu]").then(|| view! {
        <fieldset>
            <legend>"Resources"</legend>
            <p class="hint">"Quantities as Kubernetes writes them: CPU in cores or millicores (0.5, 250m), memory in bytes with a unit (64Mi, 1Gi)."</p>
            <div class="row">
                <Input draft label="CPU request" path="resources.requests[cpu]" placeholder="e.g. 100m"/>
                <Input draft label="Memory request" path="resources.requests[memory]" placeholder="e.g. 64Mi"/>
                <Input draft label="CPU limit" path="resources.limits[cpu]" placeholder="e.g. 500m"/>
                <Input draft label="Memory limit" path="resources.limits[memory]" placeholder="e.g. 128Mi"/>
            </div>
        </fieldset>
    });
    view! {
        <form class="sidecar-form" on:submit=|ev| ev.prevent_default() aria-label="Sidecar">
            <fieldset>
                <legend>"Container"</legend>
                <Input draft label="Name" path="name" hint="Lowercase letters, digits and '-'; unique in the pipeline." placeholder="my-sidecar"/>
                <Input draft label="Image" path="image" hint="Registry, repository and tag, e.g. envoyproxy/envoy:v1.31.0." placeholder="repository:tag"/>
                <Choice draft label="Image pull policy" path="imagePullPolicy"
                    options=vec![("", "Kubernetes' default (Always for :latest, else IfNotPresent)"), ("Always", "Always"), ("IfNotPresent", "IfNotPresent"), ("Never", "Never")]/>
                <Lines draft label="Command" path="command" hint="One entry per line; empty runs the image's own entry point."/>
                <Lines draft label="Arguments" path="args" hint="One entry per line."/>
                {drain}
            </fieldset>
            {env}
            {ports}
            {volumes}
            {liveness}
            {readiness}
            {startup}
            {resources}
            {move || {
                let u = unshown();
                (!u.is_empty()).then(|| view! {
                    <p class="notice also-json" role="note">"Also set in JSON (kept as they are; edit them on the JSON tab): "
                        {u.into_iter().map(|p| view! { <code>{p}</code> " " }).collect_view()}</p>
                })
            }}
        </form>
    }
}

/// Environment variables: a value, or a key of a ConfigMap or Secret.
#[component]
fn Env(draft: Draft, cms: StoredValue<Vec<ConfigMapView>>) -> impl IntoView {
    let rows = count(draft, "env");
    let add = move |_| draft.edit(|v| draft::push(v, "env", json!({"name": "", "value": ""})));
    view! {
        <fieldset>
            <legend>"Environment variables"</legend>
            <For each=rows key=|i| *i let:i>
                <EnvRow draft i cms/>
            </For>
            <button type="button" class="button secondary" on:click=add>"Add variable"</button>
        </fieldset>
    }
}

#[component]
fn EnvRow(draft: Draft, i: usize, cms: StoredValue<Vec<ConfigMapView>>) -> impl IntoView {
    let base = format!("env[{i}]");
    let source = {
        let base = base.clone();
        Signal::derive(move || {
            draft.read(|v| {
                let from = draft::get(v, &format!("{base}.valueFrom"));
                match from {
                    None => "value",
                    Some(f) if f.get("configMapKeyRef").is_some() => "configMap",
                    Some(f) if f.get("secretKeyRef").is_some() => "secret",
                    Some(_) => "other",
                }
            })
        })
    };
    let change = {
        let base = base.clone();
        move |ev: leptos::ev::Event| {
            let s = event_target_value(&ev);
            draft.edit(|v| {
                draft::set(v, &format!("{base}.value"), None);
                draft::set(v, &format!("{base}.valueFrom"), None);
                match s.as_str() {
                    "configMap" => draft::set(
                        v,
                        &format!("{base}.valueFrom.configMapKeyRef"),
                        Some(json!({"name": "", "key": ""})),
                    ),
                    "secret" => {
                        draft::set(v, &format!("{base}.valueFrom.secretKeyRef"), Some(json!({"name": "", "key": ""})))
                    }
                    _ => draft::set(v, &format!("{base}.value"), Some(json!(""))),
                }
            });
        }
    };
    let remove = move |_| draft.edit(|v| draft::remove_at(v, "env", i));
    let sid = format!("f-env-{i}-source");
    let body = {
        let base = base.clone();
        move || match source.get() {
            "configMap" => EitherOf4::A(view! {
                <ConfigMapKey draft path=format!("{base}.valueFrom.configMapKeyRef") cms/>
            }),
            "secret" => EitherOf4::B(view! {
                <Input draft label="Secret" path=format!("{base}.valueFrom.secretKeyRef.name")/>
                <Input draft label="Key" path=format!("{base}.valueFrom.secretKeyRef.key")/>
            }),
            "other" => EitherOf4::C(
                view! { <p class="hint">"Set in JSON (for example a field of the pod); kept as it is."</p> },
            ),
            _ => EitherOf4::D(view! { <Input draft label="Value" path=format!("{base}.value")/> }),
        }
    };
    view! {
        <div class="row-group" role="group" aria-label=format!("Variable {}", i + 1)>
            <Input draft label="Variable name" path=format!("{base}.name") placeholder="LOG_LEVEL"/>
            <div class="field">
                <label for=sid.clone()>"Source"</label>
                <select id=sid on:change=change prop:value=source>
                    <option value="value" selected=move || source.get() == "value">"A value"</option>
                    <option value="configMap" selected=move || source.get() == "configMap">"A key of a ConfigMap"</option>
                    <option value="secret" selected=move || source.get() == "secret">"A key of a Secret"</option>
                    {move || (source.get() == "other").then(|| view! { <option value="other" selected=true disabled=true>"Set in JSON"</option> })}
                </select>
            </div>
            {body}
            <button type="button" class="button subtle" on:click=remove aria-label=format!("Remove variable {}", i + 1)>"Remove"</button>
        </div>
    }
}

/// A ConfigMap and one of its keys, for an environment variable.
#[component]
fn ConfigMapKey(draft: Draft, path: String, cms: StoredValue<Vec<ConfigMapView>>) -> impl IntoView {
    let name_path = format!("{path}.name");
    let key_path = format!("{path}.key");
    let chosen = {
        let p = name_path.clone();
        Signal::derive(move || draft.read(|v| text(v, &p)))
    };
    let key = {
        let p = key_path.clone();
        Signal::derive(move || draft.read(|v| text(v, &p)))
    };
    let set_cm = {
        let p = name_path.clone();
        move |ev: leptos::ev::Event| {
            let s = event_target_value(&ev);
            draft.edit(|v| draft::set(v, &p, Some(json!(s))));
        }
    };
    let set_key = {
        let p = key_path.clone();
        move |ev: leptos::ev::Event| {
            let s = event_target_value(&ev);
            draft.edit(|v| draft::set(v, &p, Some(json!(s))));
        }
    };
    let cm_options = {
        move || {
            let c = chosen.get();
            cms.with_value(|all| {
                let mut opts: Vec<_> = all.iter().map(|m| m.name.clone()).collect();
                if !c.is_empty() && !opts.contains(&c) {
                    opts.push(c.clone());
                }
                opts.into_iter()
                    .map(|n| {
                        let sel = n == c;
                        view! { <option value=n.clone() selected=sel>{n.clone()}</option> }
                    })
                    .collect_view()
            })
        }
    };
    let key_options = move || {
        let c = chosen.get();
        let k = key.get();
        let mut keys =
            cms.with_value(|all| all.iter().find(|m| m.name == c).map(|m| m.keys.clone()).unwrap_or_default());
        if !k.is_empty() && !keys.contains(&k) {
            keys.push(k.clone());
        }
        keys.into_iter()
            .map(|n| {
                let sel = n == k;
                view! { <option value=n.clone() selected=sel>{n.clone()}</option> }
            })
            .collect_view()
    };
    let (cm_id, key_id) = (field_id(&name_path), field_id(&key_path));
    view! {
        <div class="field">
            <label for=cm_id.clone()>"ConfigMap"</label>
            <select id=cm_id data-field=name_path.clone() on:change=set_cm prop:value=chosen
                aria-describedby=format!("{}-error", field_id(&name_path))>
                <option value="">"Choose a ConfigMap…"</option>
                {cm_options}
            </select>
            <FieldError draft path=name_path/>
        </div>
        <div class="field">
            <label for=key_id.clone()>"Key"</label>
            <select id=key_id data-field=key_path.clone() on:change=set_key prop:value=key
                aria-describedby=format!("{}-error", field_id(&key_path))>
                <option value="">"Choose a key…"</option>
                {key_options}
            </select>
            <FieldError draft path=key_path/>
        </div>
    }
}

/// Container ports.
#[component]
fn Ports(draft: Draft) -> impl IntoView {
    let rows = count(draft, "ports");
    let add = move |_| draft.edit(|v| draft::push(v, "ports", json!({"containerPort": "", "protocol": "TCP"})));
    view! {
        <fieldset>
            <legend>"Ports"</legend>
            <For each=rows key=|i| *i let:i>
                <div class="row-group" role="group" aria-label=format!("Port {}", i + 1)>
                    <Input draft label="Container port" path=format!("ports[{i}].containerPort") kind=Kind::Number placeholder="1–65535"/>
                    <Input draft label="Port name" path=format!("ports[{i}].name") placeholder="e.g. http (optional)"/>
                    <Choice draft label="Protocol" path=format!("ports[{i}].protocol") options=vec![("TCP", "TCP"), ("UDP", "UDP"), ("SCTP", "SCTP")] default="TCP"/>
                    <FieldError draft path=format!("ports[{i}]")/>
                    <button type="button" class="button subtle" on:click=move |_| draft.edit(|v| draft::remove_at(v, "ports", i))
                        aria-label=format!("Remove port {}", i + 1)>"Remove"</button>
                </div>
            </For>
            <button type="button" class="button secondary" on:click=add>"Add port"</button>
        </fieldset>
    }
}

/// The index of the mount of volume `name`.
fn mount_of(v: &Value, name: &str) -> Option<usize> {
    draft::get(v, "volumeMounts")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().position(|m| m.get("name").and_then(Value::as_str) == Some(name)))
}

/// ConfigMap volumes and where they are mounted.
#[component]
fn Volumes(draft: Draft, cms: StoredValue<Vec<ConfigMapView>>, namespace: String) -> impl IntoView {
    let rows = count(draft, "volumes");
    let add = move |_| {
        draft.edit(|v| {
            let n = (1..)
                .map(|k| format!("volume-{k}"))
                .find(|n| {
                    !draft::get(v, "volumes")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(n.as_str())))
                })
                .unwrap_or_default();
            draft::push(v, "volumes", json!({"name": n, "configMap": {"name": ""}}));
            draft::push(v, "volumeMounts", json!({"name": n, "mountPath": "", "readOnly": true}));
        })
    };
    let none = cms.with_value(Vec::is_empty).then(|| {
        view! {
            <p class="hint">{format!("Namespace {namespace} has no ConfigMaps yet. Create one first, e.g. ")}
                <code>{format!("kubectl create configmap envoy-config --from-file=envoy.yaml -n {namespace}")}</code></p>
        }
    });
    view! {
        <fieldset>
            <legend>"Volumes"</legend>
            <p class="hint">"A ConfigMap's keys appear as files in the mount path."</p>
            {none}
            <For each=rows key=|i| *i let:i>
                <VolumeRow draft i cms/>
            </For>
            <button type="button" class="button secondary" on:click=add>"Add volume"</button>
        </fieldset>
    }
}

#[component]
fn VolumeRow(draft: Draft, i: usize, cms: StoredValue<Vec<ConfigMapView>>) -> impl IntoView {
    let vol = format!("volumes[{i}]");
    let name = {
        let vol = vol.clone();
        Signal::derive(move || draft.read(|v| text(v, &format!("{vol}.name"))))
    };
    let cm = {
        let vol = vol.clone();
        Signal::derive(move || draft.read(|v| text(v, &format!("{vol}.configMap.name"))))
    };
    let mount = { Signal::derive(move || draft.read(|v| mount_of(v, &name.get()))) };
    let cm_path = format!("{vol}.configMap.name");
    let cm_id = field_id(&cm_path);
    let pick = {
        let vol = vol.clone();
        move |ev: leptos::ev::Event| {
            let chosen = event_target_value(&ev);
            draft.edit(|v| {
                draft::set(v, &format!("{vol}.configMap.name"), Some(json!(chosen)));
                draft::set(v, &format!("{vol}.configMap.items"), None);
                // A volume still under its made-up name takes the ConfigMap's.
                let old = text(v, &format!("{vol}.name"));
                let taken = draft::get(v, "volumes")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x.get("name").and_then(Value::as_str) == Some(chosen.as_str())));
                if old.starts_with("volume-") && !chosen.is_empty() && !taken {
                    draft::set(v, &format!("{vol}.name"), Some(json!(chosen)));
                    if let Some(m) = mount_of(v, &old) {
                        draft::set(v, &format!("volumeMounts[{m}].name"), Some(json!(chosen)));
                    }
                }
            });
        }
    };
    let options = {
        move || {
            let c = cm.get();
            cms.with_value(|all| {
                let mut opts: Vec<(String, String)> = all
                    .iter()
                    .map(|m| {
                        (
                            m.name.clone(),
                            if m.keys.is_empty() {
                                m.name.clone()
                            } else {
                                format!("{} ({})", m.name, m.keys.join(", "))
                            },
                        )
                    })
                    .collect();
                if !c.is_empty() && !all.iter().any(|m| m.name == c) {
                    opts.push((c.clone(), format!("{c} (not in this namespace)")));
                }
                opts.into_iter()
                    .map(|(n, label)| {
                        let sel = n == c;
                        view! { <option value=n selected=sel>{label}</option> }
                    })
                    .collect_view()
            })
        }
    };
    let keys = {
        Signal::derive(move || {
            cms.with_value(|all| all.iter().find(|m| m.name == cm.get()).map(|m| m.keys.clone()).unwrap_or_default())
        })
    };
    let items = {
        let vol = vol.clone();
        Signal::derive(move || {
            draft.read(|v| {
                draft::get(v, &format!("{vol}.configMap.items")).and_then(Value::as_array).map(|a| {
                    a.iter().filter_map(|x| x.get("key").and_then(Value::as_str).map(str::to_owned)).collect::<Vec<_>>()
                })
            })
        })
    };
    let key_boxes = {
        let vol = vol.clone();
        move || {
            let ks = keys.get();
            if ks.is_empty() {
                return None;
            }
            let boxes = ks
                .into_iter()
                .map(|k| {
                    let vol = vol.clone();
                    let k2 = k.clone();
                    let checked = move || items.get().is_some_and(|it| it.contains(&k2));
                    let toggle = {
                        let k = k.clone();
                        move |ev: leptos::ev::Event| {
                            let on = event_target_checked(&ev);
                            draft.edit(|v| {
                                let path = format!("{vol}.configMap.items");
                                let mut list: Vec<Value> = draft::get(v, &path).and_then(Value::as_array).cloned().unwrap_or_default();
                                list.retain(|x| x.get("key").and_then(Value::as_str) != Some(k.as_str()));
                                if on {
                                    list.push(json!({"key": k, "path": k}));
                                }
                                draft::set(v, &path, (!list.is_empty()).then_some(Value::Array(list)));
                            });
                        }
                    };
                    view! { <label class="check"><input type="checkbox" prop:checked=checked on:change=toggle/>{k.clone()}</label> }
                })
                .collect_view();
            Some(view! {
                <div class="field" role="group" aria-label="Only these keys">
                    <span class="label">"Only these keys (none checked: all of them)"</span>
                    {boxes}
                </div>
            })
        }
    };
    let mount_path =
        { Signal::derive(move || mount.get().map(|m| format!("volumeMounts[{m}].mountPath")).unwrap_or_default()) };
    let set_mount = {
        move |path: &'static str, x: Option<Value>| {
            let n = name.get();
            draft.edit(|v| {
                let m = match mount_of(v, &n) {
                    Some(m) => m,
                    None => {
                        draft::push(v, "volumeMounts", json!({"name": n}));
                        draft::get(v, "volumeMounts").and_then(Value::as_array).map_or(0, |a| a.len() - 1)
                    }
                };
                draft::set(v, &format!("volumeMounts[{m}].{path}"), x);
            });
        }
    };
    let mount_value = {
        Signal::derive(move || {
            draft.read(|v| mount.get().map(|m| text(v, &format!("volumeMounts[{m}].mountPath"))).unwrap_or_default())
        })
    };
    let read_only = {
        Signal::derive(move || {
            draft.read(|v| {
                mount
                    .get()
                    .and_then(|m| draft::get(v, &format!("volumeMounts[{m}].readOnly")).and_then(Value::as_bool))
                    .unwrap_or(false)
            })
        })
    };
    let mount_err = {
        Signal::derive(move || {
            let p = mount_path.get();
            if p.is_empty() {
                return Some("this volume is not mounted: give it a mount path".to_owned());
            }
            errors_at(draft, &p)
        })
    };
    let rename = {
        let vol = vol.clone();
        move |ev: leptos::ev::Event| {
            let new = event_target_value(&ev);
            let old = name.get();
            draft.edit(|v| {
                if let Some(m) = mount_of(v, &old) {
                    draft::set(v, &format!("volumeMounts[{m}].name"), Some(json!(new.trim())));
                }
                draft::set(v, &format!("{vol}.name"), string(&new));
            });
        }
    };
    let mid = format!("f-volume-{i}-mount");
    let rid = format!("f-volume-{i}-read-only");
    let rid_for = rid.clone();
    let vid = format!("f-volume-{i}-name");
    let vname_path = format!("{vol}.name");
    let remove = {
        move |_| {
            let n = name.get();
            draft.edit(|v| {
                draft::remove_at(v, "volumes", i);
                while let Some(m) = mount_of(v, &n) {
                    draft::remove_at(v, "volumeMounts", m);
                }
            })
        }
    };
    let set_mount_path = set_mount;
    view! {
        <div class="row-group" role="group" aria-label=format!("Volume {}", i + 1)>
            <div class="field" class:invalid={let p = cm_path.clone(); move || errors_at(draft, &p).is_some()}>
                <label for=cm_id.clone()>"ConfigMap"</label>
                <select id=cm_id data-field=cm_path.clone() on:change=pick prop:value=cm
                    aria-invalid={let p = cm_path.clone(); move || if errors_at(draft, &p).is_some() { "true" } else { "false" }}
                    aria-describedby=format!("{}-error", field_id(&cm_path))>
                    <option value="">"Choose a ConfigMap…"</option>
                    {options}
                </select>
                <FieldError draft path=cm_path.clone()/>
            </div>
            {key_boxes}
            <div class="field" class:invalid={move || mount_err.get().is_some()}>
                <label for=mid.clone()>"Mount path"</label>
                <input type="text" id=mid.clone() data-field=mount_path placeholder="/etc/my-config" value=mount_value.get_untracked() prop:value=mount_value
                    on:input=move |ev| set_mount_path("mountPath", string(&event_target_value(&ev)))
                    aria-invalid={move || if mount_err.get().is_some() { "true" } else { "false" }}
                    aria-describedby=format!("{mid}-error")/>
                <p class="field-error" id=format!("{mid}-error")>{mount_err}</p>
            </div>
            <label class="check" for=rid_for>
                <input type="checkbox" id=rid prop:checked=read_only on:change=move |ev| set_mount("readOnly", Some(Value::Bool(event_target_checked(&ev))))/>
                "Read-only"
            </label>
            <div class="field">
                <label for=vid.clone()>"Volume name"</label>
                <input type="text" id=vid.clone() data-field=vname_path.clone() value=name.get_untracked() prop:value=name on:input=rename
                    aria-describedby=format!("{}-error", field_id(&vname_path))/>
                <FieldError draft path=vname_path/>
            </div>
            <button type="button" class="button subtle" on:click=remove aria-label=format!("Remove volume {}", i + 1)>"Remove"</button>
        </div>
    }
}

/// One probe: its type, where it checks, and its timings with Kubernetes' defaults.
#[component]
fn Probe(draft: Draft, key: &'static str, title: &'static str, what: &'static str) -> impl IntoView {
    let kind = move || {
        draft.read(|v| match draft::get(v, key) {
            None => "none",
            Some(p) if p.get("httpGet").is_some() => "http",
            Some(p) if p.get("tcpSocket").is_some() => "tcp",
            Some(p) if p.get("exec").is_some() => "exec",
            Some(p) if p.get("grpc").is_some() => "grpc",
            Some(_) => "none",
        })
    };
    let change = move |ev: leptos::ev::Event| {
        let s = event_target_value(&ev);
        draft.edit(|v| {
            if s == "none" {
                draft::set(v, key, None);
                return;
            }
            // The timings stay; the handler is replaced.
            let port = draft::get(v, "ports[0].containerPort").cloned().unwrap_or(json!(""));
            for h in ["httpGet", "tcpSocket", "exec", "grpc"] {
                draft::set(v, &format!("{key}.{h}"), None);
            }
            let handler = match s.as_str() {
                "http" => ("httpGet", json!({"path": "/", "port": port})),
                "tcp" => ("tcpSocket", json!({"port": port})),
                "exec" => ("exec", json!({"command": []})),
                _ => ("grpc", json!({"port": port})),
            };
            draft::set(v, &format!("{key}.{}", handler.0), Some(handler.1));
        });
    };
    let id = format!("f-{key}-type");
    // Either, not `AnyView`: an erased view keeps every way of rendering it (asynchronous
    // hydration included), which the form never uses.
    let handler = move || match kind() {
        "http" => EitherOf5::A(view! {
            <Input draft label="Port" path=format!("{key}.httpGet.port") kind=Kind::Port hint="A port number or the name of one of the ports above."/>
            <Input draft label="Path" path=format!("{key}.httpGet.path") placeholder="/healthz"/>
        }),
        "tcp" => EitherOf5::B(
            view! { <Input draft label="Port" path=format!("{key}.tcpSocket.port") kind=Kind::Port hint="A port number or the name of one of the ports above."/> },
        ),
        "exec" => EitherOf5::C(
            view! { <Lines draft label="Command" path=format!("{key}.exec.command") hint="One entry per line; exit code 0 means healthy."/> },
        ),
        "grpc" => EitherOf5::D(
            view! { <Input draft label="Port" path=format!("{key}.grpc.port") kind=Kind::Number hint="The port number of the gRPC health service."/> },
        ),
        _ => EitherOf5::E(()),
    };
    let timings = move || {
        (kind() != "none").then(|| {
            view! {
                <div class="row">
                    <Input draft label="Initial delay (seconds)" path=format!("{key}.initialDelaySeconds") kind=Kind::Number placeholder="0" hint="Default 0."/>
                    <Input draft label="Period (seconds)" path=format!("{key}.periodSeconds") kind=Kind::Number placeholder="10" hint="Default 10."/>
                    <Input draft label="Timeout (seconds)" path=format!("{key}.timeoutSeconds") kind=Kind::Number placeholder="1" hint="Default 1."/>
                    <Input draft label="Success threshold" path=format!("{key}.successThreshold") kind=Kind::Number placeholder="1" hint="Default 1."/>
                    <Input draft label="Failure threshold" path=format!("{key}.failureThreshold") kind=Kind::Number placeholder="3" hint="Default 3."/>
                </div>
            }
        })
    };
    view! {
        <fieldset>
            <legend>{title}</legend>
            <p class="hint">{format!("The {} {what}.", title.to_lowercase())}</p>
            <div class="field">
                <label for=id.clone()>"Probe type"</label>
                <select id=id data-field=key on:change=change prop:value=kind>
                    <option value="none" selected=move || kind() == "none">"None"</option>
                    <option value="http" selected=move || kind() == "http">"HTTP GET"</option>
                    <option value="tcp" selected=move || kind() == "tcp">"TCP connect"</option>
                    <option value="exec" selected=move || kind() == "exec">"Command"</option>
                    <option value="grpc" selected=move || kind() == "grpc">"gRPC"</option>
                </select>
                <FieldError draft path=key.to_owned()/>
            </div>
            {handler}
            {timings}
        </fieldset>
    }
}
