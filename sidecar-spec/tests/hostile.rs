//! Hostile input found by fuzzing's usual suspects, kept as regression tests: nesting far past
//! any real spec, huge strings, and every error's range inside the text.

use sidecar_spec::{check, CheckError, Spans};

#[test]
fn nesting_of_a_hundred_thousand_levels_is_an_error_not_a_crash() {
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let text = format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
        assert!(matches!(check(&text), Err(CheckError::Syntax(_))), "{open}");
        // The editor's mapping gives up on it too, without a stack overflow.
        assert!(Spans::parse(&text).is_none(), "{open}");
        // Inside a spec field.
        let text = format!(
            "{{\"name\": \"a\", \"image\": \"b\", \"env\": {}{}}}",
            open.repeat(100_000),
            close.repeat(100_000)
        );
        assert!(check(&text).is_err());
        assert!(Spans::parse(&text).is_none());
    }
}

#[test]
fn a_string_of_one_mebibyte_is_refused_by_name_and_not_echoed_whole() {
    let huge = "a".repeat(1024 * 1024);
    let text = format!("{{\"name\": \"{huge}\", \"image\": \"nginx\"}}");
    let Err(CheckError::Invalid(errors)) = check(&text) else { panic!("a 1 MiB name is accepted") };
    let e = errors.iter().find(|e| e.field.as_str() == "name").expect("an error on name");
    assert!(e.to_string().len() < 4096, "the error repeats the whole value: {} bytes", e.to_string().len());
    let spans = Spans::parse(&text).expect("valid JSON");
    let r = spans.range("name");
    assert_eq!(&text[r.start..r.start + 2], "\"a");
    assert_eq!(r.end - r.start, huge.len() + 2);
}

#[test]
fn every_errors_range_is_inside_the_text_whatever_the_path() {
    let text = r#"{"name": "Ä", "image": "", "ports": [{"containerPort": -1}, {}], "volumeMounts": [{"name": "v"}]}"#;
    let spans = Spans::parse(text).expect("valid JSON");
    let Err(CheckError::Invalid(errors)) = check(text) else { panic!("valid") };
    for e in &errors {
        let r = spans.range(e.field.as_str());
        assert!(r.start <= r.end && r.end <= text.len() && text.is_char_boundary(r.start), "{e}: {r:?}");
    }
    for path in ["", "ports[9]", "ports[x]", "a.b.c", "[0]", "volumeMounts[0].name.x", "env[18446744073709551616]"] {
        let r = spans.range(path);
        assert!(r.start <= r.end && r.end <= text.len(), "{path}: {r:?}");
    }
}
