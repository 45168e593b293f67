//! State badges: a coloured dot always beside words, never colour alone.

use leptos::prelude::*;
use sidecar_api::{Health, Summary, Tone};

/// A badge of `tone` saying `words`.
#[component]
pub fn Badge(tone: Tone, #[prop(into)] words: String) -> impl IntoView {
    view! {
        <span class=format!("badge {}", tone.as_str())>
            <span class="dot" aria-hidden="true"></span>
            {words}
        </span>
    }
}

/// A sidecar's state over its replicas.
#[component]
pub fn SidecarBadge(summary: Summary) -> impl IntoView {
    view! { <Badge tone=sidecar_api::state_tone(&summary) words=sidecar_api::state_words(&summary)/> }
}

/// A pipeline's health in words.
pub fn health_words(h: Health) -> (&'static str, Tone) {
    match h {
        Health::Running => ("All sidecars running", Tone::Good),
        Health::RollingOut => ("Rolling out", Tone::Busy),
        Health::Failing => ("Some sidecars failing", Tone::Bad),
        Health::Pending => ("Pending", Tone::Idle),
        Health::NoSidecars => ("No sidecars", Tone::Idle),
    }
}

/// A pipeline's health.
#[component]
pub fn HealthBadge(health: Health) -> impl IntoView {
    let (words, tone) = health_words(health);
    view! { <Badge tone words/> }
}

/// One dot per replica, coloured by that replica's state, with its name and state as text for
/// screen readers and in the tooltip.
#[component]
pub fn ReplicaDots(replicas: Vec<(String, Tone, String)>) -> impl IntoView {
    let dots = replicas
        .into_iter()
        .map(|(name, tone, state)| {
            let label = format!("{name}: {state}");
            let title = label.clone();
            view! { <span class=format!("rdot {}", tone.as_str()) title=title><span class="sr-only">{label}</span></span> }
        })
        .collect_view();
    view! { <span class="rdots">{dots}</span> }
}
