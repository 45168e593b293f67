//! Ready-made sidecars to start a new one from: each a valid spec (see the tests).

/// One preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// Its key in links (`?preset=envoy`).
    pub key: &'static str,
    /// What a person picks it by.
    pub title: &'static str,
    /// What it is for, in a sentence.
    pub summary: &'static str,
    /// The spec, as JSON text.
    pub json: &'static str,
    /// The ConfigMap it mounts and expects in the pipeline's namespace, if any.
    pub config_map: Option<&'static str>,
}

/// Every preset, in the order they are offered.
pub const ALL: [Preset; 5] = [
    Preset {
        key: "envoy",
        title: "Envoy proxy",
        summary: "A proxy in front of the pipeline, configured by the ConfigMap envoy-config (envoy.yaml).",
        json: include_str!("../../examples/envoy-sidecar.json"),
        config_map: Some("envoy-config"),
    },
    Preset {
        key: "nginx",
        title: "nginx",
        summary: "A web server on port 8080 with a readiness probe.",
        json: include_str!("../../examples/presets/nginx.json"),
        config_map: None,
    },
    Preset {
        key: "otel-collector",
        title: "OpenTelemetry Collector",
        summary:
            "Receives OTLP on 4317 (gRPC) and 4318 (HTTP); its configuration comes from the ConfigMap otel-config.",
        json: include_str!("../../examples/presets/otel-collector.json"),
        config_map: Some("otel-config"),
    },
    Preset {
        key: "statsd-exporter",
        title: "Prometheus statsd exporter",
        summary: "Takes statsd on UDP 9125 and serves Prometheus metrics on 9102.",
        json: include_str!("../../examples/presets/statsd-exporter.json"),
        config_map: None,
    },
    Preset {
        key: "busybox-debug",
        title: "busybox debug shell",
        summary: "A shell that stays up, to look around a replica with kubectl exec.",
        json: include_str!("../../examples/presets/busybox-debug.json"),
        config_map: None,
    },
];

/// The preset with key `key`.
pub fn find(key: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_spec_and_mounts_what_it_says() {
        for p in ALL {
            let spec = crate::check(p.json).unwrap_or_else(|e| panic!("preset {}: {e:?}", p.key));
            let mounted: Vec<_> =
                spec.volumes.iter().filter_map(|v| v.config_map.as_ref()).map(|c| c.name.as_str()).collect();
            assert_eq!(mounted, p.config_map.into_iter().collect::<Vec<_>>(), "preset {}", p.key);
        }
        assert_eq!(find("nginx").map(|p| p.title), Some("nginx"));
    }
}
