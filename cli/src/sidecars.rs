//! The sidecar and pipeline commands: each one request (or a few) to the console, printed.

use crate::client::Console;
use crate::print::{self, age, text};
use crate::validate::read_spec;
use crate::{CliError, Global, Output};
use serde_json::Value;
use std::io::{BufRead, IsTerminal, Write};

/// `create sidecar`.
#[derive(Debug, clap::Args)]
pub struct Create {
    /// The pipeline: NAME, or NAMESPACE/NAME.
    #[arg(long, value_name = "NAME")]
    pipeline: String,
    /// The sidecar spec file (its name must end in .json), or - for standard input.
    #[arg(long, value_name = "FILE.json")]
    spec: String,
    /// Check everything and show the result, but change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// `get sidecar`.
#[derive(Debug, clap::Args)]
pub struct Get {
    /// The pipeline: NAME, or NAMESPACE/NAME.
    #[arg(long, value_name = "NAME")]
    pipeline: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// `update sidecar`.
#[derive(Debug, clap::Args)]
pub struct Update {
    /// The sidecar's ID.
    #[arg(long, value_name = "ID")]
    sidecar: String,
    /// The new spec file (its name must end in .json), or - for standard input.
    #[arg(long, value_name = "FILE.json")]
    spec: String,
    /// Update only if the sidecar is still as read (its ETag, from `get sidecar -o json`).
    #[arg(long, value_name = "ETAG")]
    if_match: Option<String>,
    /// Check everything and show the result, but change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// `delete sidecar`.
#[derive(Debug, clap::Args)]
pub struct Delete {
    /// The sidecar's ID.
    #[arg(long, value_name = "ID")]
    sidecar: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Check, but change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// `describe sidecar`.
#[derive(Debug, clap::Args)]
pub struct Describe {
    /// The sidecar's ID.
    #[arg(long, value_name = "ID")]
    sidecar: String,
    /// Output format (json and yaml print the sidecar, its replicas and events).
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// `logs sidecar`.
#[derive(Debug, clap::Args)]
pub struct Logs {
    /// The sidecar's ID.
    #[arg(long, value_name = "ID")]
    sidecar: String,
    /// Keep printing new lines.
    #[arg(short, long)]
    follow: bool,
    /// Only this replica (pod).
    #[arg(long, value_name = "POD")]
    replica: Option<String>,
    /// The last N lines of each replica.
    #[arg(long, value_name = "N")]
    tail: Option<u32>,
}

/// `get pipeline`.
#[derive(Debug, clap::Args)]
pub struct GetPipeline {
    /// One pipeline: NAME, or NAMESPACE/NAME; all when absent.
    name: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

fn status_text(v: &Value) -> (String, String) {
    let ready = format!("{}/{}", text(v, "/status/ready"), text(v, "/status/replicas"));
    (ready, text(v, "/status/state"))
}

/// Reads a spec file and checks that it is JSON, so that a syntax error names the file; the
/// console checks the rest, with the pipeline.
fn spec_file(path: &str) -> Result<String, CliError> {
    let body = read_spec(path)?;
    if let Err(spec::CheckError::Syntax(source)) = spec::check(&body) {
        let path = if path == "-" { "standard input".to_owned() } else { path.to_owned() };
        return Err(CliError::Syntax { path, source });
    }
    Ok(body)
}

/// Runs `create sidecar`.
pub fn create(g: &Global, a: Create) -> Result<(), CliError> {
    let body = spec_file(&a.spec)?;
    let console = Console::new(&g.server)?;
    let (ns, name) = console.resolve(&a.pipeline, g.namespace.as_deref())?;
    let created = console.post(&format!("/pipelines/{ns}/{name}/sidecars"), body, a.dry_run)?;
    if a.output != Output::Table {
        return print::structured(a.output, &created);
    }
    print::table(&["ID", "CREATED AT"], &[vec![text(&created, "/id"), text(&created, "/createdAt")]])?;
    if a.dry_run {
        print::write("(dry run: nothing was changed)\n")?;
    }
    Ok(())
}

/// Runs `get sidecar`.
pub fn get(g: &Global, a: Get) -> Result<(), CliError> {
    let console = Console::new(&g.server)?;
    let (ns, name) = console.resolve(&a.pipeline, g.namespace.as_deref())?;
    let list = console.get(&format!("/pipelines/{ns}/{name}/sidecars"))?;
    if a.output != Output::Table {
        return print::structured(a.output, &list);
    }
    let rows: Vec<Vec<String>> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let (ready, state) = status_text(s);
            vec![text(s, "/id"), text(s, "/name"), text(s, "/image"), ready, state, age(&text(s, "/createdAt"))]
        })
        .collect();
    if rows.is_empty() {
        eprintln!("No sidecars in pipeline {ns}/{name}.");
        return Ok(());
    }
    print::table(&["ID", "NAME", "IMAGE", "READY", "STATUS", "AGE"], &rows)
}

/// Runs `update sidecar`.
pub fn update(g: &Global, a: Update) -> Result<(), CliError> {
    let body = spec_file(&a.spec)?;
    let console = Console::new(&g.server)?;
    let updated = console.put(&format!("/sidecars/{}", a.sidecar), body, a.dry_run, a.if_match.as_deref())?;
    if a.output != Output::Table {
        return print::structured(a.output, &updated);
    }
    print::table(
        &["ID", "NAME", "UPDATED AT"],
        &[vec![text(&updated, "/id"), text(&updated, "/name"), text(&updated, "/updatedAt")]],
    )?;
    if a.dry_run {
        print::write("(dry run: nothing was changed)\n")?;
    }
    Ok(())
}

/// Asks "(y/N)" on the terminal; without one, refuses with `refusal`.
fn confirm(question: &str, refusal: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(format!("{refusal} without --yes: there is no terminal to ask on")));
    }
    eprint!("{question} (y/N) ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| CliError::Print(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

/// Runs `delete sidecar`.
pub fn delete(g: &Global, a: Delete) -> Result<(), CliError> {
    let console = Console::new(&g.server)?;
    if !a.yes && !a.dry_run {
        // Name what is about to go (and fail early on an unknown ID).
        let s = console.get(&format!("/sidecars/{}", a.sidecar))?;
        let what = format!(
            "Delete sidecar \"{}\" ({}) from pipeline {}/{}, and from every replica",
            text(&s, "/name"),
            a.sidecar,
            text(&s, "/pipeline/namespace"),
            text(&s, "/pipeline/name")
        );
        let refusal = format!("refusing to delete sidecar \"{}\" ({})", text(&s, "/name"), a.sidecar);
        if !confirm(&what, &refusal)? {
            eprintln!("Nothing was deleted.");
            return Ok(());
        }
    }
    let deleted = console.delete(&format!("/sidecars/{}", a.sidecar), a.dry_run)?;
    if a.output != Output::Table {
        return print::structured(a.output, &deleted);
    }
    let note = if a.dry_run { " (dry run: nothing was changed)" } else { "" };
    print::write(&format!("sidecar \"{}\" deleted{note}\n", a.sidecar))
}

/// Runs `describe sidecar`.
pub fn describe(g: &Global, a: Describe) -> Result<(), CliError> {
    let console = Console::new(&g.server)?;
    let s = console.get(&format!("/sidecars/{}", a.sidecar))?;
    let st = console.get(&format!("/sidecars/{}/status", a.sidecar))?;
    let events = console.get(&format!("/sidecars/{}/events", a.sidecar))?;
    if a.output != Output::Table {
        let mut all = s.clone();
        all["replicas"] = st["replicas"].clone();
        all["events"] = events;
        return print::structured(a.output, &all);
    }
    let (ready, state) = status_text(&s);
    let mut out = String::new();
    for (k, v) in [
        ("ID", text(&s, "/id")),
        ("Name", text(&s, "/name")),
        ("Pipeline", format!("{}/{}", text(&s, "/pipeline/namespace"), text(&s, "/pipeline/name"))),
        ("Image", text(&s, "/image")),
        ("Status", format!("{state} ({ready} ready)")),
        ("Created", text(&s, "/createdAt")),
        ("Updated", text(&s, "/updatedAt")),
        ("ETag", text(&s, "/etag")),
    ] {
        out.push_str(&format!("{:<10}{v}\n", format!("{k}:")));
    }
    out.push_str("Spec:\n");
    let spec = serde_yaml_ng::to_string(&s["spec"]).map_err(|e| CliError::Print(e.to_string()))?;
    for line in spec.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    print::write(&out)?;
    print::write("Replicas:\n")?;
    let rows: Vec<Vec<String>> = st["replicas"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let reason = [text(r, "/reason"), text(r, "/message")]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            vec![
                format!("  {}", text(r, "/replica")),
                text(r, "/node"),
                text(r, "/state"),
                text(r, "/ready"),
                text(r, "/restartCount"),
                reason,
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (no replicas)\n")?;
    } else {
        print::table(&["  REPLICA", "NODE", "STATE", "READY", "RESTARTS", "REASON"], &rows)?;
    }
    print::write("Events:\n")?;
    let rows: Vec<Vec<String>> = events
        .as_array()
        .into_iter()
        .flatten()
        .take(20)
        .map(|e| {
            vec![
                format!("  {}", age(&text(e, "/lastSeen"))),
                text(e, "/type"),
                text(e, "/reason"),
                text(e, "/replica"),
                text(e, "/message"),
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (none)\n")
    } else {
        print::table(&["  LAST SEEN", "TYPE", "REASON", "REPLICA", "MESSAGE"], &rows)
    }
}

/// Runs `logs sidecar`: the console's server-sent events, one line each.
pub fn logs(g: &Global, a: Logs) -> Result<(), CliError> {
    let console = Console::new(&g.server)?;
    let mut query = vec![("follow", a.follow.to_string())];
    if let Some(r) = &a.replica {
        query.push(("replica", r.clone()));
    }
    if let Some(n) = a.tail {
        query.push(("tailLines", n.to_string()));
    }
    let resp = console.stream(&format!("/sidecars/{}/logs", a.sidecar), &query)?;
    let mut event = String::new();
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(resp).lines() {
        let line =
            line.map_err(|e| CliError::Http { server: g.server.clone(), message: format!("log stream broke: {e}") })?;
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if let Some(data) = line.strip_prefix("data:") {
            let data = data.strip_prefix(' ').unwrap_or(data);
            if event == "error" {
                return Err(CliError::Api { status: 502, message: data.to_owned(), body: Value::Null });
            }
            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
            let text_line = text(&v, "/line");
            let shown = if a.replica.is_some() { text_line } else { format!("[{}] {text_line}", text(&v, "/replica")) };
            writeln!(out, "{shown}").map_err(|e| CliError::Print(e.to_string()))?;
            let _ = out.flush();
        } else if line.is_empty() {
            event.clear();
        }
    }
    Ok(())
}

/// Runs `get pipeline`.
pub fn get_pipeline(g: &Global, a: GetPipeline) -> Result<(), CliError> {
    let console = Console::new(&g.server)?;
    let list = match &a.name {
        // The lookup by name answers with the pipeline itself.
        Some(name) => Value::Array(vec![console.pipeline(name, g.namespace.as_deref())?]),
        None => match &g.namespace {
            Some(ns) => console.get_query("/pipelines", &[("namespace", ns)])?,
            None => console.get("/pipelines")?,
        },
    };
    if a.output != Output::Table {
        let shown = if a.name.is_some() { list[0].clone() } else { list };
        return print::structured(a.output, &shown);
    }
    let rows: Vec<Vec<String>> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let sidecars: Vec<String> =
                p["sidecars"].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect();
            vec![
                text(p, "/namespace"),
                text(p, "/name"),
                text(p, "/kind"),
                format!("{}/{}", text(p, "/readyReplicas"), text(p, "/replicas")),
                if sidecars.is_empty() { "<none>".into() } else { sidecars.join(",") },
                text(p, "/phase"),
                age(&text(p, "/createdAt")),
            ]
        })
        .collect();
    if rows.is_empty() {
        eprintln!("No pipelines found.");
        return Ok(());
    }
    print::table(&["NAMESPACE", "NAME", "KIND", "READY", "SIDECARS", "PHASE", "AGE"], &rows)
}
