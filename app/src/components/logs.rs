//! A log viewer: a replica chooser (one, or all with the replica's name on each line), how many
//! lines, follow on/off and the previous run, all in the URL; the lines come as server-sent
//! events and only in the browser.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::query_signal_with_options;
use leptos_router::NavigateOptions;
use sidecar_api::LogLine;

/// Most lines kept on the page; older ones scroll out.
#[cfg(feature = "hydrate")]
const KEEP: usize = 2000;

fn replace() -> NavigateOptions {
    NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() }
}

/// The viewer. `endpoint` is the logs URL without its query; `replicas` the pods to choose from.
#[component]
pub fn LogViewer(
    #[prop(into)] endpoint: String,
    #[prop(into)] replicas: Signal<Vec<String>>,
    /// What the logs are of, for labels ("sidecar envoy").
    #[prop(into)]
    of: String,
) -> impl IntoView {
    let (replica, set_replica) = query_signal_with_options::<String>("replica", replace());
    let (follow, set_follow) = query_signal_with_options::<bool>("follow", replace());
    let (tail, set_tail) = query_signal_with_options::<u32>("tail", replace());
    let (previous, set_previous) = query_signal_with_options::<bool>("previous", replace());
    let follow_on = Memo::new(move |_| follow.get().unwrap_or(true));
    let tail_n = Memo::new(move |_| tail.get().unwrap_or(200));
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let (status, set_status) = signal("Connecting…".to_owned());
    let url = Memo::new(move |_| {
        let mut q = format!("follow={}&tailLines={}", follow_on.get(), tail_n.get());
        if let Some(r) = replica.get().filter(|r| !r.is_empty()) {
            q.push_str(&format!("&replica={}", encode(&r)));
        }
        if previous.get().unwrap_or(false) {
            q.push_str("&previous=true");
        }
        format!("{endpoint}?{q}")
    });
    #[cfg(feature = "hydrate")]
    {
        use super::live::Live;
        let held = StoredValue::new_local(None::<super::live::browser::Source>);
        let (live, set_live) = signal(Live::Connecting);
        Effect::new(move |_| {
            let url = url.get();
            lines.set(Vec::new());
            let source = super::live::browser::listen(
                &url,
                &["line"],
                move |_, data| {
                    if let Ok(l) = serde_json::from_str::<LogLine>(&data) {
                        lines.update(|v| {
                            v.push(l);
                            if v.len() > KEEP {
                                v.drain(..v.len() - KEEP);
                            }
                        });
                    }
                },
                set_live,
            );
            held.set_value(source);
            on_cleanup(move || held.set_value(None));
        });
        Effect::new(move |_| {
            let following = follow_on.get_untracked();
            match live.get() {
                Live::Connecting => set_status.set("Connecting…".into()),
                Live::Live if following => set_status.set("Following new lines".into()),
                Live::Live => set_status.set("Showing the last lines".into()),
                // Without follow the stream ends after the last line; closing it keeps the
                // browser from reconnecting and reading them all again.
                Live::Reconnecting | Live::Ended if !following => {
                    held.set_value(None);
                    set_status.set("End of the log".into());
                }
                Live::Reconnecting => {
                    // The replay after reconnecting starts from the tail again.
                    lines.set(Vec::new());
                    set_status.set("Reconnecting…".into());
                }
                Live::Ended => set_status.set("Stopped".into()),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, set_status);
    let multi = move || replica.get().filter(|r| !r.is_empty()).is_none();
    let options = move || {
        replicas
            .get()
            .into_iter()
            .map(|r| {
                let selected = replica.get().as_deref() == Some(r.as_str());
                view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
            })
            .collect_view()
    };
    view! {
        <div class="log-controls">
            <label>
                "Replica "
                <select on:change:target=move |ev| {
                    let v = ev.target().value();
                    set_replica.set(if v.is_empty() { None } else { Some(v) });
                }>
                    <option value="" selected=move || replica.get().is_none()>"All replicas"</option>
                    {options}
                </select>
            </label>
            <label>
                "Lines "
                <select on:change:target=move |ev| set_tail.set(ev.target().value().parse().ok())>
                    {[50u32, 200, 1000, 5000]
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string() selected=move || tail_n.get() == n>{format!("last {n}")}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || follow_on.get()
                    on:change:target=move |ev| set_follow.set(if ev.target().checked() { None } else { Some(false) })
                />
                " Follow"
            </label>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || previous.get().unwrap_or(false)
                    on:change:target=move |ev| set_previous.set(ev.target().checked().then_some(true))
                />
                " Previous container"
            </label>
            <span class="log-status" aria-live="polite">{move || status.get()}</span>
        </div>
        <div class="log" role="log" aria-label=format!("Logs of {of}") tabindex="0">
            {move || {
                let all = lines.get();
                if all.is_empty() {
                    return Either::Left(view! { <p class="empty">"No log lines yet."</p> });
                }
                let multi = multi();
                Either::Right(all.into_iter()
                    .map(|l| {
                        view! {
                            <div class="line">
                                {multi.then(|| view! { <span class="replica">{l.replica}</span> })}
                                <span class="text">{l.line}</span>
                            </div>
                        }
                    })
                    .collect_view())
            }}
        </div>
    }
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
