//! `sidecarctl validate FILE.json | -`

use crate::{CliError, Output};
use std::io::{Read, Write};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file (its name must end in .json), or - for standard input.
    #[arg(value_name = "FILE.json|-")]
    file: String,
    /// Output format: a short verdict (table), or the defaulted spec / the errors as JSON or YAML.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// The most a spec may weigh: what the console takes in one request body.
pub const SPEC_LIMIT: u64 = 1024 * 1024;

/// Reads a spec file as the sidecar commands take it: `-` is standard input, anything else must
/// be a `.json` file. Neither is read past [`SPEC_LIMIT`]: a file that says it is larger is
/// refused before a byte is read, and a stream (a pipe, `/dev/zero`) is cut off there.
pub fn read_spec(path: &str) -> Result<String, CliError> {
    if path == "-" {
        return read_bounded(std::io::stdin().lock(), "standard input", None);
    }
    if !path.to_ascii_lowercase().ends_with(".json") {
        return Err(CliError::NotJsonFile { path: path.into() });
    }
    let file = std::fs::File::open(path).map_err(|source| CliError::Read { path: path.into(), source })?;
    let size = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    if let Some(size) = size.filter(|s| *s > SPEC_LIMIT) {
        return Err(CliError::TooBig { path: path.into(), size: Some(size) });
    }
    read_bounded(file, path, size)
}

/// Reads `from` as UTF-8 text of at most [`SPEC_LIMIT`] bytes.
fn read_bounded(from: impl Read, path: &str, size: Option<u64>) -> Result<String, CliError> {
    let mut bytes = Vec::with_capacity(size.unwrap_or(0) as usize);
    from.take(SPEC_LIMIT + 1).read_to_end(&mut bytes).map_err(|source| CliError::Read { path: path.into(), source })?;
    if bytes.len() as u64 > SPEC_LIMIT {
        return Err(CliError::TooBig { path: path.into(), size: None });
    }
    String::from_utf8(bytes).map_err(|_| CliError::Read {
        path: path.into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"),
    })
}

/// Runs `validate`.
pub fn run(args: Args) -> Result<(), CliError> {
    let text = read_spec(&args.file)?;
    let shown = if args.file == "-" { "standard input".to_owned() } else { args.file.clone() };
    match sidecar_spec::check(&text) {
        Ok(spec) if args.output == Output::Table => {
            crate::print::write(&format!("{shown}: valid sidecar spec \"{}\"\n", spec.name))
        }
        Ok(spec) => crate::print::structured(args.output, &spec),
        Err(sidecar_spec::CheckError::Syntax(source)) => Err(CliError::Syntax { path: shown, source }),
        Err(sidecar_spec::CheckError::Invalid(errors)) => {
            if args.output == Output::Table {
                let mut err = std::io::stderr().lock();
                for e in &errors {
                    writeln!(err, "{e}").map_err(|e| CliError::Print(e.to_string()))?;
                }
            } else {
                crate::print::structured(args.output, &errors)?;
            }
            Err(CliError::Invalid { path: shown, count: errors.len() })
        }
    }
}
