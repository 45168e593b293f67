//! `sidecarctl`: manage pipeline sidecars from the command line.
//!
//! Exit codes: 0 success, 1 error (one sentence on stderr), 2 usage error.

mod validate;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Manage the sidecars of data pipelines.
#[derive(Debug, Parser)]
#[command(name = "sidecarctl", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a sidecar spec file without touching any cluster.
    Validate(validate::Args),
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

/// A failure to report: the sentence goes to stderr and the process exits 1.
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
        source: spec::SyntaxError,
    },
    /// The spec is not valid; the errors were printed already.
    #[error("{path}: invalid sidecar spec ({count} error{})", if *.count == 1 { "" } else { "s" })]
    Invalid {
        /// Where the spec came from.
        path: String,
        /// How many errors were printed.
        count: usize,
    },
    /// Output could not be written or encoded.
    #[error("cannot print the result: {0}")]
    Print(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
