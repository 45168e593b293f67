//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: a container's log, as the kubelet serves it
//! through the API server (`container`, `follow`, `tailLines`, `previous`, `timestamps`,
//! `limitBytes`), with Kubernetes' error messages.

use crate::error::ApiError;
use crate::resources::PODS;
use crate::store::{ChangeKind, Store};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The log of one container of a pod.
pub fn pod_log(s: &Arc<Store>, ns: &str, name: &str, q: &HashMap<String, String>) -> Result<Response, ApiError> {
    let pod = s.get(&PODS, Some(ns), name)?;
    let containers = names(&pod, "containers");
    let inits = names(&pod, "initContainers");
    let container = match q.get("container").filter(|c| !c.is_empty()) {
        Some(c) => c.clone(),
        None if containers.len() == 1 && inits.is_empty() => containers[0].clone(),
        None => {
            let mut msg =
                format!("a container name must be specified for pod {name}, choose one of: [{}]", containers.join(" "));
            if !inits.is_empty() {
                msg.push_str(&format!(" or one of the init containers: [{}]", inits.join(" ")));
            }
            return Err(ApiError::bad_request(msg));
        }
    };
    if !containers.contains(&container) && !inits.contains(&container) {
        return Err(ApiError::bad_request(format!("container {container} is not valid for pod {name}")));
    }
    let previous = q.get("previous").is_some_and(|v| v == "true" || v == "1");
    let status = ["containerStatuses", "initContainerStatuses"].iter().find_map(|f| {
        pod.pointer(&format!("/status/{f}"))
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|c| c["name"] == container.as_str()))
            .cloned()
    });
    // A container that ran before (crash-looping) has the log of its last run; one that never
    // started has none yet.
    let ran = status.as_ref().is_some_and(|c| c.pointer("/lastState/terminated").is_some());
    if !previous && !ran {
        if let Some(reason) = status.as_ref().and_then(|c| c.pointer("/state/waiting/reason")).and_then(Value::as_str) {
            let why = match reason {
                "ImagePullBackOff" | "ErrImagePull" => "trying and failing to pull image",
                other => other,
            };
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {why}"
            )));
        }
    }
    let key = (ns.to_owned(), name.to_owned(), container.clone());
    let (lines, mut live) = s.logs.read(&key, previous);
    let Some(lines) = lines else {
        return Err(ApiError::bad_request(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    };
    let timestamps = q.get("timestamps").is_some_and(|v| v == "true" || v == "1");
    let render = move |time: &str, text: &str| {
        if timestamps {
            format!("{time} {text}\n")
        } else {
            format!("{text}\n")
        }
    };
    let tail = q.get("tailLines").and_then(|t| t.parse::<i64>().ok()).filter(|t| *t >= 0);
    let skip = tail.map_or(0, |t| lines.len().saturating_sub(t as usize));
    let mut text = String::new();
    for l in &lines[skip..] {
        text.push_str(&render(&l.time, &l.text));
    }
    if let Some(limit) = q.get("limitBytes").and_then(|l| l.parse::<usize>().ok()) {
        let mut cut = limit.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    let follow = q.get("follow").is_some_and(|v| v == "true" || v == "1") && !previous;
    let content_type = [(header::CONTENT_TYPE, "text/plain")];
    if !follow {
        return Ok((content_type, text).into_response());
    }
    // Following: the lines so far, then new ones until the pod goes or the client leaves.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let (_, mut changes) = s.watch_from(s.resource_version())?;
    tokio::spawn(async move {
        if !text.is_empty() && tx.send(Ok(Bytes::from(text))).await.is_err() {
            return;
        }
        loop {
            let chunk = tokio::select! {
                _ = tx.closed() => return,
                line = live.recv() => match line {
                    Ok(l) if l.container == key => render(&l.time, &l.text),
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                },
                change = changes.recv() => match change {
                    Ok(c) if c.kind == ChangeKind::Deleted
                        && std::ptr::eq(c.resource, &PODS)
                        && c.object.view.pointer("/metadata/name").and_then(Value::as_str) == Some(key.1.as_str())
                        && c.object.view.pointer("/metadata/namespace").and_then(Value::as_str) == Some(key.0.as_str()) => return,
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return,
                },
            };
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
    });
    Ok((content_type, Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx))).into_response())
}
