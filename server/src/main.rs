//! `sidecar-console`: serves the web console and the REST API.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Where the embedded cluster keeps its objects across restarts (default:
    /// `$XDG_DATA_HOME/sidecar-console`, or `~/.local/share/sidecar-console`).
    #[arg(long, env = "SIDECAR_CONSOLE_DATA_DIR", conflicts_with = "ephemeral")]
    data_dir: Option<PathBuf>,
    /// Keep the embedded cluster in memory only: it starts anew, with the demo data, every time.
    #[arg(long)]
    ephemeral: bool,
    /// Where the embedded cluster's Kubernetes API listens, for kubectl (loopback only).
    #[arg(long, env = "SIDECAR_CONSOLE_CLUSTER_LISTEN", default_value = "127.0.0.1:6443")]
    cluster_listen: SocketAddr,
    /// Where to write the kubeconfig for the embedded cluster (default: `kubeconfig` in the data
    /// folder, or in the system's temporary folder when ephemeral).
    #[arg(long)]
    write_kubeconfig: Option<PathBuf>,
    /// Manage the cluster of this kubeconfig instead of the embedded one (`KUBECONFIG` works
    /// too; in a pod, the in-cluster configuration is used).
    #[arg(long, conflicts_with = "embedded")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, env = "SIDECAR_CONSOLE_CONTEXT", conflicts_with = "embedded")]
    context: Option<String>,
    /// Use the embedded cluster even when `KUBECONFIG` is set or in a pod.
    #[arg(long)]
    embedded: bool,
    /// Whether to run the Pipeline operator in-process: `auto` runs it unless Calyptia Core's
    /// operator is found in the cluster.
    #[arg(long, value_enum, default_value_t = OperatorMode::Auto)]
    operator: OperatorMode,
    /// Serve this Pipeline CRD (YAML or JSON) on the embedded cluster instead of ours: Calyptia
    /// Core's, to see what a cluster running it stores and refuses.
    #[arg(long, env = "SIDECAR_CONSOLE_PIPELINE_CRD")]
    pipeline_crd: Option<PathBuf>,
    /// Make the embedded cluster authenticate with the bearer tokens of this file (the
    /// kube-apiserver format: `token,user,uid,"group1,group2"`) and authorize with RBAC; its
    /// API is then served over HTTPS.
    #[arg(long, env = "SIDECAR_CONSOLE_TOKEN_AUTH_FILE")]
    token_auth_file: Option<PathBuf>,
    /// How users sign in: `none` (the console's own credentials; loopback only), `token`
    /// (their Kubernetes bearer token), `proxy` (an authenticating proxy names them).
    #[arg(long, value_enum, env = "SIDECAR_CONSOLE_AUTH", default_value_t = server::auth::Mode::None)]
    auth: server::auth::Mode,
    /// With `--auth proxy`: the addresses (CIDRs) whose `X-Forwarded-User` is believed.
    #[arg(long, env = "SIDECAR_CONSOLE_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long, env = "SIDECAR_CONSOLE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "SIDECAR_CONSOLE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// With `--auth token` and several replicas: a file whose contents (any secret, the same
    /// for every replica) seal sign-in sessions into their cookies, so that any replica serves
    /// them. Without it sessions are kept in this process.
    #[arg(long, env = "SIDECAR_CONSOLE_SESSION_KEY_FILE")]
    session_key_file: Option<PathBuf>,
    /// Seconds the console waits for Kubernetes on one request (live streams aside) before it
    /// answers 504.
    #[arg(long, env = "SIDECAR_CONSOLE_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    request_timeout: u64,
    /// Log lines as text, or as one JSON object each.
    #[arg(long, value_enum, env = "SIDECAR_CONSOLE_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Whether the console runs the Pipeline operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OperatorMode {
    /// Unless Calyptia Core's operator is there.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

fn default_data_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("sidecar-console"))
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
        /// Serve the API alone, without the simulated nodes, controllers and kubelet.
        #[arg(long)]
        no_cluster: bool,
        /// Authenticate with the bearer tokens of this file (kube-apiserver's format) and
        /// authorize with RBAC; the API is then served over HTTPS.
        #[arg(long)]
        token_auth_file: Option<PathBuf>,
    },
    /// Run the Pipeline operator against the cluster of the current kubeconfig (or in-cluster
    /// configuration): each Pipeline becomes a workload with its sidecars. It does not start in
    /// a cluster where Calyptia Core's operator already does this job.
    Operator {
        /// Run even where Calyptia Core's operator is found (both would reconcile Pipelines).
        #[arg(long)]
        force: bool,
        /// The namespace of the Lease with which replicas elect the one that reconciles.
        #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
        lease_namespace: String,
    },
}

/// The tokens of a token file, or a sentence saying why they cannot be read.
fn read_tokens(path: Option<&std::path::Path>) -> Result<Option<emulator::auth::Tokens>, String> {
    path.map(|p| emulator::auth::Tokens::read(p).map_err(|e| e.to_string())).transpose()
}

async fn run_emulator(
    listen: SocketAddr,
    kubeconfig: &std::path::Path,
    data_dir: Option<&std::path::Path>,
    cluster: bool,
    tokens: Option<emulator::auth::Tokens>,
) -> Result<(), String> {
    if !listen.ip().is_loopback() {
        return Err(format!("the emulator listens on loopback only, not {listen}"));
    }
    let emulator = match data_dir {
        Some(dir) => emulator::Emulator::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?,
        None => emulator::Emulator::new(),
    };
    let emulator = match tokens {
        Some(t) => emulator.with_tokens(t),
        None => emulator,
    };
    if cluster {
        emulator.start_cluster();
    }
    let listener = std::net::TcpListener::bind(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let cert = match emulator.authenticates() {
        true => Some(emulator::Certificate::loopback().map_err(|e| e.to_string())?),
        false => None,
    };
    let server = match &cert {
        Some(_) => format!("https://{addr}"),
        None => format!("http://{addr}"),
    };
    server::embedded::write_private(
        kubeconfig,
        &emulator.admin_kubeconfig(&server, cert.as_ref().map(|c| c.cert_pem.as_str())),
    )
    .map_err(|e| format!("cannot write {}: {e}", kubeconfig.display()))?;
    println!("Kubernetes API emulator listening on {server}");
    if emulator.authenticates() {
        println!("  bearer tokens and RBAC; the kubeconfig's token is of the group system:masters");
    } else {
        println!("  no authentication: anyone on this machine acts as a member of system:masters (--token-auth-file FILE turns it on)");
    }
    println!("  export KUBECONFIG={}", kubeconfig.display());
    println!("  kubectl get namespaces");
    match data_dir {
        Some(dir) => println!("  objects are kept in {}", dir.display()),
        None => println!("  objects are kept in memory only (--data-dir DIR keeps them)"),
    }
    tokio::select! {
        served = emulator.serve(listener, cert.as_ref()) => served.map_err(|e| format!("server failed: {e}")),
        () = shutdown_signal() => Ok(()),
    }
}

async fn run_operator(force: bool, lease_namespace: &str) -> Result<(), String> {
    let client = kube::Client::try_default().await.map_err(|e| format!("no cluster to run against: {e}"))?;
    let core = operator::core_operator_namespace(&client)
        .await
        .map_err(|e| format!("cannot look for Calyptia Core's operator: {e}"))?;
    if let (Some(ns), false) = (&core, force) {
        return Err(format!(
            "Calyptia Core's operator runs in namespace \"{ns}\" and reconciles Pipelines; \
             not starting a second one (--force runs it anyway)"
        ));
    }
    println!("Pipeline operator running against the current cluster (it reconciles while it holds the Lease sidecar-console-operator in namespace \"{lease_namespace}\")");
    let election = operator::lease::Election::new(lease_namespace);
    tokio::select! {
        () = operator::lease::run_elected(client.clone(), election, || operator::run(client.clone())) => {}
        () = shutdown_signal() => {}
    }
    Ok(())
}

/// Ctrl-C, or SIGTERM (how Kubernetes stops a pod).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// The kubeconfig a user gave: `--kubeconfig`, or `KUBECONFIG` unless it is the one the embedded
/// cluster writes (the README has users export that one).
fn given_kubeconfig(args: &Args, embedded_kubeconfig: &std::path::Path) -> Option<PathBuf> {
    if args.embedded {
        return None;
    }
    if let Some(k) = &args.kubeconfig {
        return Some(k.clone());
    }
    let from_env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()).map(PathBuf::from)?;
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    (!same(&from_env, embedded_kubeconfig)).then_some(from_env)
}

/// The cluster the console manages: the one the user gave, in-cluster in a pod, or the
/// embedded one; says which, and starts the operator where it should run.
async fn connect(
    args: &Args,
    data_dir: Option<&std::path::Path>,
    embedded_kubeconfig: &std::path::Path,
) -> Result<(kube::Client, String, sidecar_service::access::Connect), String> {
    let external = match given_kubeconfig(args, embedded_kubeconfig) {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(want) = &args.context {
                if !kc.contexts.iter().any(|c| &c.name == want) {
                    let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
                    return Err(format!("{}: no context \"{want}\" (it has: {})", path.display(), known.join(", ")));
                }
            }
            let context = args
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_else(|| path.display().to_string());
            let options = kube::config::KubeConfigOptions { context: args.context.clone(), ..Default::default() };
            let config = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Some((config, format!("the cluster of {}", path.display()), context))
        }
        None if !args.embedded && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
            let config = kube::Config::incluster().map_err(|e| format!("in-cluster configuration: {e}"))?;
            Some((config, "this pod's cluster (in-cluster configuration)".to_owned(), "in-cluster".to_owned()))
        }
        None => None,
    };
    let Some((config, label, context)) = external else {
        let crd = match &args.pipeline_crd {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let crd: serde_json::Value = serde_yaml_ng::from_str(&text)
                    .map_err(|e| format!("{}: not a CustomResourceDefinition in YAML or JSON: {e}", path.display()))?;
                Some(crd)
            }
            None => None,
        };
        let options = server::embedded::Options {
            data_dir: data_dir.map(std::path::Path::to_owned),
            operator: args.operator != OperatorMode::Off,
            pipeline_crd: crd,
            tokens: read_tokens(args.token_auth_file.as_deref())?,
            ..server::embedded::Options::new(args.cluster_listen, embedded_kubeconfig)
        };
        let cluster = server::embedded::start(&options).await.map_err(|e| e.to_string())?;
        tracing::info!(api = %cluster.server, "managing the embedded cluster");
        println!("Embedded cluster: Kubernetes API on {}", cluster.server);
        if options.tokens.is_some() {
            println!("  it authenticates bearer tokens and authorizes with RBAC");
        }
        println!("  export KUBECONFIG={}", cluster.kubeconfig.display());
        println!("  kubectl get pipelines -A");
        match data_dir {
            Some(d) => println!("  its objects are kept in {}", d.display()),
            None => println!("  its objects are kept in memory only"),
        }
        let connect = cluster.connect();
        return Ok((cluster.client, "embedded demo cluster".to_owned(), connect));
    };
    let connect = server::embedded::connect_with(config.clone());
    let counted = tower::util::MapResultLayer::new(server::ops::count_call);
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| format!("{label}: {e}"))?
        .with_layer(&counted)
        .build();
    tracing::info!(cluster = %label, "managing an existing cluster");
    println!("Managing {label}");
    let run = match args.operator {
        OperatorMode::Off => false,
        OperatorMode::On => true,
        OperatorMode::Auto => match operator::core_operator_namespace(&client).await {
            Ok(Some(ns)) => {
                println!("  Calyptia Core's operator runs in namespace \"{ns}\": it reconciles the Pipelines");
                false
            }
            Ok(None) => true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether Calyptia Core's operator runs; not starting ours");
                false
            }
        },
    };
    if run {
        println!("  the Pipeline operator runs in this process (--operator off to leave it out)");
        // Several console replicas: the one holding the Lease reconciles.
        let namespace = std::env::var("POD_NAMESPACE").unwrap_or_else(|_| "default".into());
        let election = operator::lease::Election::new(&namespace);
        let elected = client.clone();
        tokio::spawn(async move {
            let lead = elected.clone();
            operator::lease::run_elected(elected, election, move || operator::run(lead.clone())).await;
        });
    }
    Ok((client, context, connect))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Log lines go to stderr; stdout keeps the few lines printed for the person who started it.
    match args.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt().json().with_writer(std::io::stderr).with_env_filter(filter).init(),
    }
    match &args.command {
        Some(Command::Emulator { listen, kubeconfig, data_dir, no_cluster, token_auth_file }) => {
            let run = async {
                let tokens = read_tokens(token_auth_file.as_deref())?;
                run_emulator(*listen, kubeconfig, data_dir.as_deref(), !no_cluster, tokens).await
            };
            return match run.await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Operator { force, lease_namespace }) => {
            return match run_operator(*force, lease_namespace).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        None => {}
    }
    let data_dir = if args.ephemeral { None } else { args.data_dir.clone().or_else(default_data_dir) };
    let embedded_kubeconfig = args.write_kubeconfig.clone().unwrap_or_else(|| match &data_dir {
        Some(d) => d.join("kubeconfig"),
        None => std::env::temp_dir().join("sidecar-console.kubeconfig"),
    });
    let trusted: Result<Vec<server::auth::Cidr>, _> = args.trusted_proxy.iter().map(|c| c.parse()).collect();
    // Refused before anything starts: a console that would lend its rights to anyone.
    let auth = match trusted.and_then(|t| server::auth::Auth::new(args.auth, args.listen, t, None)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (cluster, cluster_name, connect) = match connect(&args, data_dir.as_deref(), &embedded_kubeconfig).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !args.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %args.site_root.display(),
            "no built site here: pages render but do not hydrate (build it with `cargo xtask run`)"
        );
    }
    let options = server::leptos_options(&args.site_root, args.listen);
    let mut auth = auth.with_connect(connect.clone());
    if let Some(path) = &args.session_key_file {
        match std::fs::read(path) {
            Ok(secret) if secret.len() >= 32 => auth = auth.with_session_key(&secret),
            Ok(_) => {
                eprintln!("error: {}: a session key must be at least 32 bytes", path.display());
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: cannot read the session key {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    auth.secure = args.tls_cert.is_some();
    let console = server::api::ApiState::new(cluster, cluster_name).with_connect(connect);
    let app = server::router_with_auth(options, console, auth);
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: cannot use {} and {} for TLS: {e}", cert.display(), key.display());
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let listener = match std::net::TcpListener::bind(args.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let limits = server::serving::Limits {
        answer: std::time::Duration::from_secs(args.request_timeout),
        ..server::serving::Limits::default()
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("Sidecar Console listening on {scheme}://{}", args.listen);
    let served = server::serving::serve(listener, app, tls, limits, shutdown_signal()).await;
    // Before the runtime goes: an operator of this process finishes its reconciliations first.
    operator::stop(std::time::Duration::from_secs(5)).await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server failed: {e}");
            ExitCode::FAILURE
        }
    }
}
