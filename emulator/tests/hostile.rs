//! Hostile request bodies for the emulator's own decoders, kept as regression tests beside
//! the fuzz targets (`fuzz/`): protobuf bodies that lie about their lengths or are noise, and
//! patches of every kind that are deep, huge, or aimed at nothing.

use serde_json::{json, Value};

/// xorshift: reproducible noise.
struct Noise(u64);

impl Noise {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                self.0 as u8
            })
            .collect()
    }
}

#[test]
fn protobuf_noise_and_lying_lengths_are_refused() {
    let mut noise = Noise(0x2545_F491_4F6C_DD1D);
    for n in 0..5000 {
        let mut body = b"k8s\0".to_vec();
        body.extend(noise.bytes(n % 300));
        let _ = emulator::protobuf::decode(&body);
    }
    // A length-delimited field that claims 2^63 bytes, a varint that never ends, a field 0.
    for tail in [
        &b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"[..],
        &[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x00, 0x01],
    ] {
        let mut body = b"k8s\0".to_vec();
        body.extend_from_slice(tail);
        assert!(emulator::protobuf::decode(&body).is_err(), "{tail:?}");
    }
    assert!(emulator::protobuf::decode(b"").is_err());
    assert!(emulator::protobuf::decode(b"{\"kind\": \"Namespace\"}").is_err());
}

fn pipeline() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"},
        "spec": {"containers": [{"name": "a", "image": "i"}]}})
}

const KINDS: [&str; 3] =
    ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

#[test]
fn patches_nested_a_hundred_thousand_deep_are_a_400() {
    for kind in KINDS {
        for body in ["[".repeat(100_000), format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000))] {
            let mut obj = pipeline();
            let e = emulator::apply_patch(&mut obj, kind, body.as_bytes(), true).expect_err(kind);
            assert_eq!(e.code, 400, "{kind}: {e}");
            assert_eq!(obj, pipeline(), "{kind}: a refused patch changed the object");
        }
    }
}

#[test]
fn patches_aimed_at_nothing_or_of_the_wrong_shape_are_refused_in_words() {
    let cases: [(&str, &str); 9] = [
        (KINDS[0], r#"[{"op": "replace", "path": "/spec/containers/99999999999999999999", "value": 1}]"#),
        (KINDS[0], r#"[{"op": "move", "from": "/spec", "path": "/spec/containers"}]"#),
        (KINDS[0], r#"[{"op": "test", "path": "/data/a", "value": "2"}]"#),
        (KINDS[0], r#"{"op": "add"}"#),
        (KINDS[2], r#"{"spec": {"containers": [{"$patch": "delete"}]}}"#),
        (KINDS[2], r#"{"spec": {"containers": {"$patch": "replace"}}}"#),
        (KINDS[2], r#"{"$setElementOrder/spec": [1, 2]}"#),
        (KINDS[2], r#"["not", "an", "object"]"#),
        ("application/yaml", "{}"),
    ];
    for (kind, body) in cases {
        let mut obj = pipeline();
        if let Err(e) = emulator::apply_patch(&mut obj, kind, body.as_bytes(), true) {
            assert!((400..500).contains(&e.code), "{kind} {body}: {e}");
            assert!(!e.message.is_empty() && !e.message.contains("panicked"));
        }
    }
}

#[test]
fn a_merge_patch_of_one_mebibyte_strings_is_applied_or_refused_never_a_crash() {
    let huge = "b".repeat(1024 * 1024);
    for kind in &KINDS[1..] {
        let mut obj = pipeline();
        let body = json!({"data": {"a": huge, huge.clone(): "x"}}).to_string();
        emulator::apply_patch(&mut obj, kind, body.as_bytes(), true).expect("applied");
        assert_eq!(obj["data"]["a"].as_str().map(str::len), Some(huge.len()));
    }
    let mut obj = pipeline();
    assert!(emulator::apply_patch(&mut obj, KINDS[1], &[0xff, 0xfe, b'{'], true).is_err(), "not UTF-8");
}
