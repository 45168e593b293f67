//! `sidecar-console`: serves the web console and the REST API.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

/// The Sidecar Console: a web console and REST API for pipeline sidecars.
#[derive(Debug, Parser)]
#[command(name = "sidecar-console", version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on.
    #[arg(long, env = "SIDECAR_CONSOLE_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Folder with the built site (`pkg/` with the script, WebAssembly and CSS).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the built-in Kubernetes API server alone, for kubectl and other clients.
    Emulator {
        /// Address to listen on (loopback only: the emulator has no authentication).
        #[arg(long, default_value = "127.0.0.1:6443")]
        listen: SocketAddr,
        /// Where to write a kubeconfig that points at it.
        #[arg(long, default_value = "emulator.kubeconfig")]
        kubeconfig: PathBuf,
        /// Folder where the cluster's objects are kept across restarts; in memory only if absent.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

async fn run_emulator(
    listen: SocketAddr,
    kubeconfig: &std::path::Path,
    data_dir: Option<&std::path::Path>,
) -> Result<(), String> {
    if !listen.ip().is_loopback() {
        return Err(format!("the emulator has no authentication and listens on loopback only, not {listen}"));
    }
    let emulator = match data_dir {
        Some(dir) => emulator::Emulator::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?,
        None => emulator::Emulator::new(),
    };
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    std::fs::write(kubeconfig, emulator::Emulator::kubeconfig(&format!("http://{addr}")))
        .map_err(|e| format!("cannot write {}: {e}", kubeconfig.display()))?;
    println!("Kubernetes API emulator listening on http://{addr}");
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get namespaces");
    match data_dir {
        Some(dir) => println!("  objects are kept in {}", dir.display()),
        None => println!("  objects are kept in memory only (--data-dir DIR keeps them)"),
    }
    let app = emulator.router();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| format!("server failed: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let args = Args::parse();
    if let Some(Command::Emulator { listen, kubeconfig, data_dir }) = &args.command {
        return match run_emulator(*listen, kubeconfig, data_dir.as_deref()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if !args.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %args.site_root.display(),
            "no built site here: pages render but do not hydrate (build it with `cargo xtask run`)"
        );
    }
    let options = server::leptos_options(&args.site_root, args.listen);
    let app = server::router(options);
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    println!("Sidecar Console listening on http://{}", args.listen);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
