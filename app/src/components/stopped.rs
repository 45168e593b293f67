//! What the page says when its WebAssembly stops: a trap (every panic of the browser's build
//! aborts at once, without a message) or code that could not be fetched, as when a page was left
//! open across an upgrade of the console and its build's chunks are gone.
//!
//! Script, not WebAssembly: the browser's release build has no panic hook to run Rust code after
//! a panic (`-Cpanic=immediate-abort`, about 10 kB less on every page), and a script sees the
//! trap whatever stopped the code.

/// Inline script for the page's head: on the first WebAssembly trap, an alert at the top of the
/// page that says the page stopped, with a link that loads it anew (`rel="external"`: the
/// router, stopped too, must leave the link to the browser). What is shown stays readable.
pub const STOPPED_SCRIPT: &str = "(function(){\
function stop(x){\
if(!(x instanceof WebAssembly.RuntimeError)||document.getElementById('stopped'))return;\
console.error('The page\\'s code stopped:',x);\
var p=document.createElement('p'),a=document.createElement('a');\
p.id='stopped';p.className='alert stopped';p.setAttribute('role','alert');\
p.textContent='This page stopped working: its code could not be loaded or failed (the console may have been updated since the page was opened). ';\
a.setAttribute('href','');a.setAttribute('rel','external');a.textContent='Reload the page';p.appendChild(a);\
(document.getElementById('main')||document.body).prepend(p)}\
addEventListener('error',function(e){stop(e.error)});\
addEventListener('unhandledrejection',function(e){stop(e.reason)})})()";
