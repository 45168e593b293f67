//! Brotli copies of the site's files at the best quality (11), written beside them as
//! `NAME.br`. The server sends such a copy as it is to a browser that accepts brotli; compressing
//! each response on the fly it can afford only a fast quality (4), whose output is about a fifth
//! larger for the WebAssembly and Monaco.

use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, String>;

/// Extensions of the files worth compressing (the rest is already compressed, or tiny).
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "json", "svg", "ttf", "html"];

/// Writes `NAME.br` beside every compressible file under `dirs` whose copy is missing or older
/// than the file, when it is smaller. Returns the files' total size and their copies' total.
pub fn precompress(dirs: &[PathBuf]) -> Result<(u64, u64)> {
    let mut files = Vec::new();
    for dir in dirs {
        collect(dir, &mut files)?;
    }
    let sizes = files.par_iter().map(|f| compress(f)).collect::<Result<Vec<_>>>()?;
    Ok(sizes.into_iter().fold((0, 0), |(raw, br), (r, b)| (raw + r, br + b)))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e)) {
            files.push(path);
        }
    }
    Ok(())
}

fn br_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".br");
    PathBuf::from(name)
}

/// Compresses `file` unless its copy is current; its size and its copy's (its own size when
/// compressing does not make it smaller, and then no copy is kept).
fn compress(file: &Path) -> Result<(u64, u64)> {
    let out = br_path(file);
    let meta = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let raw = meta.len();
    if let (Ok(src), Ok(copy)) = (meta.modified(), std::fs::metadata(&out)) {
        if copy.modified().is_ok_and(|c| c >= src) {
            return Ok((raw, copy.len()));
        }
    }
    let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let packed = brotli(&data)?;
    if packed.len() >= data.len() {
        let _ = std::fs::remove_file(&out);
        return Ok((raw, raw));
    }
    std::fs::write(&out, &packed).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok((raw, packed.len() as u64))
}

/// Brotli at quality 11 with a window as large as the data needs (up to 16 MiB).
fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let window = (data.len().max(1 << 16).next_power_of_two().trailing_zeros()).clamp(16, 24);
    let mut out = Vec::with_capacity(data.len() / 3);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 1 << 16, 11, window);
        writer.write_all(data).map_err(|e| format!("brotli: {e}"))?;
        writer.flush().map_err(|e| format!("brotli: {e}"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn copies_are_written_beside_the_files_and_decompress_to_them() {
        let dir = tempdir();
        let wasm: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        std::fs::write(dir.join("a.wasm"), &wasm).unwrap();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/b.js"), "export const x = 1;\n".repeat(200)).unwrap();
        std::fs::write(dir.join("c.png"), [0u8; 4096]).unwrap();
        std::fs::write(dir.join("d.css"), "a").unwrap();
        let (raw, packed) = precompress(std::slice::from_ref(&dir)).expect("compresses");
        assert!(packed < raw, "{packed} < {raw}");
        let mut back = Vec::new();
        brotli::Decompressor::new(std::fs::File::open(dir.join("a.wasm.br")).unwrap(), 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, wasm);
        assert!(dir.join("sub/b.js.br").exists());
        assert!(!dir.join("c.png.br").exists(), "not a compressible kind");
        assert!(!dir.join("d.css.br").exists(), "a copy as large as the file is not kept");
        // A current copy is kept as it is; a stale one is written again.
        let before = std::fs::metadata(dir.join("a.wasm.br")).unwrap().modified().unwrap();
        precompress(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(std::fs::metadata(dir.join("a.wasm.br")).unwrap().modified().unwrap(), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-compress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
