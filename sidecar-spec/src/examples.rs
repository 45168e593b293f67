//! The example specs of the product documentation, shipped in `examples/`.

/// One documented example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    /// File name in `examples/`.
    pub file: &'static str,
    /// What it shows.
    pub title: &'static str,
    /// The JSON text.
    pub json: &'static str,
}

/// The basic spec, the one with a ConfigMap volume, and the one with all three probes.
pub const ALL: [Example; 3] = [
    Example { file: "my-sidecar.json", title: "Basic", json: include_str!("../../examples/my-sidecar.json") },
    Example {
        file: "envoy-sidecar.json",
        title: "Envoy with a ConfigMap volume",
        json: include_str!("../../examples/envoy-sidecar.json"),
    },
    Example {
        file: "probe-sidecar.json",
        title: "All three probes",
        json: include_str!("../../examples/probe-sidecar.json"),
    },
];
