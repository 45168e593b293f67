//! What a keystroke in the editor costs before Monaco draws: checking the whole draft with the
//! validator and placing each error on its text, for a 200-line spec (the browser's own figure,
//! with Monaco's marker update, is printed by `cargo xtask bench`).

use app::pages::editor::draft;
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;

fn spec(bad: bool) -> String {
    let ports: Vec<_> = (0..26)
        .map(|i| json!({"name": format!("p{i}"), "containerPort": if bad && i == 7 { 70000 } else { 9000 + i }, "protocol": "TCP"}))
        .collect();
    let env: Vec<_> = (0..14).map(|i| json!({"name": format!("VAR_{i}"), "value": format!("value {i}")})).collect();
    let v = json!({"name": "bench", "image": "nginx:1.27", "env": env, "ports": ports,
        "livenessProbe": {"httpGet": {"path": "/", "port": "p1"}}});
    serde_json::to_string_pretty(&v).expect("prints")
}

fn bench(c: &mut Criterion) {
    let valid = spec(false);
    let invalid = spec(true);
    assert_eq!(valid.lines().count(), 200);
    assert_eq!(draft::check(&invalid, None).problems.len(), 1);
    c.bench_function("check and place, 200 lines, valid", |b| b.iter(|| draft::check(&valid, None)));
    c.bench_function("check and place, 200 lines, one error", |b| b.iter(|| draft::check(&invalid, None)));
    let broken = invalid.replacen("\"image\"", "\"image", 1);
    c.bench_function("check and place, 200 lines, not JSON", |b| b.iter(|| draft::check(&broken, None)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
