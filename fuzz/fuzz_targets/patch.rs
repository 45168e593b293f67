//! A JSON patch, a merge patch and a strategic merge patch of any shape applied to an object of
//! any shape: applied or refused with an error, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

const KINDS: [&str; 3] =
    ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

fuzz_target!(|input: (u8, bool, &str, &[u8])| {
    let (kind, strategic, target, patch) = input;
    let Ok(mut obj) = serde_json::from_str::<serde_json::Value>(target) else { return };
    let _ = emulator::apply_patch(&mut obj, KINDS[kind as usize % KINDS.len()], patch, strategic);
});
