//! Kubernetes' state words as a person reads them: the console's tables and `sidecarctl` say
//! "Image cannot be pulled" where the kubelet says `ImagePullBackOff`.

use crate::Summary;

/// What a state means for the person looking at it; the console colours it, always together
/// with the words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Running as it should.
    Good,
    /// On its way: a rollout, a start.
    Busy,
    /// Failing: someone has to act.
    Bad,
    /// Nothing yet.
    Idle,
}

impl Tone {
    /// A CSS-friendly name: `good`, `busy`, `bad`, `idle`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Busy => "busy",
            Tone::Bad => "bad",
            Tone::Idle => "idle",
        }
    }
}

/// A waiting or termination reason in plain words.
pub fn reason_words(reason: &str) -> String {
    match reason {
        "ImagePullBackOff" | "ErrImagePull" => "Image cannot be pulled".into(),
        "InvalidImageName" => "Image name is invalid".into(),
        "CrashLoopBackOff" => "Crash loop".into(),
        "ContainerCreating" => "Starting".into(),
        "PodInitializing" => "Starting".into(),
        "CreateContainerConfigError" => "Configuration missing".into(),
        "CreateContainerError" => "Cannot be created".into(),
        "OOMKilled" => "Out of memory".into(),
        "Error" => "Exited with an error".into(),
        "Completed" => "Exited".into(),
        "Pending" => "Pending".into(),
        "Running" => "Running".into(),
        "NotReady" => "Not ready".into(),
        other => split_camel(other),
    }
}

fn split_camel(word: &str) -> String {
    let mut out = String::new();
    for (i, c) in word.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A sidecar's state over its replicas in plain words: "Running", "Image cannot be pulled",
/// "Rolling out, 2 of 3 replicas".
pub fn state_words(s: &Summary) -> String {
    match s.state.as_str() {
        "RollingOut" => format!("Rolling out, {} of {} replicas", s.updated.min(s.replicas), s.replicas),
        "Pending" if s.replicas == 0 => "Pending: no replica yet".into(),
        other => reason_words(other),
    }
}

/// The tone of a sidecar's state.
pub fn state_tone(s: &Summary) -> Tone {
    match s.state.as_str() {
        "Running" => Tone::Good,
        "RollingOut" | "ContainerCreating" | "PodInitializing" | "NotReady" => Tone::Busy,
        "Pending" => Tone::Idle,
        _ => Tone::Bad,
    }
}
