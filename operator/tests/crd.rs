//! The CRD in `deploy/crds/` is the one generated from the Rust type.

#[test]
fn the_crd_file_is_generated_from_the_type() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/crds/pipelines.core.calyptia.com.yaml");
    let generated = operator::crd::crd_yaml();
    if std::env::var_os("UPDATE_CRD").is_some() {
        std::fs::write(path, &generated).expect("write the CRD");
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "deploy/crds/pipelines.core.calyptia.com.yaml differs from the type; regenerate it with `UPDATE_CRD=1 cargo test -p operator --test crd`"
    );
}
