//! Signing in: `sidecarctl login` keeps a console's address and a Kubernetes bearer token in a
//! file only its owner can read (`$XDG_CONFIG_HOME/sidecarctl/config.json`, mode 0600), used
//! by later commands for that console unless `--token` or `SIDECARCTL_TOKEN` gives another.

use crate::client::Console;
use crate::{CliError, Global};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::PathBuf;

/// `sidecarctl login`.
#[derive(Debug, clap::Args)]
pub struct Login {
    /// Read the token from standard input instead of `--token` or `SIDECARCTL_TOKEN` (keeps
    /// it out of the shell's history).
    #[arg(long)]
    pub token_stdin: bool,
}

/// What `login` keeps.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Saved {
    /// The console.
    pub server: String,
    /// The bearer token.
    pub token: String,
}

/// Where the sign-in is kept.
pub fn config_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("sidecarctl").join("config.json"))
}

/// The saved token for `server`, if `login` kept one for it.
pub fn saved_token(server: &str) -> Option<String> {
    let text = std::fs::read_to_string(config_file()?).ok()?;
    let saved: Saved = serde_json::from_str(&text).ok()?;
    (saved.server.trim_end_matches('/') == server.trim_end_matches('/')).then_some(saved.token)
}

/// Checks the token with the console (which asks Kubernetes), then keeps it.
pub fn login(g: &Global, a: Login) -> Result<(), CliError> {
    let token = if a.token_stdin {
        let mut t = String::new();
        std::io::stdin().read_to_string(&mut t).map_err(|e| CliError::Usage(format!("cannot read the token: {e}")))?;
        t.trim().to_owned()
    } else {
        g.token.clone().unwrap_or_default()
    };
    if token.is_empty() {
        return Err(CliError::Usage("give a token: --token TOKEN, SIDECARCTL_TOKEN, or --token-stdin".into()));
    }
    let console = Console::new(&g.server, Some(&token))?.with_timeout(g.timeout);
    // Any answer but 401 means Kubernetes knows the token (a 403 only says what it may not do).
    match console.get::<serde_json::Value>("/pipelines") {
        Ok(_) => {}
        Err(CliError::Api { status: 403, .. }) => {}
        Err(e) => return Err(e),
    }
    let path = config_file().ok_or_else(|| CliError::Usage("no home folder to keep the sign-in in".into()))?;
    let text = serde_json::to_string_pretty(&Saved { server: g.server.trim_end_matches('/').to_owned(), token })
        .map_err(|e| CliError::Print(e.to_string()))?;
    write_private(&path, &text).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    println!("Signed in to {}; the token is kept in {}", g.server, path.display());
    Ok(())
}

/// Forgets the kept sign-in.
pub fn logout() -> Result<(), CliError> {
    if let Some(path) = config_file() {
        match std::fs::remove_file(&path) {
            Ok(()) => println!("Signed out: removed {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("Not signed in"),
            Err(e) => return Err(CliError::Usage(format!("cannot remove {}: {e}", path.display()))),
        }
    }
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let mut file = open.open(path)?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())
}
