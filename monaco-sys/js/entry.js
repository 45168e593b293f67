// The Monaco bundle the console serves under /monaco/VERSION/: the editor, the JSON language and
// the editor features a JSON editor needs. Loaded with a dynamic import() when a JSON view opens;
// nothing else on the site refers to it.
import * as monaco from "monaco-editor/editor/editor.api.js";
import { jsonDefaults } from "monaco-editor/language/json/monaco.contribution.js";
import "monaco-editor/features/bracketMatching/register.js";
import "monaco-editor/features/clipboard/register.js";
import "monaco-editor/features/contextmenu/register.js";
import "monaco-editor/features/find/register.js";
import "monaco-editor/features/folding/register.js";
import "monaco-editor/features/format/register.js";
import "monaco-editor/features/gotoError/register.js";
import "monaco-editor/features/hover/register.js";
import "monaco-editor/features/indentation/register.js";
import "monaco-editor/features/linesOperations/register.js";
import "monaco-editor/features/multicursor/register.js";
import "monaco-editor/features/smartSelect/register.js";
import "monaco-editor/features/snippet/register.js";
import "monaco-editor/features/suggest/register.js";
import "monaco-editor/features/toggleTabFocusMode/register.js";
import "monaco-editor/features/wordHighlighter/register.js";
import "monaco-editor/features/wordOperations/register.js";
// Completion itself: features/suggest registers only its inline part.
import "monaco-editor/editor/contrib/suggest/browser/suggestController.js";
import "monaco-editor/editor/contrib/gotoError/browser/markerSelectionStatus.js";

// Workers and the stylesheet live beside this file, whatever the directory it is served from.
const base = new URL(".", import.meta.url).href;
self.MonacoEnvironment = {
  getWorkerUrl(_moduleId, label) {
    return base + (label === "json" ? "json.worker.js" : "editor.worker.js");
  },
};
if (!document.querySelector("link[data-monaco]")) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = base + "entry.css";
  link.dataset.monaco = "";
  document.head.append(link);
}

export const editor = monaco.editor;
export const languages = monaco.languages;
export const Uri = monaco.Uri;
export const MarkerSeverity = monaco.MarkerSeverity;
export { jsonDefaults };
