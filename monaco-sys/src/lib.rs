//! Bindings to the part of the [Monaco editor](https://microsoft.github.io/monaco-editor/) the
//! console uses: a JSON editor with a schema and markers, and a diff editor.
//!
//! Monaco is not linked into the WebAssembly. Its bundle (built from npm's `monaco-editor` by
//! `cargo xtask`, see `js/entry.js`) is served by the console under [`bundle_dir`] and fetched
//! by [`load`] the first time a JSON view opens; no other page asks for it.
//!
//! The raw bindings (`ffi`) follow Monaco's API names; the safe types ([`Editor`],
//! [`DiffEditor`]) dispose what they created when dropped.

use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The `monaco-editor` version the bundle is built from: the npm pin in `package.json` (a
/// test checks they agree). It is part of the bundle's URL, so the files can be cached forever.
pub const VERSION: &str = "0.57.0";

/// Where the bundle is served: `/monaco/VERSION/` (`entry.js`, `entry.css`, the workers).
pub fn bundle_dir() -> String {
    format!("/monaco/{VERSION}/")
}

/// The raw bindings, named as in Monaco's API.
pub mod ffi {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(inline_js = "export function import_module(url) { return import(url); }")]
    extern "C" {
        /// `import(url)`: a dynamic import, so the bundle is fetched only when asked for.
        pub fn import_module(url: &str) -> js_sys::Promise;
    }

    #[wasm_bindgen]
    extern "C" {
        /// The bundle's module: `editor`, `jsonDefaults`, `Uri`.
        #[derive(Clone)]
        pub type Module;
        /// `monaco.editor`.
        #[wasm_bindgen(method, getter)]
        pub fn editor(this: &Module) -> EditorApi;
        /// `monaco.languages.json.jsonDefaults`.
        #[wasm_bindgen(method, getter, js_name = jsonDefaults)]
        pub fn json_defaults(this: &Module) -> JsonDefaults;

        /// The `monaco.editor` namespace.
        #[derive(Clone)]
        pub type EditorApi;
        /// `monaco.editor.create(element, options)`.
        #[wasm_bindgen(method)]
        pub fn create(this: &EditorApi, element: &web_sys::HtmlElement, options: &JsValue) -> CodeEditor;
        /// `monaco.editor.createDiffEditor(element, options)`.
        #[wasm_bindgen(method, js_name = createDiffEditor)]
        pub fn create_diff_editor(this: &EditorApi, element: &web_sys::HtmlElement, options: &JsValue) -> DiffEditor;
        /// `monaco.editor.createModel(value, language)`.
        #[wasm_bindgen(method, js_name = createModel)]
        pub fn create_model(this: &EditorApi, value: &str, language: &str) -> TextModel;
        /// `monaco.editor.setModelMarkers(model, owner, markers)`.
        #[wasm_bindgen(method, js_name = setModelMarkers)]
        pub fn set_model_markers(this: &EditorApi, model: &TextModel, owner: &str, markers: &js_sys::Array);
        /// `monaco.editor.setTheme(name)`.
        #[wasm_bindgen(method, js_name = setTheme)]
        pub fn set_theme(this: &EditorApi, name: &str);

        /// `IStandaloneCodeEditor`.
        #[derive(Clone)]
        pub type CodeEditor;
        /// `editor.getValue()`.
        #[wasm_bindgen(method, js_name = getValue)]
        pub fn get_value(this: &CodeEditor) -> String;
        /// `editor.setValue(text)`.
        #[wasm_bindgen(method, js_name = setValue)]
        pub fn set_value(this: &CodeEditor, text: &str);
        /// `editor.getModel()`.
        #[wasm_bindgen(method, js_name = getModel)]
        pub fn get_model(this: &CodeEditor) -> Option<TextModel>;
        /// `editor.onDidChangeModelContent(listener)`.
        #[wasm_bindgen(method, js_name = onDidChangeModelContent)]
        pub fn on_did_change_model_content(this: &CodeEditor, listener: &js_sys::Function) -> Disposable;
        /// `editor.setPosition({lineNumber, column})`.
        #[wasm_bindgen(method, js_name = setPosition)]
        pub fn set_position(this: &CodeEditor, position: &JsValue);
        /// `editor.revealPositionInCenter({lineNumber, column})`.
        #[wasm_bindgen(method, js_name = revealPositionInCenter)]
        pub fn reveal_position_in_center(this: &CodeEditor, position: &JsValue);
        /// `editor.focus()`.
        #[wasm_bindgen(method)]
        pub fn focus(this: &CodeEditor);
        /// `editor.dispose()`.
        #[wasm_bindgen(method)]
        pub fn dispose(this: &CodeEditor);

        /// `ITextModel`.
        #[derive(Clone)]
        pub type TextModel;
        /// `model.getPositionAt(offset)`: offset in UTF-16 code units.
        #[wasm_bindgen(method, js_name = getPositionAt)]
        pub fn get_position_at(this: &TextModel, offset: f64) -> Position;
        /// `model.getOffsetAt({lineNumber, column})`.
        #[wasm_bindgen(method, js_name = getOffsetAt)]
        pub fn get_offset_at(this: &TextModel, position: &JsValue) -> f64;
        /// `model.dispose()`.
        #[wasm_bindgen(method)]
        pub fn dispose(this: &TextModel);

        /// `IPosition`.
        #[derive(Clone)]
        pub type Position;
        /// 1-based line.
        #[wasm_bindgen(method, getter, js_name = lineNumber)]
        pub fn line_number(this: &Position) -> u32;
        /// 1-based column (UTF-16 code units).
        #[wasm_bindgen(method, getter)]
        pub fn column(this: &Position) -> u32;

        /// `IStandaloneDiffEditor`.
        #[derive(Clone)]
        pub type DiffEditor;
        /// `diff.setModel({original, modified})`.
        #[wasm_bindgen(method, js_name = setModel)]
        pub fn set_model(this: &DiffEditor, models: &JsValue);
        /// `diff.dispose()`.
        #[wasm_bindgen(method)]
        pub fn dispose(this: &DiffEditor);

        /// `IDisposable`.
        #[derive(Clone)]
        pub type Disposable;
        /// `disposable.dispose()`.
        #[wasm_bindgen(method)]
        pub fn dispose(this: &Disposable);

        /// `monaco.languages.json.jsonDefaults`.
        #[derive(Clone)]
        pub type JsonDefaults;
        /// `jsonDefaults.setDiagnosticsOptions(options)`: also where schemas are given.
        #[wasm_bindgen(method, js_name = setDiagnosticsOptions)]
        pub fn set_diagnostics_options(this: &JsonDefaults, options: &JsValue);
    }
}

thread_local! {
    static MODULE: RefCell<Option<ffi::Module>> = const { RefCell::new(None) };
}

/// Fetches the bundle (once per page) and returns its module.
pub async fn load() -> Result<ffi::Module, JsValue> {
    if let Some(m) = MODULE.with(|m| m.borrow().clone()) {
        return Ok(m);
    }
    let url = format!("{}entry.js", bundle_dir());
    let module: ffi::Module = wasm_bindgen_futures::JsFuture::from(ffi::import_module(&url)).await?.unchecked_into();
    MODULE.with(|m| *m.borrow_mut() = Some(module.clone()));
    Ok(module)
}

/// Whether the bundle has been loaded on this page.
pub fn is_loaded() -> bool {
    MODULE.with(|m| m.borrow().is_some())
}

fn js(value: serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn position(line: usize, column: usize) -> JsValue {
    js(serde_json::json!({ "lineNumber": line, "column": column }))
}

/// JSON language defaults: the schema at `path` (on this page's origin) for every model, for
/// completion and hovers. Monaco's JSON worker fetches it when a model first needs it. Monaco's
/// own validation stays off: the console places its validator's markers itself, so there is one
/// set of errors, not two.
pub fn use_json_schema_at(module: &ffi::Module, path: &str) {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    module.json_defaults().set_diagnostics_options(&js(serde_json::json!({
        "validate": false,
        "allowComments": false,
        "enableSchemaRequest": true,
        "schemas": [{ "uri": format!("{origin}{path}"), "fileMatch": ["*"] }],
    })));
}

/// Light or dark, to follow the page's theme.
pub fn set_dark(module: &ffi::Module, dark: bool) {
    module.editor().set_theme(if dark { "vs-dark" } else { "vs" });
}

/// How bad a marker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// `MarkerSeverity.Error`.
    Error,
    /// `MarkerSeverity.Warning`.
    Warning,
}

/// A marker: a range (1-based lines, 1-based UTF-16 columns, end exclusive) and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// First line.
    pub start_line: usize,
    /// First column.
    pub start_column: usize,
    /// Last line.
    pub end_line: usize,
    /// Column after the last character.
    pub end_column: usize,
    /// What is wrong.
    pub message: String,
    /// Where it comes from (`ports[1].containerPort`), shown with the message.
    pub source: String,
    /// How bad.
    pub severity: Severity,
}

/// A JSON editor in an element; disposed when dropped.
pub struct Editor {
    module: ffi::Module,
    inner: ffi::CodeEditor,
    subscriptions: Vec<ffi::Disposable>,
    listeners: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Editor {
    /// Creates an editor showing `value` as JSON, named `label` for screen readers.
    pub fn create(module: &ffi::Module, element: &web_sys::HtmlElement, value: &str, label: &str) -> Editor {
        let options = js(serde_json::json!({
            "value": value,
            "language": "json",
            "ariaLabel": label,
            "automaticLayout": true,
            "minimap": { "enabled": false },
            "scrollBeyondLastLine": false,
            "tabSize": 2,
            "fixedOverflowWidgets": true,
            "accessibilitySupport": "auto",
        }));
        let inner = module.editor().create(element, &options);
        Editor { module: module.clone(), inner, subscriptions: Vec::new(), listeners: Vec::new() }
    }

    /// The text.
    pub fn value(&self) -> String {
        self.inner.get_value()
    }

    /// Replaces the text (when it differs: setting it moves the cursor).
    pub fn set_value(&self, text: &str) {
        if self.inner.get_value() != text {
            self.inner.set_value(text);
        }
    }

    /// Calls `f` with the new text after every change.
    pub fn on_change(&mut self, mut f: impl FnMut(String) + 'static) {
        let editor = self.inner.clone();
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| f(editor.get_value()));
        self.subscriptions.push(self.inner.on_did_change_model_content(listener.as_ref().unchecked_ref()));
        self.listeners.push(listener);
    }

    /// Shows `markers` (replacing those of the same `owner`).
    pub fn set_markers(&self, owner: &str, markers: &[Marker]) {
        let Some(model) = self.inner.get_model() else { return };
        let list = js_sys::Array::new();
        for m in markers {
            list.push(&js(serde_json::json!({
                "startLineNumber": m.start_line,
                "startColumn": m.start_column,
                "endLineNumber": m.end_line,
                "endColumn": m.end_column,
                "message": m.message,
                "source": m.source,
                // MarkerSeverity: Warning = 4, Error = 8.
                "severity": match m.severity { Severity::Error => 8, Severity::Warning => 4 },
            })));
        }
        self.module.editor().set_model_markers(&model, owner, &list);
    }

    /// Puts the cursor at a line and column, scrolls it into view and focuses the editor.
    pub fn reveal(&self, line: usize, column: usize) {
        let at = position(line, column);
        self.inner.set_position(&at);
        self.inner.reveal_position_in_center(&at);
        self.inner.focus();
    }

    /// The line and column of a UTF-16 offset of the text.
    pub fn position_at(&self, offset: usize) -> Option<(usize, usize)> {
        let p = self.inner.get_model()?.get_position_at(offset as f64);
        Some((p.line_number() as usize, p.column() as usize))
    }

    /// The UTF-16 offset of a line and column.
    pub fn offset_at(&self, line: usize, column: usize) -> Option<usize> {
        Some(self.inner.get_model()?.get_offset_at(&position(line, column)) as usize)
    }
}

impl Drop for Editor {
    fn drop(&mut self) {
        for s in &self.subscriptions {
            s.dispose();
        }
        self.inner.dispose();
    }
}

/// A read-only side-by-side diff of two JSON texts; disposed (with its models) when dropped.
pub struct DiffEditor {
    inner: ffi::DiffEditor,
    models: [ffi::TextModel; 2],
}

impl DiffEditor {
    /// Shows `original` beside `modified`.
    pub fn create(module: &ffi::Module, element: &web_sys::HtmlElement, original: &str, modified: &str) -> DiffEditor {
        let options = js(serde_json::json!({
            "readOnly": true,
            "originalEditable": false,
            "automaticLayout": true,
            "renderSideBySide": true,
            "minimap": { "enabled": false },
            "scrollBeyondLastLine": false,
        }));
        let api = module.editor();
        let inner = api.create_diff_editor(element, &options);
        let models = [api.create_model(original, "json"), api.create_model(modified, "json")];
        let pair = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&pair, &"original".into(), &models[0]);
        let _ = js_sys::Reflect::set(&pair, &"modified".into(), &models[1]);
        inner.set_model(&pair);
        DiffEditor { inner, models }
    }
}

impl Drop for DiffEditor {
    fn drop(&mut self) {
        self.inner.dispose();
        for m in &self.models {
            m.dispose();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_version_is_the_npm_pin() {
        let manifest = include_str!("../package.json");
        let pin = format!("\"monaco-editor\": \"{}\"", super::VERSION);
        assert!(manifest.contains(&pin), "package.json must pin {pin}");
    }
}
