//! Short names for what the main WebAssembly module imports from wasm-bindgen's glue.
//!
//! wasm-bindgen names each import after the function and a hash of its signature
//! (`__wbg_setAttribute_f75317b2b5cabfb4`), and the names are written twice: in the module's
//! import section and as the keys of the glue's import object. About 240 such names cost every
//! page some 6 kB of compressed, hardly compressible text. Renamed to `a`, `b`, … `aa`, … in both
//! files at once, the page loads the same code. A name not found exactly once in the glue stops
//! the build, so a change in the glue's shape cannot ship a module the page cannot link.

use std::path::Path;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{BinaryReader, ImportSectionReader};

type Result<T> = std::result::Result<T, String>;

/// Renames the imports of `wasm` from `module` (the glue) and the same names in `js`, in place.
/// Returns how many were renamed.
pub fn shorten_imports(wasm: &Path, js: &Path, module: &str) -> Result<usize> {
    let bytes = std::fs::read(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let text = std::fs::read_to_string(js).map_err(|e| format!("{}: {e}", js.display()))?;
    let (bytes, renamed) = rename_imports(&bytes, module)?;
    let mut text = text;
    for (old, new) in &renamed {
        text = replace_identifier_once(&text, old, new).map_err(|e| format!("{}: {e}", js.display()))?;
    }
    std::fs::write(wasm, bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    std::fs::write(js, text).map_err(|e| format!("{}: {e}", js.display()))?;
    Ok(renamed.len())
}

/// The `n`th short name: `a` … `z`, `A` … `Z`, `aa`, `ab`, …: valid JavaScript property names.
fn short_name(mut n: usize) -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(LETTERS[n % LETTERS.len()]);
        n /= LETTERS.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Each renamed import: its old name and its new one.
type Renamed = Vec<(String, String)>;

/// The module with the imports from `module` renamed, and each (old, new) name.
fn rename_imports(bytes: &[u8], module: &str) -> Result<(Vec<u8>, Renamed)> {
    let bad = |e: wasmparser::BinaryReaderError| format!("reading the WebAssembly: {e}");
    let mut reader = BinaryReader::new(bytes, 0);
    let header = reader.read_bytes(8).map_err(bad)?;
    if header[..4] != *b"\0asm" {
        return Err("not a WebAssembly module".into());
    }
    let mut out = header.to_vec();
    let mut renamed = Vec::new();
    while !reader.eof() {
        let start = reader.current_position();
        let id = reader.read_u8().map_err(bad)?;
        let size = reader.read_var_u32().map_err(bad)? as usize;
        let body_at = reader.current_position();
        let body = reader.read_bytes(size).map_err(bad)?;
        if id != 2 {
            out.extend_from_slice(&bytes[start..body_at + size]);
            continue;
        }
        let mut section = wasm_encoder::ImportSection::new();
        let imports = ImportSectionReader::new(BinaryReader::new(body, body_at as u64)).map_err(bad)?;
        for import in imports.into_imports() {
            let import = import.map_err(bad)?;
            let ty = RoundtripReencoder.entity_type(import.ty).map_err(|e| format!("re-encoding an import: {e}"))?;
            if import.module == module {
                let new = short_name(renamed.len());
                section.import(import.module, &new, ty);
                renamed.push((import.name.to_owned(), new));
            } else {
                section.import(import.module, import.name, ty);
            }
        }
        let mut encoded = Vec::new();
        wasm_encoder::Encode::encode(&section, &mut encoded);
        out.push(id);
        out.extend_from_slice(&encoded);
    }
    Ok((out, renamed))
}

/// `text` with its one occurrence of the identifier `old` replaced by `new`.
fn replace_identifier_once(text: &str, old: &str, new: &str) -> std::result::Result<String, String> {
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let found: Vec<usize> = text
        .match_indices(old)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = text[..at].chars().next_back();
            let after = text[at + old.len()..].chars().next();
            !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
        })
        .collect();
    match found[..] {
        [at] => Ok(format!("{}{new}{}", &text[..at], &text[at + old.len()..])),
        _ => Err(format!("the glue names the import `{old}` {} times, not once", found.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{EntityType, ExportKind, ExportSection, Function, FunctionSection, Module, TypeSection};

    /// A module importing two functions from the glue and one from elsewhere, calling the
    /// second glue import from an exported function.
    fn module() -> Vec<u8> {
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        m.section(&types);
        let mut imports = wasm_encoder::ImportSection::new();
        imports.import("./app_bg.js", "__wbg_log_0123456789abcdef", EntityType::Function(0));
        imports.import("./loader.js", "__wasm_split_load_x", EntityType::Function(0));
        imports.import("./app_bg.js", "__wbg_alert_fedcba9876543210", EntityType::Function(0));
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut exports = ExportSection::new();
        exports.export("run", ExportKind::Func, 3);
        m.section(&exports);
        let mut code = wasm_encoder::CodeSection::new();
        let mut f = Function::new([]);
        f.instructions().call(2).end();
        code.function(&f);
        m.section(&code);
        m.finish()
    }

    #[test]
    fn glue_imports_get_short_names_in_the_module_and_the_script() {
        let (bytes, renamed) = rename_imports(&module(), "./app_bg.js").expect("renames");
        assert_eq!(
            renamed,
            [
                ("__wbg_log_0123456789abcdef".to_owned(), "a".to_owned()),
                ("__wbg_alert_fedcba9876543210".into(), "b".into())
            ]
        );
        wasmparser::Validator::new().validate_all(&bytes).expect("still a valid module");
        let mut names = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let Ok(wasmparser::Payload::ImportSection(s)) = payload {
                for i in s.into_imports() {
                    let i = i.expect("an import");
                    names.push(format!("{}/{}", i.module, i.name));
                }
            }
        }
        assert_eq!(names, ["./app_bg.js/a", "./loader.js/__wasm_split_load_x", "./app_bg.js/b"]);
    }

    #[test]
    fn the_script_must_name_each_import_once() {
        let js = "const i={__wbg_log_01:function(){}, x: __wbg_log_01x};";
        assert_eq!(
            replace_identifier_once(js, "__wbg_log_01", "a").unwrap(),
            "const i={a:function(){}, x: __wbg_log_01x};"
        );
        assert!(replace_identifier_once("f(__wbg_x); g(__wbg_x)", "__wbg_x", "a").is_err());
        assert!(replace_identifier_once("nothing here", "__wbg_x", "a").is_err());
    }

    #[test]
    fn short_names_are_unique_letters() {
        let names: Vec<String> = (0..3000).map(short_name).collect();
        assert_eq!(&names[..3], ["a", "b", "c"]);
        assert_eq!(names[52], "aa");
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphabetic())));
    }
}
