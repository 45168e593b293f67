//! `sidecarctl` when things go wrong around it: a console that is down, one that never answers
//! (`--timeout`), one that answers garbage, and spec files that are not text — each one sentence
//! on stderr and exit 1 (2 for usage), never a panic.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
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

#[test]
fn spec_files_over_1_mib_are_refused_without_being_read_or_sent() {
    let dir = tempfile::tempdir().expect("dir");
    // Sparse: 5 MiB that nobody reads (reading it would take as long as writing it).
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge).and_then(|f| f.set_len(5 * 1024 * 1024)).expect("huge file");
    let huge = huge.to_string_lossy().into_owned();
    for args in [vec!["validate", huge.as_str()], vec!["create", "sidecar", "--pipeline", "x", "--spec", huge.as_str()]]
    {
        let (code, err, _) = sidecarctl("http://127.0.0.1:9", &args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(err.trim(), format!("error: {huge}: a sidecar spec may be at most 1 MiB, and this one is 5.0 MiB"));
    }
    // A stream that says nothing of its size is read up to the bound, and no further.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sidecarctl"))
        .args(["validate", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sidecarctl runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let block = vec![b' '; 64 * 1024];
        // Endless, until sidecarctl stops reading (then the pipe breaks).
        while stdin.write_all(&block).is_ok() {}
    });
    let out = child.wait_with_output().expect("sidecarctl ends");
    feeder.join().expect("feeder");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.trim(), "error: standard input: a sidecar spec may be at most 1 MiB, and this one is larger");
}

/// A console whose log stream sends a line every 50 ms for as long as the connection lasts,
/// or (`cut`) sends three and drops the connection in the middle of the stream.
fn log_server(cut: bool) -> String {
    fn endless(c: std::net::TcpStream) {
        lines(c, usize::MAX);
    }
    fn three(c: std::net::TcpStream) {
        lines(c, 3);
    }
    fn lines(mut c: std::net::TcpStream, n: usize) {
        let mut buf = [0u8; 4096];
        let _ = c.read(&mut buf);
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        if c.write_all(head.as_bytes()).is_err() {
            return;
        }
        for i in 0..n {
            let event = format!("event: line\ndata: {{\"replica\":\"logs-0\",\"line\":\"line {i}\"}}\n\n");
            if c.write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes()).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // No final chunk: the connection just goes.
        let _ = c.shutdown(std::net::Shutdown::Both);
    }
    server(if cut { three } else { endless })
}

/// `logs sidecar ID -f` against `server`, with its output piped to the test, and Ctrl-C doing
/// what it does in a terminal.
fn follow(server: &str) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_sidecarctl"));
    // A test started in the background by a shell inherits SIGINT ignored (and would pass that
    // on), where a command typed in a terminal has it at its default.
    // SAFETY: signal(2) is async-signal-safe, as a pre_exec closure must be.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    command
        .args(["logs", "sidecar", "--sidecar", "0123456789abcdef", "-f"])
        .env("SIDECARCTL_SERVER", server)
        .env_remove("SIDECARCTL_TOKEN")
        .env("HOME", std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sidecarctl runs")
}

/// Waits (5 s at most) for `child` to end.
fn ended(child: &mut std::process::Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "sidecarctl did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read stderr");
    err
}

#[test]
fn an_interrupted_logs_follow_ends_at_once_and_quietly() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let console = log_server(false);

    // Ctrl-C: the process ends as the signal says (a shell reports 130), without a word.
    let mut child = follow(&console);
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("a line");
    assert_eq!(first, "[logs-0] line 0\n");
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(interrupted.success());
    let status = ended(&mut child);
    assert_eq!(status.signal(), Some(2), "{status:?}");
    assert_eq!(stderr_of(&mut child), "");

    // The reader goes away (`| head -1`): sidecarctl stops, exit 0, without a word.
    let mut child = follow(&console);
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("a line");
    drop(out);
    let status = ended(&mut child);
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

#[test]
fn a_log_stream_the_console_drops_is_said_in_one_sentence() {
    let console = log_server(true);
    let mut child = follow(&console);
    let status = ended(&mut child);
    let mut out = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("stdout");
    assert_eq!(out, "[logs-0] line 0\n[logs-0] line 1\n[logs-0] line 2\n");
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot reach the Sidecar Console at {console}: log stream broke")),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
