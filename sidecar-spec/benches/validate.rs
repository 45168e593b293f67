//! Validating each documented example against parsing the same text into a `serde_json::Value`.
//!
//! Criterion measures both; then the two are timed side by side, interleaved, in this same run,
//! and the ratio validate / parse-only is printed (goal: at most 3).

use criterion::{criterion_group, Criterion};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn benches(c: &mut Criterion) {
    for ex in sidecar_spec::examples::ALL {
        let mut g = c.benchmark_group(ex.file);
        g.bench_function("parse-only", |b| b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(ex.json))));
        g.bench_function("validate", |b| b.iter(|| sidecar_spec::check(black_box(ex.json))));
        g.finish();
    }
}

criterion_group!(group, benches);

/// Median time per call over `rounds` interleaved rounds of `batch` calls each.
fn side_by_side(text: &str) -> (Duration, Duration) {
    let (rounds, batch) = (101, 2000);
    let mut parse = Vec::with_capacity(rounds);
    let mut validate = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..batch {
            black_box(serde_json::from_str::<serde_json::Value>(black_box(text)).ok());
        }
        parse.push(t.elapsed() / batch);
        let t = Instant::now();
        for _ in 0..batch {
            black_box(sidecar_spec::check(black_box(text)).ok());
        }
        validate.push(t.elapsed() / batch);
    }
    parse.sort();
    validate.sort();
    (parse[rounds / 2], validate[rounds / 2])
}

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs this binary in test mode; the ratio only means something in a
    // real bench run.
    if std::env::args().any(|a| a == "--bench") {
        println!("\nvalidate / parse-only, measured side by side (median of 101 rounds):");
        for ex in sidecar_spec::examples::ALL {
            let (p, v) = side_by_side(ex.json);
            println!(
                "  {:<20} parse {:>9.2?}  validate {:>9.2?}  ratio {:.2}x",
                ex.file,
                p,
                v,
                v.as_secs_f64() / p.as_secs_f64()
            );
        }
    }
}
