//! The rules: those the Kubernetes API server applies to a container
//! (`pkg/apis/core/validation`), plus the sidecar rules (ConfigMap volumes only).

use crate::names;
use crate::quantity::Amount;
use crate::{
    ConfigMapVolumeSource, ContainerPort, EnvVar, FieldError, FieldPath, IntOrString, KeySelector, ObjectFieldSelector,
    Probe, ResourceFieldSelector, ResourceRequirements, SidecarSpec, Volume, VolumeMount,
};
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const SCHEMES: &[&str] = &["HTTP", "HTTPS"];
const PROPAGATIONS: &[&str] = &["Bidirectional", "HostToContainer", "None"];
const FILE_MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Downward-API fields an environment variable may read.
const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Field labels a v1 pod has at all (anything else is not a field).
const POD_FIELD_LABELS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

const MEMORY_DIVISORS: &[&str] = &["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"];

/// Checks a defaulted spec and returns every problem found (empty when valid).
pub fn validate(spec: &SidecarSpec) -> Vec<FieldError> {
    let mut v = Validator::default();
    let root = FieldPath::root();
    v.name(&spec.name, &root.child("name"));
    v.image(&spec.image, &root.child("image"));
    v.pull_policy(&spec.image_pull_policy, &root.child("imagePullPolicy"));
    v.env(&spec.env, &root.child("env"));
    if let Some(r) = &spec.resources {
        v.resources(r, &root.child("resources"));
    }
    v.ports(&spec.ports, &root.child("ports"));
    let declared = v.volumes(&spec.volumes, &root.child("volumes"));
    v.volume_mounts(&spec.volume_mounts, &declared, &root.child("volumeMounts"));
    for (probe, field) in [
        (&spec.liveness_probe, "livenessProbe"),
        (&spec.readiness_probe, "readinessProbe"),
        (&spec.startup_probe, "startupProbe"),
    ] {
        if let Some(p) = probe {
            v.probe(p, field, &root.child(field));
        }
    }
    if let Some(l) = &spec.lifecycle {
        let lp = root.child("lifecycle");
        for (hook, field) in [(&l.post_start, "postStart"), (&l.pre_stop, "preStop")] {
            if let Some(h) = hook {
                let actions = Actions {
                    exec: h.exec.as_ref(),
                    http_get: h.http_get.as_ref(),
                    tcp_socket: h.tcp_socket.as_ref(),
                    grpc: None,
                    sleep: h.sleep.as_ref(),
                };
                v.handler(
                    &actions,
                    &lp.child(field),
                    "must specify a handler type: one of exec, httpGet, tcpSocket or sleep",
                );
            }
        }
    }
    v.0
}

/// The actions of a probe or a lifecycle hook, of which exactly one must be set.
struct Actions<'a> {
    exec: Option<&'a crate::ExecAction>,
    http_get: Option<&'a crate::HttpGetAction>,
    tcp_socket: Option<&'a crate::TcpSocketAction>,
    grpc: Option<&'a crate::GrpcAction>,
    sleep: Option<&'a crate::SleepAction>,
}

/// The pod's grace period, which a `preStop` sleep must fit in (Kubernetes' default; the
/// operator does not change it).
const GRACE_PERIOD_SECONDS: i64 = 30;

#[derive(Default)]
struct Validator(Vec<FieldError>);

impl Validator {
    fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    fn invalid_each(&mut self, path: &FieldPath, value: &str, msgs: Vec<String>) {
        for m in msgs {
            self.push(FieldError::invalid(path.clone(), value, m));
        }
    }

    fn name(&mut self, name: &str, path: &FieldPath) {
        if name.is_empty() {
            self.push(FieldError::required(path.clone(), "the sidecar needs a name"));
        } else {
            self.invalid_each(path, name, names::dns1123_label(name));
        }
    }

    fn image(&mut self, image: &str, path: &FieldPath) {
        if image.is_empty() {
            self.push(FieldError::required(path.clone(), "the sidecar needs an image"));
        } else if image.trim() != image {
            self.push(FieldError::invalid(path.clone(), image, "must not have leading or trailing whitespace"));
        }
    }

    fn pull_policy(&mut self, policy: &str, path: &FieldPath) {
        if !PULL_POLICIES.contains(&policy) {
            self.push(FieldError::not_supported(path.clone(), policy, PULL_POLICIES));
        }
    }

    fn env(&mut self, vars: &[EnvVar], path: &FieldPath) {
        for (i, ev) in vars.iter().enumerate() {
            let p = path.index(i);
            if ev.name.is_empty() {
                self.push(FieldError::required(p.child("name"), "the environment variable needs a name"));
            } else {
                self.invalid_each(&p.child("name"), &ev.name, names::env_var_name(&ev.name));
            }
            let Some(from) = &ev.value_from else { continue };
            let fp = p.child("valueFrom");
            let mut sources = 0;
            if let Some(f) = &from.field_ref {
                sources += 1;
                self.field_ref(f, &fp.child("fieldRef"));
            }
            if let Some(r) = &from.resource_field_ref {
                sources += 1;
                self.resource_field_ref(r, &fp.child("resourceFieldRef"));
            }
            if let Some(k) = &from.config_map_key_ref {
                sources += 1;
                self.key_selector(k, &fp.child("configMapKeyRef"));
            }
            if let Some(k) = &from.secret_key_ref {
                sources += 1;
                self.key_selector(k, &fp.child("secretKeyRef"));
            }
            if sources == 0 {
                self.push(FieldError::invalid(
                    fp,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                ));
            } else if !ev.value.is_empty() {
                self.push(FieldError::invalid(fp, "", "may not be specified when `value` is not empty"));
            } else if sources > 1 {
                self.push(FieldError::invalid(fp, "", "may not have more than one field specified at a time"));
            }
        }
    }

    fn field_ref(&mut self, f: &ObjectFieldSelector, path: &FieldPath) {
        if f.api_version.is_empty() {
            self.push(FieldError::required(path.child("apiVersion"), "apiVersion is required"));
            return;
        }
        if f.field_path.is_empty() {
            self.push(FieldError::required(path.child("fieldPath"), "the pod field to read is required"));
            return;
        }
        if f.api_version != "v1" {
            self.push(FieldError::invalid(
                path.child("apiVersion"),
                f.api_version.as_str(),
                format!("unsupported pod version \"{}\": only \"v1\" is supported", f.api_version),
            ));
            return;
        }
        let fp = path.child("fieldPath");
        if let Some((field, subscript)) = split_subscript(&f.field_path) {
            match field {
                "metadata.annotations" => {
                    self.invalid_each(path, &f.field_path, names::qualified_name(&subscript.to_lowercase()))
                }
                "metadata.labels" => self.invalid_each(path, &f.field_path, names::qualified_name(subscript)),
                _ => self.push(FieldError::invalid(
                    fp,
                    f.field_path.as_str(),
                    format!("field label does not support subscript: {}", f.field_path),
                )),
            }
            return;
        }
        // `spec.host` is an old name of `spec.nodeName` that Kubernetes still converts.
        let field = if f.field_path == "spec.host" { "spec.nodeName" } else { f.field_path.as_str() };
        if !POD_FIELD_LABELS.contains(&field) {
            self.push(FieldError::invalid(fp, field, format!("field label not supported: {field}")));
        } else if !ENV_FIELD_PATHS.contains(&field) {
            self.push(FieldError::not_supported(fp, field, ENV_FIELD_PATHS));
        }
    }

    fn resource_field_ref(&mut self, r: &ResourceFieldSelector, path: &FieldPath) {
        let hugepages = r.resource.starts_with("limits.hugepages-") || r.resource.starts_with("requests.hugepages-");
        if r.resource.is_empty() {
            self.push(FieldError::required(path.child("resource"), "the resource to read is required"));
        } else if !RESOURCE_FIELD_PATHS.contains(&r.resource.as_str()) && !hugepages {
            self.push(FieldError::not_supported(path.child("resource"), &r.resource, RESOURCE_FIELD_PATHS));
        }
        let Some(divisor) = r.divisor.as_ref().and_then(|d| d.amount().ok()) else { return };
        if divisor.is_zero() {
            return;
        }
        let canonical = divisor.canonical();
        let (allowed, what): (&[&str], &str) = match r.resource.as_str() {
            "limits.cpu" | "requests.cpu" => (&["1m", "1"], "1m and 1 are supported with the cpu resource"),
            "limits.memory" | "requests.memory" => (MEMORY_DIVISORS, "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"),
            "limits.ephemeral-storage" | "requests.ephemeral-storage" => (MEMORY_DIVISORS, "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource"),
            _ if hugepages => (MEMORY_DIVISORS, "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource"),
            _ => return,
        };
        if !allowed.contains(&canonical.as_str()) {
            self.push(FieldError::invalid(
                path.child("divisor"),
                canonical.as_str(),
                format!("only divisor's values {what}"),
            ));
        }
    }

    fn key_selector(&mut self, k: &KeySelector, path: &FieldPath) {
        self.invalid_each(&path.child("name"), &k.name, names::dns1123_subdomain(&k.name));
        if k.key.is_empty() {
            self.push(FieldError::required(path.child("key"), "the key to read is required"));
        } else {
            self.invalid_each(&path.child("key"), &k.key, names::config_map_key(&k.key));
        }
    }

    fn resources(&mut self, r: &ResourceRequirements, path: &FieldPath) {
        let lim_path = path.child("limits");
        let req_path = path.child("requests");
        let mut cpu_or_memory = false;
        let mut hugepages = false;
        let limits = self.resource_list(&r.limits, None, &lim_path, &mut cpu_or_memory, &mut hugepages);
        let requests = self.resource_list(&r.requests, Some(&r.limits), &req_path, &mut cpu_or_memory, &mut hugepages);
        for (name, request) in &requests {
            match limits.get(name) {
                Some(limit) => {
                    if request.cmp_value(limit) != Ordering::Equal && !overcommit_allowed(name) {
                        self.push(FieldError::invalid(
                            req_path.key(name),
                            request.canonical(),
                            format!("must be equal to {name} limit of {limit}"),
                        ));
                    } else if request.cmp_value(limit) == Ordering::Greater {
                        self.push(FieldError::invalid(
                            req_path.key(name),
                            request.canonical(),
                            format!("must be less than or equal to {name} limit of {limit}"),
                        ));
                    }
                }
                None if !overcommit_allowed(name) => self.push(FieldError::required(
                    lim_path.key(name),
                    format!("a limit must be set for {name}: it cannot be overcommitted"),
                )),
                None => {}
            }
        }
        if hugepages && !cpu_or_memory {
            self.push(FieldError::forbidden(path.clone(), "HugePages require cpu or memory"));
        }
    }

    /// Checks names and values of one resource list; returns the amounts that parsed. A name
    /// that is also in `limits` was checked there (a request defaulted from a bad limit would
    /// only repeat its errors).
    fn resource_list(
        &mut self,
        list: &BTreeMap<String, crate::Quantity>,
        limits: Option<&BTreeMap<String, crate::Quantity>>,
        path: &FieldPath,
        cpu_or_memory: &mut bool,
        hugepages: &mut bool,
    ) -> BTreeMap<String, Amount> {
        let mut amounts = BTreeMap::new();
        for (name, q) in list {
            let p = path.key(name);
            if limits.is_none_or(|l| !l.contains_key(name)) {
                self.resource_name(name, &p);
            }
            let Ok(amount) = q.amount() else { continue };
            if amount.is_negative() {
                self.push(FieldError::invalid(p.clone(), amount.canonical(), "must be greater than or equal to 0"));
            }
            if is_integer_resource(name) && amount.milli_value() % 1000 != 0 {
                self.push(FieldError::invalid(p.clone(), amount.canonical(), "must be an integer"));
            }
            if let Some(size) = name.strip_prefix("hugepages-") {
                *hugepages = true;
                let page = crate::Quantity::new(size).amount().ok().map(|a| a.value()).filter(|v| *v > 0);
                if page.is_none_or(|page| amount.value() % page != 0) {
                    self.push(FieldError::invalid(
                        p.clone(),
                        amount.canonical(),
                        format!("{} is not positive integer multiple of {name}", amount.canonical()),
                    ));
                }
            }
            if name == "cpu" || name == "memory" {
                *cpu_or_memory = true;
            }
            amounts.insert(name.clone(), amount);
        }
        amounts
    }

    fn resource_name(&mut self, name: &str, path: &FieldPath) {
        let msgs = names::qualified_name(name);
        if !msgs.is_empty() {
            self.invalid_each(path, name, msgs);
            return;
        }
        if !name.contains('/') {
            if !STANDARD_RESOURCES.contains(&name) && !name.starts_with("hugepages-") {
                self.push(FieldError::invalid(
                    path.clone(),
                    name,
                    "must be a standard resource type or fully qualified",
                ));
            }
            if !["cpu", "memory", "ephemeral-storage"].contains(&name) && !name.starts_with("hugepages-") {
                self.push(FieldError::invalid(path.clone(), name, "must be a standard resource for containers"));
            }
        } else if !is_native_resource(name) && !is_extended_resource(name) {
            self.push(FieldError::invalid(path.clone(), name, "doesn't follow extended resource name standard"));
        }
    }

    fn ports(&mut self, ports: &[ContainerPort], path: &FieldPath) {
        let mut seen_names = HashSet::new();
        let mut seen_host = HashSet::new();
        for (i, port) in ports.iter().enumerate() {
            let p = path.index(i);
            if !port.name.is_empty() {
                let msgs = names::port_name(&port.name);
                if !msgs.is_empty() {
                    self.invalid_each(&p.child("name"), &port.name, msgs);
                } else if !seen_names.insert(port.name.as_str()) {
                    self.push(FieldError::duplicate(p.child("name"), port.name.as_str()));
                }
            }
            if port.container_port == 0 {
                self.push(FieldError::required(p.child("containerPort"), "containerPort is required"));
            } else {
                for m in names::port_number(port.container_port.into()) {
                    self.push(FieldError::invalid(p.child("containerPort"), port.container_port, m));
                }
            }
            if port.host_port != 0 {
                for m in names::port_number(port.host_port.into()) {
                    self.push(FieldError::invalid(p.child("hostPort"), port.host_port, m));
                }
                if !seen_host.insert((port.host_port, port.protocol.as_str(), port.host_ip.as_str())) {
                    self.push(FieldError::duplicate(
                        p.child("hostPort"),
                        format!("{}/{}", port.host_port, port.protocol),
                    ));
                }
            }
            if !PROTOCOLS.contains(&port.protocol.as_str()) {
                self.push(FieldError::not_supported(p.child("protocol"), &port.protocol, PROTOCOLS));
            }
        }
    }

    /// Checks the volumes and returns the names declared.
    fn volumes<'a>(&mut self, volumes: &'a [Volume], path: &FieldPath) -> HashSet<&'a str> {
        let mut declared = HashSet::new();
        for (i, vol) in volumes.iter().enumerate() {
            let p = path.index(i);
            if vol.name.is_empty() {
                self.push(FieldError::required(p.child("name"), "the volume needs a name"));
            } else {
                let msgs = names::dns1123_label(&vol.name);
                if !msgs.is_empty() {
                    self.invalid_each(&p.child("name"), &vol.name, msgs);
                } else if !declared.insert(vol.name.as_str()) {
                    self.push(FieldError::duplicate(p.child("name"), vol.name.as_str()));
                }
            }
            match &vol.config_map {
                Some(cm) => self.config_map_source(cm, &p.child("configMap")),
                None => self.push(FieldError::required(
                    p.clone(),
                    "must specify a volume source: pipeline sidecars support ConfigMap volumes (\"configMap\")",
                )),
            }
        }
        declared
    }

    fn config_map_source(&mut self, cm: &ConfigMapVolumeSource, path: &FieldPath) {
        if cm.name.is_empty() {
            self.push(FieldError::required(path.child("name"), "the ConfigMap's name is required"));
        } else {
            // As Kubernetes' ValidateConfigMapName: an object name, a DNS-1123 subdomain.
            self.invalid_each(&path.child("name"), &cm.name, names::dns1123_subdomain(&cm.name));
        }
        if let Some(mode) = cm.default_mode {
            if !(0..=0o777).contains(&mode) {
                self.push(FieldError::invalid(path.child("defaultMode"), mode, FILE_MODE_MSG));
            }
        }
        for (i, item) in cm.items.iter().enumerate() {
            let p = path.child("items").index(i);
            if item.key.is_empty() {
                self.push(FieldError::required(p.child("key"), "the ConfigMap key is required"));
            }
            if item.path.is_empty() {
                self.push(FieldError::required(p.child("path"), "the file path is required"));
            }
            self.local_descending_path(&item.path, &p.child("path"));
            if item.path.starts_with("..") && !item.path.starts_with("../") {
                self.push(FieldError::invalid(p.child("path"), item.path.as_str(), "must not start with '..'"));
            }
            if let Some(mode) = item.mode {
                if !(0..=0o777).contains(&mode) {
                    self.push(FieldError::invalid(p.child("mode"), mode, FILE_MODE_MSG));
                }
            }
        }
    }

    fn local_descending_path(&mut self, target: &str, path: &FieldPath) {
        if target.starts_with('/') {
            self.push(FieldError::invalid(path.clone(), target, "must be a relative path"));
        }
        if target.split('/').any(|part| part == "..") {
            self.push(FieldError::invalid(path.clone(), target, "must not contain '..'"));
        }
    }

    fn volume_mounts(&mut self, mounts: &[VolumeMount], declared: &HashSet<&str>, path: &FieldPath) {
        let mut mount_points = HashSet::new();
        for (i, m) in mounts.iter().enumerate() {
            let p = path.index(i);
            if m.name.is_empty() {
                self.push(FieldError::required(p.child("name"), "the name of the volume to mount is required"));
            } else if !declared.contains(m.name.as_str()) {
                self.push(FieldError::not_found(
                    p.child("name"),
                    m.name.as_str(),
                    format!("no volume named \"{}\" is declared in volumes", m.name),
                ));
            }
            if m.mount_path.is_empty() {
                self.push(FieldError::required(p.child("mountPath"), "mountPath is required"));
            } else if !mount_points.insert(m.mount_path.as_str()) {
                self.push(FieldError::invalid(p.child("mountPath"), m.mount_path.as_str(), "must be unique"));
            }
            if !m.sub_path.is_empty() {
                self.local_descending_path(&m.sub_path, &p.child("subPath"));
            }
            if !m.sub_path_expr.is_empty() {
                if !m.sub_path.is_empty() {
                    self.push(FieldError::invalid(
                        p.child("subPathExpr"),
                        m.sub_path_expr.as_str(),
                        "subPathExpr and subPath are mutually exclusive",
                    ));
                }
                self.local_descending_path(&m.sub_path_expr, &p.child("subPathExpr"));
            }
            if let Some(prop) = &m.mount_propagation {
                let pp = p.child("mountPropagation");
                if !PROPAGATIONS.contains(&prop.as_str()) {
                    self.push(FieldError::not_supported(pp, prop, PROPAGATIONS));
                } else if prop == "Bidirectional" {
                    // Sidecars are never privileged.
                    self.push(FieldError::forbidden(
                        pp,
                        "Bidirectional mount propagation is available only to privileged containers",
                    ));
                }
            }
        }
    }

    /// Kubernetes' `validateHandler`: exactly one action, each checked as for probes.
    fn handler(&mut self, a: &Actions<'_>, path: &FieldPath, none: &str) {
        let mut handlers = 0;
        let mut one_more = |v: &mut Self, name: &str| -> bool {
            if handlers > 0 {
                v.push(FieldError::forbidden(path.child(name), "may not specify more than 1 handler type"));
                false
            } else {
                handlers += 1;
                true
            }
        };
        if let Some(exec) = a.exec {
            if one_more(self, "exec") && exec.command.is_empty() {
                self.push(FieldError::required(path.child("exec").child("command"), "the command to run is required"));
            }
        }
        if let Some(http) = a.http_get {
            if one_more(self, "httpGet") {
                let hp = path.child("httpGet");
                if http.path.is_empty() {
                    self.push(FieldError::required(hp.child("path"), "path is required"));
                }
                self.port_num_or_name(http.port.as_ref(), &hp.child("port"));
                if !SCHEMES.contains(&http.scheme.as_str()) {
                    self.push(FieldError::not_supported(hp.child("scheme"), &http.scheme, SCHEMES));
                }
                for (i, h) in http.http_headers.iter().enumerate() {
                    self.invalid_each(
                        &hp.child("httpHeaders").index(i).child("name"),
                        &h.name,
                        names::http_header_name(&h.name),
                    );
                }
            }
        }
        if let Some(tcp) = a.tcp_socket {
            if one_more(self, "tcpSocket") {
                self.port_num_or_name(tcp.port.as_ref(), &path.child("tcpSocket").child("port"));
            }
        }
        if let Some(grpc) = a.grpc {
            if one_more(self, "grpc") {
                for m in names::port_number(grpc.port.into()) {
                    self.push(FieldError::invalid(path.child("grpc").child("port"), grpc.port, m));
                }
            }
        }
        if let Some(sleep) = a.sleep {
            if one_more(self, "sleep") && (sleep.seconds <= 0 || sleep.seconds > GRACE_PERIOD_SECONDS) {
                self.push(FieldError::invalid(
                    path.child("sleep").child("seconds"),
                    sleep.seconds,
                    format!(
                        "must be greater than 0 and less than terminationGracePeriodSeconds ({GRACE_PERIOD_SECONDS})"
                    ),
                ));
            }
        }
        if handlers == 0 {
            self.push(FieldError::required(path.clone(), none));
        }
    }

    fn probe(&mut self, probe: &Probe, kind: &str, path: &FieldPath) {
        let actions = Actions {
            exec: probe.exec.as_ref(),
            http_get: probe.http_get.as_ref(),
            tcp_socket: probe.tcp_socket.as_ref(),
            grpc: probe.grpc.as_ref(),
            sleep: None,
        };
        self.handler(&actions, path, "must specify a handler type: one of exec, httpGet, tcpSocket or grpc");
        for (value, field) in [
            (probe.initial_delay_seconds, "initialDelaySeconds"),
            (probe.timeout_seconds, "timeoutSeconds"),
            (probe.period_seconds, "periodSeconds"),
            (probe.success_threshold, "successThreshold"),
            (probe.failure_threshold, "failureThreshold"),
        ] {
            if value < 0 {
                self.push(FieldError::invalid(path.child(field), value, "must be greater than or equal to 0"));
            }
        }
        if let Some(grace) = probe.termination_grace_period_seconds {
            if kind == "readinessProbe" {
                self.push(FieldError::invalid(
                    path.child("terminationGracePeriodSeconds"),
                    grace,
                    "must not be set for readinessProbes",
                ));
            } else if grace <= 0 {
                self.push(FieldError::invalid(
                    path.child("terminationGracePeriodSeconds"),
                    grace,
                    "must be greater than 0",
                ));
            }
        }
        if kind != "readinessProbe" && probe.success_threshold != 1 {
            self.push(FieldError::invalid(
                path.child("successThreshold"),
                probe.success_threshold,
                format!("must be 1 for a {kind}"),
            ));
        }
    }

    fn port_num_or_name(&mut self, port: Option<&IntOrString>, path: &FieldPath) {
        match port {
            // Kubernetes cannot tell a missing port from port 0, and reports it as invalid.
            None => self.push(FieldError::invalid(
                path.clone(),
                0,
                "a port is required: a number between 1 and 65535 or a port name",
            )),
            Some(IntOrString::Int(n)) => {
                for m in names::port_number((*n).into()) {
                    self.push(FieldError::invalid(path.clone(), *n, m));
                }
            }
            Some(IntOrString::String(s)) => self.invalid_each(path, s, names::port_name(s)),
        }
    }
}

/// `path['subscript']` → (path, subscript).
fn split_subscript(field_path: &str) -> Option<(&str, &str)> {
    let inner = field_path.strip_suffix("']")?;
    let (path, subscript) = inner.split_once("['")?;
    (!path.is_empty()).then_some((path, subscript))
}

fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_extended_resource(name: &str) -> bool {
    !is_native_resource(name)
        && !name.starts_with("requests.")
        && names::qualified_name(&format!("requests.{name}")).is_empty()
}

fn is_integer_resource(name: &str) -> bool {
    is_extended_resource(name) || INTEGER_RESOURCES.contains(&name)
}

fn overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !name.starts_with("hugepages-")
}
