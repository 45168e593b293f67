//! Any bytes as a spec file: the decoder and validator answer (a spec or errors), the editor's
//! mapping of each error's path to a range of the text stays inside the text, and positions
//! of any offset are found; never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let checked = sidecar_spec::check(text);
    if let Some(spans) = sidecar_spec::Spans::parse(text) {
        if let Err(sidecar_spec::CheckError::Invalid(errors)) = &checked {
            for e in errors {
                let r = spans.range(e.field.as_str());
                assert!(r.start <= r.end && r.end <= text.len(), "{r:?} outside {} bytes", text.len());
                assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
        }
    }
    let offset = data.len() / 2;
    if text.is_char_boundary(offset) {
        let p = sidecar_spec::position(text, offset);
        assert!(p.line >= 1 && p.column >= 1);
    }
});
