//! `sidecarctl`: manage pipeline sidecars from the command line, through the Sidecar Console's
//! REST API.
//!
//! Exit codes: 0 success (also when the reader of the output stops reading, as in `| head`),
//! 1 error (one sentence on stderr), 2 usage error; interrupted (Ctrl-C), the process ends at
//! once as the signal says (130 in a shell).

mod client;
mod login;
mod print;
mod sidecars;
mod validate;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Manage the sidecars of data pipelines.
#[derive(Debug, Parser)]
#[command(name = "sidecarctl", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// The Sidecar Console to talk to.
    #[arg(long, global = true, env = "SIDECARCTL_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// The pipeline's namespace (otherwise a pipeline name must be in one namespace only, or be
    /// given as NAMESPACE/NAME).
    #[arg(short, long, global = true)]
    pub namespace: Option<String>,
    /// A Kubernetes bearer token: the console acts with it (otherwise the one `sidecarctl
    /// login` kept for this server, if any).
    #[arg(long, global = true, env = "SIDECARCTL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// How long to wait for the console's answer, in seconds (`logs -f` streams for as long as
    /// it runs).
    #[arg(long, global = true, env = "SIDECARCTL_TIMEOUT", default_value = "30", value_parser = seconds)]
    pub timeout: std::time::Duration,
}

/// `30`, `30s`, `1.5`, `2m`: a duration for `--timeout`.
fn seconds(s: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match s.strip_suffix('m') {
        Some(n) => (n, 60.0),
        None => (s.strip_suffix('s').unwrap_or(s), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(std::time::Duration::from_secs_f64(n * unit)),
        _ => Err(format!("{s:?} is not a number of seconds (like 30, 30s or 2m)")),
    }
}

impl Global {
    /// The console these options name, with their token and timeout.
    pub fn console(&self) -> Result<client::Console, CliError> {
        Ok(client::Console::new(&self.server, self.token().as_deref())?.with_timeout(self.timeout))
    }

    /// The token to send: given, or kept by `login` for this server.
    pub fn token(&self) -> Option<String> {
        self.token.clone().filter(|t| !t.is_empty()).or_else(|| login::saved_token(&self.server))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add a sidecar to a pipeline.
    Create {
        #[command(subcommand)]
        what: CreateWhat,
    },
    /// List sidecars or pipelines.
    Get {
        #[command(subcommand)]
        what: GetWhat,
    },
    /// Replace a sidecar's spec.
    Update {
        #[command(subcommand)]
        what: UpdateWhat,
    },
    /// Remove a sidecar from its pipeline (and so from every replica).
    Delete {
        #[command(subcommand)]
        what: DeleteWhat,
    },
    /// Show a sidecar or a pipeline in detail: state per replica, recent events.
    Describe {
        #[command(subcommand)]
        what: DescribeWhat,
    },
    /// Print the log lines of a sidecar, or of a pipeline's main container.
    Logs {
        #[command(subcommand)]
        what: LogsWhat,
    },
    /// Sign in to a console with a Kubernetes bearer token, kept for later commands.
    Login(login::Login),
    /// Forget the kept sign-in.
    Logout,
    /// Check a sidecar spec file without touching any cluster.
    Validate(validate::Args),
    /// Print a shell completion script (e.g. `source <(sidecarctl completion bash)`).
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum CreateWhat {
    /// Add a sidecar to a pipeline: prints its ID.
    Sidecar(sidecars::Create),
}

#[derive(Debug, Subcommand)]
enum GetWhat {
    /// The sidecars of a pipeline.
    #[command(alias = "sidecars")]
    Sidecar(sidecars::Get),
    /// Pipelines.
    #[command(alias = "pipelines")]
    Pipeline(sidecars::GetPipeline),
}

#[derive(Debug, Subcommand)]
enum UpdateWhat {
    /// Replace a sidecar's spec; its ID stays.
    Sidecar(sidecars::Update),
}

#[derive(Debug, Subcommand)]
enum DeleteWhat {
    /// Remove a sidecar.
    Sidecar(sidecars::Delete),
}

#[derive(Debug, Subcommand)]
enum DescribeWhat {
    /// One sidecar: spec, state per replica, diagnosis, recent events.
    Sidecar(sidecars::Describe),
    /// One pipeline: phase, conditions, replicas, sidecars with their state, recent events.
    Pipeline(sidecars::DescribePipeline),
}

#[derive(Debug, Subcommand)]
enum LogsWhat {
    /// One sidecar's containers.
    Sidecar(sidecars::Logs),
    /// A pipeline's main container.
    Pipeline(sidecars::LogsPipeline),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Human-readable text.
    #[default]
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// A failure to report: the sentence goes to stderr and the process exits 1 (2 for usage).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The spec file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// What was asked for.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The spec is larger than the console takes.
    #[error("{path}: a sidecar spec may be at most 1 MiB, and this one is {}", size.map_or("larger".to_owned(), |s| format!("{:.1} MiB", s as f64 / 1048576.0)))]
    TooBig {
        /// Where it came from.
        path: String,
        /// Its size, when the file says.
        size: Option<u64>,
    },
    /// The spec file's name does not end in `.json`.
    #[error("{path}: a spec file name must end in .json")]
    NotJsonFile {
        /// What was given.
        path: String,
    },
    /// The spec is not JSON.
    #[error("{path}: {source}")]
    Syntax {
        /// Where the spec came from.
        path: String,
        /// Line, column and what the parser expected.
        source: sidecar_spec::SyntaxError,
    },
    /// The spec is not valid; the errors were printed already.
    #[error("{path}: invalid sidecar spec ({count} error{})", if *.count == 1 { "" } else { "s" })]
    Invalid {
        /// Where the spec came from.
        path: String,
        /// How many errors were printed.
        count: usize,
    },
    /// The console could not be reached.
    #[error("cannot reach the Sidecar Console at {server}: {message}")]
    Http {
        /// Its URL.
        server: String,
        /// Why.
        message: String,
    },
    /// The console refused: its sentence.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The console's sentence.
        message: String,
        /// Its whole answer.
        body: Box<sidecar_api::ErrorBody>,
    },
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// Output could not be written or encoded.
    #[error("cannot print the result: {0}")]
    Print(String),
    /// Whoever read the output stopped reading (`| head`): nothing more to say.
    #[error("the output was closed")]
    OutputClosed,
}

impl CliError {
    /// A failure to write `e` to standard output.
    pub fn printing(e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::OutputClosed
        } else {
            CliError::Print(e.to_string())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let g = &cli.global;
    let result = match cli.command {
        Command::Create { what: CreateWhat::Sidecar(a) } => sidecars::create(g, a),
        Command::Get { what: GetWhat::Sidecar(a) } => sidecars::get(g, a),
        Command::Get { what: GetWhat::Pipeline(a) } => sidecars::get_pipeline(g, a),
        Command::Update { what: UpdateWhat::Sidecar(a) } => sidecars::update(g, a),
        Command::Delete { what: DeleteWhat::Sidecar(a) } => sidecars::delete(g, a),
        Command::Describe { what: DescribeWhat::Sidecar(a) } => sidecars::describe(g, a),
        Command::Logs { what: LogsWhat::Sidecar(a) } => sidecars::logs(g, a),
        Command::Describe { what: DescribeWhat::Pipeline(a) } => sidecars::describe_pipeline(g, a),
        Command::Logs { what: LogsWhat::Pipeline(a) } => sidecars::logs_pipeline(g, a),
        Command::Validate(args) => validate::run(args),
        Command::Login(a) => login::login(g, a),
        Command::Logout => login::logout(),
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "sidecarctl", &mut std::io::stdout());
            Ok(())
        }
    };
    match result {
        // As `grep | head` does: the reader has what it wanted.
        Ok(()) | Err(CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(e) => {
            let details: Vec<String> = match &e {
                CliError::Api { body, .. } => {
                    body.details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect()
                }
                _ => Vec::new(),
            };
            if details.len() > 1 {
                // Several problems: one line each under the sentence.
                eprintln!("error: invalid sidecar spec: {} problems", details.len());
                for d in details {
                    eprintln!("  {d}");
                }
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
