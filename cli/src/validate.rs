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

/// Reads a spec file as the sidecar commands take it: `-` is standard input, anything else must
/// be a `.json` file.
pub fn read_spec(path: &str) -> Result<String, CliError> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| CliError::Read { path: "standard input".into(), source })?;
        return Ok(text);
    }
    if !path.to_ascii_lowercase().ends_with(".json") {
        return Err(CliError::NotJsonFile { path: path.into() });
    }
    std::fs::read_to_string(path).map_err(|source| CliError::Read { path: path.into(), source })
}

/// Runs `validate`.
pub fn run(args: Args) -> Result<(), CliError> {
    let text = read_spec(&args.file)?;
    let shown = if args.file == "-" { "standard input".to_owned() } else { args.file.clone() };
    match sidecar_spec::check(&text) {
        Ok(spec) if args.output == Output::Table => {
            println!("{shown}: valid sidecar spec \"{}\"", spec.name);
            Ok(())
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
