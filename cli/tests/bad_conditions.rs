//! `sidecarctl` when things go wrong around it: a console that is down, one that never answers
//! (`--timeout`), one that answers garbage, and spec files that are not text — each one sentence
//! on stderr and exit 1 (2 for usage), never a panic.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

fn sidecarctl(server: &str, args: &[&str]) -> (i32, String, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sidecarctl"))
        .args(args)
        .env("SIDECARCTL_SERVER", server)
        .env_remove("SIDECARCTL_TOKEN")
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("sidecarctl runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap_or(-1), err, start.elapsed())
}

/// A server that accepts connections and then does `answer` with each.
fn server(answer: fn(std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer(conn));
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_console_that_never_answers_is_given_up_on_after_the_timeout() {
    let silent = server(|mut c| {
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf);
        std::thread::sleep(Duration::from_secs(30));
    });
    let (code, err, took) = sidecarctl(&silent, &["--timeout", "1", "get", "pipelines"]);
    assert_eq!(code, 1);
    assert_eq!(err.trim(), format!("error: cannot reach the Sidecar Console at {silent}: it did not answer within 1 s (--timeout SECONDS waits longer)"));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let (code, err, _) = sidecarctl(&silent, &["--timeout", "soon", "get", "pipelines"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("\"soon\" is not a number of seconds"), "{err}");
}

#[test]
fn a_console_that_answers_garbage_or_is_down_gets_one_sentence() {
    let garbage = server(|mut c| {
        let mut buf = [0u8; 1024];
        let _ = c.read(&mut buf);
        let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!");
    });
    let (code, err, _) = sidecarctl(&garbage, &["get", "pipelines"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!("error: cannot reach the Sidecar Console at {garbage}: unreadable answer")),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let closed = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port");
    let down = format!("http://{closed}");
    let (code, err, _) = sidecarctl(&down, &["get", "pipelines"]);
    assert_eq!(code, 1);
    assert!(err.contains("is it running? (--server or SIDECARCTL_SERVER)"), "{err}");
}

#[test]
fn spec_files_that_are_not_text_are_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().expect("dir");
    let binary = dir.path().join("binary.json");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x7b]).expect("write");
    let binary = binary.to_string_lossy().into_owned();
    for args in
        [vec!["validate", binary.as_str()], vec!["create", "sidecar", "--pipeline", "x", "--spec", binary.as_str()]]
    {
        let (code, err, _) = sidecarctl("http://127.0.0.1:9", &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(err.trim(), format!("error: cannot read {binary}: stream did not contain valid UTF-8"));
    }
}
