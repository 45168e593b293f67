//! Helpers the integration tests share.

use emulator::Emulator;
use serde_json::Value;

/// Creates `obj` (of `api_version`/`kind`) in the emulator's store, as a setup step.
pub fn create_object(emulator: &Emulator, api_version: &str, kind: &str, obj: Value) {
    let rt = emulator
        .store()
        .registry
        .all()
        .into_iter()
        .find(|t| t.api_version() == api_version && t.kind == kind)
        .expect("served");
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).map(str::to_owned);
    emulator.store().create(rt, ns.as_deref(), obj, &emulator::WriteOptions::default()).expect("created");
}
