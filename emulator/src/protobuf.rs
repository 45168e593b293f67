//! Kubernetes' protobuf encoding of request bodies, for the types kubectl's imperative commands
//! send that way (`kubectl create namespace|configmap|secret|role|rolebinding`, `kubectl auth`):
//! the `k8s\0` envelope around a `runtime.Unknown`, and the messages of those kinds, decoded to the JSON
//! the rest of the server works with.

use base64::Engine;
use serde_json::{json, Map, Value};

/// The media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Why a protobuf body could not be read.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ProtobufError {
    /// The `k8s\0` prefix is missing.
    #[error("the body does not start with the Kubernetes protobuf prefix")]
    NoEnvelope,
    /// The bytes end inside a field.
    #[error("the protobuf body is truncated")]
    Truncated,
    /// A wire type that is not used by these messages.
    #[error("unsupported protobuf wire type {0}")]
    WireType(u64),
    /// A string that is not UTF-8.
    #[error("a protobuf string field is not valid UTF-8")]
    Utf8,
    /// A kind this server does not read in protobuf.
    #[error("{0} is not accepted as protobuf by this server; send JSON")]
    Kind(String),
}

/// One field: its number and its value (varint or bytes).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtobufError::Truncated)?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtobufError::Truncated)
    }

    fn next(&mut self) -> Option<Result<(u64, Field<'a>), ProtobufError>> {
        if self.buf.is_empty() {
            return None;
        }
        Some(self.field())
    }

    fn field(&mut self) -> Result<(u64, Field<'a>), ProtobufError> {
        let tag = self.varint()?;
        let (number, wire) = (tag >> 3, tag & 7);
        match wire {
            0 => Ok((number, Field::Varint(self.varint()?))),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtobufError::Truncated)?;
                if n > self.buf.len() {
                    return Err(ProtobufError::Truncated);
                }
                let (bytes, rest) = self.buf.split_at(n);
                self.buf = rest;
                Ok((number, Field::Bytes(bytes)))
            }
            1 => self.skip(8).map(|_| (number, Field::Varint(0))),
            5 => self.skip(4).map(|_| (number, Field::Varint(0))),
            other => Err(ProtobufError::WireType(other)),
        }
    }

    fn skip(&mut self, n: usize) -> Result<(), ProtobufError> {
        if n > self.buf.len() {
            return Err(ProtobufError::Truncated);
        }
        self.buf = &self.buf[n..];
        Ok(())
    }
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ProtobufError> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while let Some(f) = r.next() {
        out.push(f?);
    }
    Ok(out)
}

fn text(b: &[u8]) -> Result<String, ProtobufError> {
    String::from_utf8(b.to_vec()).map_err(|_| ProtobufError::Utf8)
}

/// A map entry (`key` = 1, `value` = 2); byte values are base64, as in JSON.
fn entry(b: &[u8], bytes_value: bool) -> Result<(String, Value), ProtobufError> {
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    for (n, f) in fields(b)? {
        if let Field::Bytes(x) = f {
            match n {
                1 => k = text(x)?,
                2 if bytes_value => v = json!(base64::engine::general_purpose::STANDARD.encode(x)),
                2 => v = json!(text(x)?),
                _ => {}
            }
        }
    }
    Ok((k, v))
}

fn time(b: &[u8]) -> Result<Value, ProtobufError> {
    let mut seconds = 0i64;
    for (n, f) in fields(b)? {
        if let (1, Field::Varint(v)) = (n, f) {
            seconds = v as i64;
        }
    }
    Ok(jiff::Timestamp::from_second(seconds)
        .map(|t| json!(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
        .unwrap_or(Value::Null))
}

/// How one field of a message is read.
enum Kind {
    Text,
    Int,
    Bool,
    Time,
    /// `map<string, string>`.
    StringMap,
    /// `map<string, bytes>` (base64 in JSON).
    BytesMap,
    /// `map<string, Quantity>`.
    QuantityMap,
    IntOrString,
    RepeatedText,
    Message(&'static Message),
    Repeated(&'static Message),
    /// Read and left out (a status the server sets itself).
    Skip,
}

/// A message: its fields by number, with their JSON names.
type Message = [(u64, &'static str, Kind)];

const OWNER_REFERENCE: &Message = &[
    (1, "kind", Kind::Text),
    (3, "name", Kind::Text),
    (4, "uid", Kind::Text),
    (5, "apiVersion", Kind::Text),
    (6, "controller", Kind::Bool),
    (7, "blockOwnerDeletion", Kind::Bool),
];

const OBJECT_META: &Message = &[
    (1, "name", Kind::Text),
    (2, "generateName", Kind::Text),
    (3, "namespace", Kind::Text),
    (4, "selfLink", Kind::Skip),
    (5, "uid", Kind::Text),
    (6, "resourceVersion", Kind::Text),
    (7, "generation", Kind::Int),
    (8, "creationTimestamp", Kind::Time),
    (11, "labels", Kind::StringMap),
    (12, "annotations", Kind::StringMap),
    (13, "ownerReferences", Kind::Repeated(OWNER_REFERENCE)),
    (14, "finalizers", Kind::RepeatedText),
];

const EMPTY: &Message = &[];

const LABEL_SELECTOR_REQUIREMENT: &Message =
    &[(1, "key", Kind::Text), (2, "operator", Kind::Text), (3, "values", Kind::RepeatedText)];

const LABEL_SELECTOR: &Message =
    &[(1, "matchLabels", Kind::StringMap), (2, "matchExpressions", Kind::Repeated(LABEL_SELECTOR_REQUIREMENT))];

const CONTAINER_PORT: &Message = &[
    (1, "name", Kind::Text),
    (2, "hostPort", Kind::Int),
    (3, "containerPort", Kind::Int),
    (4, "protocol", Kind::Text),
    (5, "hostIP", Kind::Text),
];

const ENV_VAR: &Message = &[(1, "name", Kind::Text), (2, "value", Kind::Text)];

const RESOURCES: &Message = &[(1, "limits", Kind::QuantityMap), (2, "requests", Kind::QuantityMap)];

const VOLUME_MOUNT: &Message = &[
    (1, "name", Kind::Text),
    (2, "readOnly", Kind::Bool),
    (3, "mountPath", Kind::Text),
    (4, "subPath", Kind::Text),
    (5, "mountPropagation", Kind::Text),
    (6, "subPathExpr", Kind::Text),
];

const CONTAINER: &Message = &[
    (1, "name", Kind::Text),
    (2, "image", Kind::Text),
    (3, "command", Kind::RepeatedText),
    (4, "args", Kind::RepeatedText),
    (5, "workingDir", Kind::Text),
    (6, "ports", Kind::Repeated(CONTAINER_PORT)),
    (7, "env", Kind::Repeated(ENV_VAR)),
    (8, "resources", Kind::Message(RESOURCES)),
    (9, "volumeMounts", Kind::Repeated(VOLUME_MOUNT)),
    (13, "terminationMessagePath", Kind::Text),
    (14, "imagePullPolicy", Kind::Text),
    (16, "stdin", Kind::Bool),
    (17, "stdinOnce", Kind::Bool),
    (18, "tty", Kind::Bool),
    (20, "terminationMessagePolicy", Kind::Text),
];

const POD_SPEC: &Message = &[
    (2, "containers", Kind::Repeated(CONTAINER)),
    (3, "restartPolicy", Kind::Text),
    (4, "terminationGracePeriodSeconds", Kind::Int),
    (5, "activeDeadlineSeconds", Kind::Int),
    (6, "dnsPolicy", Kind::Text),
    (7, "nodeSelector", Kind::StringMap),
    (8, "serviceAccountName", Kind::Text),
    (10, "nodeName", Kind::Text),
    (14, "securityContext", Kind::Message(EMPTY)),
    (16, "hostname", Kind::Text),
    (17, "subdomain", Kind::Text),
    (19, "schedulerName", Kind::Text),
    (20, "initContainers", Kind::Repeated(CONTAINER)),
    (24, "priorityClassName", Kind::Text),
    (30, "enableServiceLinks", Kind::Bool),
];

const POD_TEMPLATE: &Message = &[(1, "metadata", Kind::Message(OBJECT_META)), (2, "spec", Kind::Message(POD_SPEC))];

const ROLLING_UPDATE: &Message = &[(1, "maxUnavailable", Kind::IntOrString), (2, "maxSurge", Kind::IntOrString)];

const DEPLOYMENT_STRATEGY: &Message = &[(1, "type", Kind::Text), (2, "rollingUpdate", Kind::Message(ROLLING_UPDATE))];

const DEPLOYMENT_SPEC: &Message = &[
    (1, "replicas", Kind::Int),
    (2, "selector", Kind::Message(LABEL_SELECTOR)),
    (3, "template", Kind::Message(POD_TEMPLATE)),
    (4, "strategy", Kind::Message(DEPLOYMENT_STRATEGY)),
    (5, "minReadySeconds", Kind::Int),
    (6, "revisionHistoryLimit", Kind::Int),
    (7, "paused", Kind::Bool),
    (9, "progressDeadlineSeconds", Kind::Int),
];

const RESOURCE_ATTRIBUTES: &Message = &[
    (1, "namespace", Kind::Text),
    (2, "verb", Kind::Text),
    (3, "group", Kind::Text),
    (4, "version", Kind::Text),
    (5, "resource", Kind::Text),
    (6, "subresource", Kind::Text),
    (7, "name", Kind::Text),
];

const NON_RESOURCE_ATTRIBUTES: &Message = &[(1, "path", Kind::Text), (2, "verb", Kind::Text)];

const ACCESS_REVIEW_SPEC: &Message = &[
    (1, "resourceAttributes", Kind::Message(RESOURCE_ATTRIBUTES)),
    (2, "nonResourceAttributes", Kind::Message(NON_RESOURCE_ATTRIBUTES)),
    (3, "user", Kind::Text),
    (4, "groups", Kind::RepeatedText),
    (6, "uid", Kind::Text),
];

const POLICY_RULE: &Message = &[
    (1, "verbs", Kind::RepeatedText),
    (2, "apiGroups", Kind::RepeatedText),
    (3, "resources", Kind::RepeatedText),
    (4, "resourceNames", Kind::RepeatedText),
    (5, "nonResourceURLs", Kind::RepeatedText),
];

const SUBJECT: &Message =
    &[(1, "kind", Kind::Text), (2, "apiGroup", Kind::Text), (3, "name", Kind::Text), (4, "namespace", Kind::Text)];

const ROLE_REF: &Message = &[(1, "apiGroup", Kind::Text), (2, "kind", Kind::Text), (3, "name", Kind::Text)];

const AGGREGATION_RULE: &Message = &[(1, "clusterRoleSelectors", Kind::Repeated(LABEL_SELECTOR))];

fn top(kind: &str) -> Option<&'static Message> {
    const META: (u64, &str, Kind) = (1, "metadata", Kind::Message(OBJECT_META));
    match kind {
        "ConfigMap" => {
            Some(&[META, (2, "data", Kind::StringMap), (3, "binaryData", Kind::BytesMap), (4, "immutable", Kind::Bool)])
        }
        "Secret" => Some(&[
            META,
            (2, "data", Kind::BytesMap),
            (3, "type", Kind::Text),
            (4, "stringData", Kind::StringMap),
            (5, "immutable", Kind::Bool),
        ]),
        "Namespace" => Some(&[
            META,
            (2, "spec", Kind::Message(&[(1, "finalizers", Kind::RepeatedText)])),
            (3, "status", Kind::Skip),
        ]),
        "Deployment" => Some(&[META, (2, "spec", Kind::Message(DEPLOYMENT_SPEC)), (3, "status", Kind::Skip)]),
        "Role" => Some(&[META, (2, "rules", Kind::Repeated(POLICY_RULE))]),
        "ClusterRole" => Some(&[
            META,
            (2, "rules", Kind::Repeated(POLICY_RULE)),
            (3, "aggregationRule", Kind::Message(AGGREGATION_RULE)),
        ]),
        "RoleBinding" | "ClusterRoleBinding" => {
            Some(&[META, (2, "subjects", Kind::Repeated(SUBJECT)), (3, "roleRef", Kind::Message(ROLE_REF))])
        }
        "SelfSubjectRulesReview" => {
            Some(&[META, (2, "spec", Kind::Message(&[(1, "namespace", Kind::Text)])), (3, "status", Kind::Skip)])
        }
        "SelfSubjectReview" => Some(&[META, (2, "status", Kind::Skip)]),
        "TokenReview" => Some(&[
            META,
            (2, "spec", Kind::Message(&[(1, "token", Kind::Text), (2, "audiences", Kind::RepeatedText)])),
            (3, "status", Kind::Skip),
        ]),
        "SelfSubjectAccessReview" | "SubjectAccessReview" => {
            Some(&[META, (2, "spec", Kind::Message(ACCESS_REVIEW_SPEC)), (3, "status", Kind::Skip)])
        }
        _ => None,
    }
}

fn int_or_string(b: &[u8]) -> Result<Value, ProtobufError> {
    let (mut is_string, mut int, mut text_value) = (false, 0i64, String::new());
    for (n, f) in fields(b)? {
        match (n, f) {
            (1, Field::Varint(v)) => is_string = v == 1,
            (2, Field::Varint(v)) => int = v as i32 as i64,
            (3, Field::Bytes(x)) => text_value = text(x)?,
            _ => {}
        }
    }
    Ok(if is_string { json!(text_value) } else { json!(int) })
}

/// Decodes a message by its descriptor. A field the descriptor does not know is refused rather
/// than dropped: this server would otherwise lose what the client meant.
fn message(b: &[u8], desc: &'static Message, path: &str) -> Result<Value, ProtobufError> {
    let mut obj = Map::new();
    for (n, f) in fields(b)? {
        // Go's encoder writes every non-pointer field, set or not: a zero value says nothing.
        let zero = matches!(f, Field::Varint(0)) || matches!(f, Field::Bytes(b) if b.is_empty());
        let Some((_, name, how)) = desc.iter().find(|(num, _, _)| *num == n) else {
            if zero {
                continue;
            }
            return Err(ProtobufError::Kind(format!("{path} (field {n})")));
        };
        if zero && matches!(how, Kind::Text | Kind::Time | Kind::Bool) {
            continue;
        }
        let name = (*name).to_owned();
        let value = match (how, f) {
            (Kind::Skip, _) => continue,
            (Kind::Text, Field::Bytes(x)) => json!(text(x)?),
            (Kind::Int, Field::Varint(v)) => json!(v as i64),
            (Kind::Bool, Field::Varint(v)) => json!(v != 0),
            (Kind::Time, Field::Bytes(x)) => time(x)?,
            (Kind::IntOrString, Field::Bytes(x)) => int_or_string(x)?,
            (Kind::StringMap | Kind::BytesMap | Kind::QuantityMap, Field::Bytes(x)) => {
                let (k, mut v) = entry(x, matches!(how, Kind::BytesMap))?;
                if matches!(how, Kind::QuantityMap) {
                    // A Quantity is a message whose field 1 is the string.
                    let raw = entry_value_bytes(x)?;
                    v = json!(fields(raw)?
                        .into_iter()
                        .find_map(|(n, f)| match (n, f) {
                            (1, Field::Bytes(s)) => text(s).ok(),
                            _ => None,
                        })
                        .unwrap_or_default());
                }
                if let Some(m) = obj.entry(name).or_insert_with(|| json!({})).as_object_mut() {
                    m.insert(k, v);
                }
                continue;
            }
            (Kind::RepeatedText, Field::Bytes(x)) => {
                if let Some(a) = obj.entry(name).or_insert_with(|| json!([])).as_array_mut() {
                    a.push(json!(text(x)?));
                }
                continue;
            }
            (Kind::Repeated(inner), Field::Bytes(x)) => {
                let item = message(x, inner, &format!("{path}.{name}"))?;
                if let Some(a) = obj.entry(name).or_insert_with(|| json!([])).as_array_mut() {
                    a.push(item);
                }
                continue;
            }
            (Kind::Message(inner), Field::Bytes(x)) => message(x, inner, &format!("{path}.{name}"))?,
            _ => return Err(ProtobufError::WireType(n)),
        };
        obj.insert(name, value);
    }
    Ok(Value::Object(obj))
}

/// The raw bytes of a map entry's value (field 2).
fn entry_value_bytes(b: &[u8]) -> Result<&[u8], ProtobufError> {
    for (n, f) in fields(b)? {
        if let (2, Field::Bytes(x)) = (n, f) {
            return Ok(x);
        }
    }
    Ok(&[])
}

/// Decodes a protobuf request body into the object's JSON.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let inner = body.strip_prefix(b"k8s\0").ok_or(ProtobufError::NoEnvelope)?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (n, f) in fields(inner)? {
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                for (n, f) in fields(tm)? {
                    match (n, f) {
                        (1, Field::Bytes(x)) => api_version = text(x)?,
                        (2, Field::Bytes(x)) => kind = text(x)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(x)) => raw = x,
            _ => {}
        }
    }
    let desc = top(&kind).ok_or_else(|| ProtobufError::Kind(kind.clone()))?;
    let mut obj = message(raw, desc, &kind)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn bytes_field(n: u64, b: &[u8], out: &mut Vec<u8>) {
        varint((n << 3) | 2, out);
        varint(b.len() as u64, out);
        out.extend_from_slice(b);
    }

    fn map_entry(n: u64, k: &str, v: &[u8], out: &mut Vec<u8>) {
        let mut e = Vec::new();
        bytes_field(1, k.as_bytes(), &mut e);
        bytes_field(2, v, &mut e);
        bytes_field(n, &e, out);
    }

    /// What kubectl sends for `kubectl create configmap NAME --from-literal=K=V`.
    fn configmap(name: &str, data: &[(String, String)]) -> Vec<u8> {
        let mut meta = Vec::new();
        bytes_field(1, name.as_bytes(), &mut meta);
        map_entry(11, "app", b"demo", &mut meta);
        let mut cm = Vec::new();
        bytes_field(1, &meta, &mut cm);
        for (k, v) in data {
            map_entry(2, k, v.as_bytes(), &mut cm);
        }
        let mut tm = Vec::new();
        bytes_field(1, b"v1", &mut tm);
        bytes_field(2, b"ConfigMap", &mut tm);
        let mut unknown = Vec::new();
        bytes_field(1, &tm, &mut unknown);
        bytes_field(2, &cm, &mut unknown);
        let mut body = b"k8s\0".to_vec();
        body.extend(unknown);
        body
    }

    #[test]
    fn a_configmap_decodes_to_its_json() {
        let body = configmap("envoy", &[("envoy.yaml".into(), "static_resources: {}".into())]);
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "envoy", "labels": {"app": "demo"}}, "data": {"envoy.yaml": "static_resources: {}"}})
        );
    }

    #[test]
    fn unset_fields_written_as_zero_values_are_left_out() {
        let mut meta = Vec::new();
        bytes_field(1, b"web", &mut meta);
        bytes_field(2, b"", &mut meta); // generateName: ""
        bytes_field(99, b"", &mut meta); // a field this server does not read, unset
        let mut cm = Vec::new();
        bytes_field(1, &meta, &mut cm);
        let mut tm = Vec::new();
        bytes_field(1, b"v1", &mut tm);
        bytes_field(2, b"ConfigMap", &mut tm);
        let mut body = b"k8s\0".to_vec();
        bytes_field(1, &tm, &mut body);
        bytes_field(2, &cm, &mut body);
        let v = decode(&body).unwrap();
        assert_eq!(v["metadata"], json!({"name": "web"}));
    }

    #[test]
    fn other_kinds_and_broken_bodies_are_refused() {
        assert_eq!(decode(b"{}"), Err(ProtobufError::NoEnvelope));
        let body = configmap("x", &[]);
        assert_eq!(decode(&body[..body.len() - 3]), Err(ProtobufError::Truncated));
        let mut tm = Vec::new();
        bytes_field(2, b"Pod", &mut tm);
        let mut body = b"k8s\0".to_vec();
        bytes_field(1, &tm, &mut body);
        assert_eq!(decode(&body), Err(ProtobufError::Kind("Pod".into())));
    }

    proptest! {
        #[test]
        fn configmaps_roundtrip(name in "[a-z][a-z0-9-]{0,20}", data in proptest::collection::btree_map("[A-Za-z0-9._-]{1,10}", ".*", 0..5)) {
            let pairs: Vec<(String, String)> = data.clone().into_iter().collect();
            let v = decode(&configmap(&name, &pairs)).unwrap();
            prop_assert_eq!(&v["metadata"]["name"], &json!(name));
            for (k, val) in &data {
                prop_assert_eq!(&v["data"][k], &json!(val));
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut body = b"k8s\0".to_vec();
            body.extend(bytes);
            let _ = decode(&body);
        }
    }
}
