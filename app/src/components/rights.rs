//! Actions the user may not perform: shown, disabled, with Kubernetes' reason beside them,
//! rather than offered and refused afterwards.

use leptos::prelude::*;
use sidecar_api::Right;

/// A disabled button standing for an action `right` does not allow; `label` is its accessible
/// name, the reason its description.
#[component]
pub fn Forbidden(
    right: Right,
    label: String,
    text: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let reason = right.reason.unwrap_or_else(|| "Kubernetes does not allow this".to_owned());
    view! {
        <button type="button" class=format!("button {class}") disabled=true aria-label=label title=reason.clone()>
            {text}
        </button>
    }
}

/// The reason, once, for a group of disabled actions.
#[component]
pub fn WhyNot(right: Right) -> impl IntoView {
    right.reason.filter(|_| !right.allowed).map(|r| view! { <p class="why-not" role="note">{r}</p> })
}
