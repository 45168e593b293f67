//! Any bytes as a protobuf request body (`application/vnd.kubernetes.protobuf`): decoded to an
//! object or refused, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = emulator::protobuf::decode(data);
    // Also with the envelope, so that the fuzzer starts inside it.
    let mut framed = b"k8s\0".to_vec();
    framed.extend_from_slice(data);
    let _ = emulator::protobuf::decode(&framed);
});
