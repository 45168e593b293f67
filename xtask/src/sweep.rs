//! Keeps a long-lived build folder to what the builds of the current tree use.
//!
//! Cargo never deletes a build product. A folder shared by many runs (CI keeps one under
//! `~/.cache`) gains a full set of test binaries, a few hundred MB each, whenever a dependency, a
//! feature or the compiler changes, and incremental data for every session of rustc, until the
//! disk is full. After a run, this asks cargo which products its builds use (a no-op rebuild with
//! `--message-format=json` lists fresh units too) and deletes the other units' files.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::SystemTime;

use crate::Result;

/// What a sweep removed and what is left.
pub struct Swept {
    pub removed_bytes: u64,
    pub removed_entries: usize,
}

/// Asks cargo which files `builds` use (each a cargo command line, as run before) and deletes the
/// other units' files under the profile folders those builds write to. Incremental data of a
/// crate is kept when rustc wrote it after `started`, else only the newest.
pub fn sweep(root: &Path, builds: &[&[&str]], started: SystemTime) -> Result<Swept> {
    let mut used = Used::default();
    for args in builds {
        // `--message-format` goes before a `--` that hands the rest to a tool (clippy's lints).
        let split = args.iter().position(|a| *a == "--").unwrap_or(args.len());
        let listing: Vec<&str> = args[..split]
            .iter()
            .copied()
            .chain(["--message-format=json"])
            .chain(args[split..].iter().copied())
            .collect();
        let out = crate::cargo_command(&listing)
            .current_dir(root)
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        if !out.status.success() {
            return Err(format!("cargo {} failed while listing its build products", args.join(" ")));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            used.read(line);
        }
    }
    // A binary is reported by its uplifted copy (PROFILE/NAME), a hard link to deps/NAME-HASH.
    for profile in &used.profiles {
        let Ok(entries) = std::fs::read_dir(profile.join("deps")) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let (Some(hash), Some(id)) = (unit_hash(&name), inode(&entry.path())) {
                if used.inodes.contains(&id) {
                    used.hashes.insert(hash.to_owned());
                }
            }
        }
    }
    let mut swept = Swept { removed_bytes: 0, removed_entries: 0 };
    for profile in &used.profiles {
        // A unit's fingerprint goes with its products; a cdylib's products carry no hash, so a
        // fingerprint whose unit left nothing in deps or build stays.
        let mut stale = HashSet::new();
        for folder in ["deps", "build", ".fingerprint"] {
            let Ok(entries) = std::fs::read_dir(profile.join(folder)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(hash) = unit_hash(&name) else { continue };
                let remove_it = if folder == ".fingerprint" {
                    stale.contains(hash)
                } else if used.hashes.contains(hash) {
                    false
                } else {
                    stale.insert(hash.to_owned());
                    true
                };
                if remove_it {
                    remove(&entry.path(), &mut swept);
                }
            }
        }
        sweep_incremental(&profile.join("incremental"), started, &mut swept);
    }
    Ok(swept)
}

/// The units and profile folders named by cargo's JSON messages.
#[derive(Default)]
struct Used {
    hashes: HashSet<String>,
    inodes: HashSet<(u64, u64)>,
    profiles: BTreeSet<PathBuf>,
}

impl Used {
    fn read(&mut self, line: &str) {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { return };
        let mut paths: Vec<&str> = Vec::new();
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                paths.extend(msg["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()));
                paths.extend(msg["executable"].as_str());
            }
            Some("build-script-executed") => paths.extend(msg["out_dir"].as_str()),
            _ => {}
        }
        for path in paths {
            let path = Path::new(path);
            self.inodes.extend(inode(path));
            // PROFILE/deps/NAME-HASH.ext, PROFILE/build/PKG-HASH/..., or PROFILE/NAME (uplifted).
            for ancestor in path.ancestors() {
                let Some(name) = ancestor.file_name().map(|n| n.to_string_lossy()) else { break };
                if let Some(hash) = unit_hash(&name) {
                    self.hashes.insert(hash.to_owned());
                }
                if name == "deps" || name == "build" {
                    if let Some(profile) = ancestor.parent() {
                        self.profiles.insert(profile.to_path_buf());
                    }
                    break;
                }
            }
        }
    }
}

/// A file's identity, shared by its hard links.
fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The unit hash in a build product's name: `NAME-0123456789abcdef[.ext]`.
fn unit_hash(name: &str) -> Option<&str> {
    let stem = name.split('.').next()?;
    let (_, hash) = stem.rsplit_once('-')?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hash)
}

/// rustc names incremental folders `CRATE-SESSIONHASH`, unrelated to unit hashes: keep those
/// written by this run, or the newest of a crate that was not rebuilt.
fn sweep_incremental(folder: &Path, started: SystemTime, swept: &mut Swept) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut by_crate: HashMap<String, Vec<(SystemTime, PathBuf)>> = HashMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((krate, _)) = name.rsplit_once('-') else { continue };
        let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
        by_crate.entry(krate.to_owned()).or_default().push((modified, entry.path()));
    }
    for mut dirs in by_crate.into_values() {
        dirs.sort();
        let newest = dirs.len() - 1;
        for (i, (modified, path)) in dirs.iter().enumerate() {
            if i != newest && *modified < started {
                remove(path, swept);
            }
        }
    }
}

fn remove(path: &Path, swept: &mut Swept) {
    let bytes = freed_by(path);
    let done = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    if done.is_ok() {
        if std::env::var_os("XTASK_SWEEP_VERBOSE").is_some() {
            println!("removed {}", path.display());
        }
        swept.removed_bytes += bytes;
        swept.removed_entries += 1;
    }
}

/// Bytes that deleting `path` frees: a file with another hard link (cargo's uplifted copies)
/// frees nothing.
fn freed_by(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if meta.is_dir() {
        std::fs::read_dir(path).map(|entries| entries.flatten().map(|e| freed_by(&e.path())).sum()).unwrap_or(0)
    } else if meta.nlink() > 1 {
        0
    } else {
        meta.len()
    }
}

/// Bytes under `path`, each hard-linked file once.
pub fn size(path: &Path) -> u64 {
    fn walk(path: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
        if meta.is_dir() {
            let Ok(entries) = std::fs::read_dir(path) else { return 0 };
            entries.flatten().map(|e| walk(&e.path(), seen)).sum()
        } else if seen.insert((meta.dev(), meta.ino())) {
            meta.len()
        } else {
            0
        }
    }
    walk(path, &mut HashSet::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_hashes_are_read_from_product_names() {
        assert_eq!(unit_hash("libserver-c8d60ee3779093f6.rlib"), Some("c8d60ee3779093f6"));
        assert_eq!(unit_hash("http-0ec18fd955674eea"), Some("0ec18fd955674eea"));
        assert_eq!(unit_hash("ring-967ca540a8e2cc47"), Some("967ca540a8e2cc47"));
        assert_eq!(unit_hash("sidecar-console"), None);
        assert_eq!(unit_hash("app-04hk6y9d4plk2"), None);
    }

    #[test]
    fn messages_name_units_and_profiles() {
        let mut used = Used::default();
        used.read(r#"{"reason":"compiler-artifact","filenames":["/t/debug/deps/libapp-9f88010a450d59c5.rlib"],"executable":null}"#);
        used.read(r#"{"reason":"compiler-artifact","filenames":["/t/debug/build/ring-967ca540a8e2cc47/build_script_build-967ca540a8e2cc47"],"executable":null}"#);
        used.read(r#"{"reason":"build-script-executed","out_dir":"/t/debug/build/ring-1111111111111111/out"}"#);
        used.read(r#"{"reason":"compiler-artifact","filenames":["/t/debug/sidecar-console"],"executable":"/t/debug/deps/server-aaaaaaaaaaaaaaaa"}"#);
        used.read("running 3 tests");
        let hashes: BTreeSet<&str> = used.hashes.iter().map(String::as_str).collect();
        assert_eq!(
            hashes,
            BTreeSet::from(["9f88010a450d59c5", "967ca540a8e2cc47", "1111111111111111", "aaaaaaaaaaaaaaaa"])
        );
        assert_eq!(used.profiles, BTreeSet::from([PathBuf::from("/t/debug")]));
    }
}
