//! The sidecar and pipeline commands: each one request (or a few) to the console, printed.

use crate::client::Console;
use crate::print::{self, age};
use crate::validate::read_spec;
use crate::{CliError, Global, Output};
use sidecar_api::{
    Created, Deleted, Diagnosis, LogLine, PipelineState, PipelineView, Severity, SidecarEvent, SidecarState,
    SidecarView,
};
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

fn status_text(s: &SidecarView) -> (String, String) {
    (format!("{}/{}", s.status.ready, s.status.replicas), s.status.state.clone())
}

/// Reads a spec file and checks that it is JSON, so that a syntax error names the file; the
/// console checks the rest, with the pipeline.
fn spec_file(path: &str) -> Result<String, CliError> {
    let body = read_spec(path)?;
    if let Err(sidecar_spec::CheckError::Syntax(source)) = sidecar_spec::check(&body) {
        let path = if path == "-" { "standard input".to_owned() } else { path.to_owned() };
        return Err(CliError::Syntax { path, source });
    }
    Ok(body)
}

/// The API server's warnings about a write, on standard error as kubectl prints them.
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("Warning: {w}");
    }
}

/// Runs `create sidecar`.
pub fn create(g: &Global, a: Create) -> Result<(), CliError> {
    let body = spec_file(&a.spec)?;
    let console = g.console()?;
    let (ns, name) = console.resolve(&a.pipeline, g.namespace.as_deref())?;
    let created: Created = console.post(&format!("/pipelines/{ns}/{name}/sidecars"), body, a.dry_run)?;
    warn(&created.warnings);
    if a.output != Output::Table {
        return print::structured(a.output, &created);
    }
    print::table(&["ID", "CREATED AT"], &[vec![created.id, created.created_at]])?;
    if a.dry_run {
        print::write("(dry run: nothing was changed)\n")?;
    }
    Ok(())
}

/// Runs `get sidecar`.
pub fn get(g: &Global, a: Get) -> Result<(), CliError> {
    let console = g.console()?;
    let (ns, name) = console.resolve(&a.pipeline, g.namespace.as_deref())?;
    let list: Vec<SidecarView> = console.get(&format!("/pipelines/{ns}/{name}/sidecars"))?;
    if a.output != Output::Table {
        return print::structured(a.output, &list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let (ready, state) = status_text(s);
            vec![s.id.clone(), s.name.clone(), s.image.clone(), ready, state, age(&s.created_at)]
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
    let console = g.console()?;
    let updated: SidecarView =
        console.put(&format!("/sidecars/{}", a.sidecar), body, a.dry_run, a.if_match.as_deref())?;
    warn(&updated.warnings);
    if a.output != Output::Table {
        return print::structured(a.output, &updated);
    }
    print::table(&["ID", "NAME", "UPDATED AT"], &[vec![updated.id, updated.name, updated.updated_at]])?;
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
    let console = g.console()?;
    if !a.yes && !a.dry_run {
        // Name what is about to go (and fail early on an unknown ID).
        let s: SidecarView = console.get(&format!("/sidecars/{}", a.sidecar))?;
        let what = format!(
            "Delete sidecar \"{}\" ({}) from pipeline {}/{}, and from every replica",
            s.name, a.sidecar, s.pipeline.namespace, s.pipeline.name
        );
        let refusal = format!("refusing to delete sidecar \"{}\" ({})", s.name, a.sidecar);
        if !confirm(&what, &refusal)? {
            eprintln!("Nothing was deleted.");
            return Ok(());
        }
    }
    let deleted: Deleted = console.delete(&format!("/sidecars/{}", a.sidecar), a.dry_run)?;
    warn(&deleted.warnings);
    if a.output != Output::Table {
        return print::structured(a.output, &deleted);
    }
    let note = if a.dry_run { " (dry run: nothing was changed)" } else { "" };
    print::write(&format!("sidecar \"{}\" deleted{note}\n", a.sidecar))
}

/// Runs `describe sidecar`.
pub fn describe(g: &Global, a: Describe) -> Result<(), CliError> {
    let console = g.console()?;
    let st: SidecarState = console.get(&format!("/sidecars/{}/state", a.sidecar))?;
    if a.output != Output::Table {
        // The sidecar with its replicas, events and diagnosis.
        let mut all = serde_json::to_value(&st.sidecar).map_err(|e| CliError::Print(e.to_string()))?;
        all["replicas"] = serde_json::to_value(&st.replicas).unwrap_or_default();
        all["events"] = serde_json::to_value(&st.events).unwrap_or_default();
        all["diagnosis"] = serde_json::to_value(&st.diagnosis).unwrap_or_default();
        return print::structured(a.output, &all);
    }
    let s = &st.sidecar;
    let (ready, state) = status_text(s);
    let mut out = String::new();
    for (k, v) in [
        ("ID", s.id.clone()),
        ("Name", s.name.clone()),
        ("Pipeline", format!("{}/{}", s.pipeline.namespace, s.pipeline.name)),
        ("Image", s.image.clone()),
        ("Status", format!("{state} ({ready} ready)")),
        ("Created", s.created_at.clone()),
        ("Updated", s.updated_at.clone()),
        ("ETag", s.etag.clone()),
    ] {
        out.push_str(&format!("{:<10}{v}\n", format!("{k}:")));
    }
    out.push_str("Spec:\n");
    let spec = serde_yaml_ng::to_string(&s.spec).map_err(|e| CliError::Print(e.to_string()))?;
    for line in spec.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    print::write(&out)?;
    print::write("Replicas:\n")?;
    let rows: Vec<Vec<String>> = st
        .replicas
        .iter()
        .map(|r| {
            let reason = [r.reason.clone().unwrap_or_default(), r.message.clone().unwrap_or_default()]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            vec![
                format!("  {}", r.replica),
                r.node.clone().unwrap_or_default(),
                r.state.clone(),
                r.ready.to_string(),
                r.restart_count.to_string(),
                reason,
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (no replicas)\n")?;
    } else {
        print::table(&["  REPLICA", "NODE", "STATE", "READY", "RESTARTS", "REASON"], &rows)?;
    }
    let problems: Vec<&Diagnosis> = st.diagnosis.iter().filter(|d| d.severity == Severity::Error).collect();
    if !problems.is_empty() {
        print::write("Diagnosis:\n")?;
        let mut out = String::new();
        for d in problems {
            out.push_str(&format!("  {} ({})\n", d.title, d.reason));
            for h in &d.hints {
                out.push_str(&format!("    - {h}\n"));
            }
            if let Some(c) = &d.command {
                out.push_str(&format!("    $ {c}\n"));
            }
        }
        print::write(&out)?;
    }
    events_table(&st.events)
}

fn events_table(events: &[SidecarEvent]) -> Result<(), CliError> {
    print::write("Events:\n")?;
    let rows: Vec<Vec<String>> = events
        .iter()
        .take(20)
        .map(|e| {
            vec![
                format!("  {}", age(e.last_seen.as_deref().unwrap_or(""))),
                e.type_.clone(),
                e.reason.clone(),
                e.replica.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (none)\n")
    } else {
        print::table(&["  LAST SEEN", "TYPE", "REASON", "REPLICA", "MESSAGE"], &rows)
    }
}

/// `describe pipeline`.
#[derive(Debug, clap::Args)]
pub struct DescribePipeline {
    /// The pipeline: NAME, or NAMESPACE/NAME.
    name: String,
    /// Output format (json and yaml print the pipeline, its sidecars, status and events).
    #[arg(short, long, value_enum, default_value_t)]
    output: Output,
}

/// Runs `describe pipeline`.
pub fn describe_pipeline(g: &Global, a: DescribePipeline) -> Result<(), CliError> {
    let console = g.console()?;
    let (ns, name) = console.resolve(&a.name, g.namespace.as_deref())?;
    let st: PipelineState = console.get(&format!("/pipelines/{ns}/{name}/status"))?;
    let events: Vec<SidecarEvent> = console.get(&format!("/pipelines/{ns}/{name}/events"))?;
    if a.output != Output::Table {
        let mut all = serde_json::to_value(&st).map_err(|e| CliError::Print(e.to_string()))?;
        all["events"] = serde_json::to_value(&events).unwrap_or_default();
        return print::structured(a.output, &all);
    }
    let p = &st.pipeline;
    let r = &st.status.rollout;
    let rollout = if !r.exists {
        "not created yet".to_owned()
    } else if r.complete {
        format!("complete ({} replicas)", r.desired)
    } else {
        format!("{} of {} updated, {} ready, {} available", r.updated, r.desired, r.ready, r.available)
    };
    let mut out = String::new();
    for (k, v) in [
        ("Name", p.name.clone()),
        ("Namespace", p.namespace.clone()),
        ("Kind", p.kind.clone()),
        ("Image", p.image.clone()),
        ("Phase", p.phase.clone().unwrap_or_else(|| "<none>".into())),
        ("Message", p.message.clone().unwrap_or_else(|| "<none>".into())),
        ("Replicas", format!("{} desired, {} ready", p.replicas, p.ready_replicas)),
        ("Rollout", format!("{} {}: {rollout}", r.kind, r.name)),
        ("Created", p.created_at.clone().unwrap_or_default()),
    ] {
        out.push_str(&format!("{:<11}{v}\n", format!("{k}:")));
    }
    print::write(&out)?;
    print::write("Conditions:\n")?;
    let rows: Vec<Vec<String>> = st
        .status
        .conditions
        .iter()
        .map(|c| {
            vec![
                format!("  {}", c.type_),
                c.status.clone(),
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (none)\n")?;
    } else {
        print::table(&["  TYPE", "STATUS", "REASON", "MESSAGE"], &rows)?;
    }
    print::write("Replicas:\n")?;
    let rows: Vec<Vec<String>> = st
        .status
        .replicas
        .iter()
        .map(|r| {
            vec![
                format!("  {}", r.name),
                r.node.clone().unwrap_or_default(),
                r.phase.clone(),
                format!("{}/{}", r.ready, r.containers),
                r.restarts.to_string(),
                age(r.created_at.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (none)\n")?;
    } else {
        print::table(&["  REPLICA", "NODE", "PHASE", "READY", "RESTARTS", "AGE"], &rows)?;
    }
    print::write("Sidecars:\n")?;
    let rows: Vec<Vec<String>> = st
        .sidecars
        .iter()
        .map(|s| {
            let (ready, _) = status_text(s);
            vec![format!("  {}", s.id), s.name.clone(), s.image.clone(), ready, sidecar_api::state_words(&s.status)]
        })
        .collect();
    if rows.is_empty() {
        print::write("  (none)\n")?;
    } else {
        print::table(&["  ID", "NAME", "IMAGE", "READY", "STATUS"], &rows)?;
    }
    events_table(&events)
}

/// `logs pipeline`.
#[derive(Debug, clap::Args)]
pub struct LogsPipeline {
    /// The pipeline: NAME, or NAMESPACE/NAME.
    name: String,
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

/// Runs `logs pipeline`: the main container's lines.
pub fn logs_pipeline(g: &Global, a: LogsPipeline) -> Result<(), CliError> {
    let console = g.console()?;
    let (ns, name) = console.resolve(&a.name, g.namespace.as_deref())?;
    stream_logs(g, &console, &format!("/pipelines/{ns}/{name}/logs"), a.follow, a.replica.as_deref(), a.tail)
}

/// Runs `logs sidecar`: the console's server-sent events, one line each.
pub fn logs(g: &Global, a: Logs) -> Result<(), CliError> {
    let console = g.console()?;
    stream_logs(g, &console, &format!("/sidecars/{}/logs", a.sidecar), a.follow, a.replica.as_deref(), a.tail)
}

/// Prints the log lines of a server-sent-events endpoint, with the replica in front unless one
/// was chosen.
fn stream_logs(
    g: &Global,
    console: &Console,
    path: &str,
    follow: bool,
    replica: Option<&str>,
    tail: Option<u32>,
) -> Result<(), CliError> {
    let mut query = vec![("follow", follow.to_string())];
    if let Some(r) = replica {
        query.push(("replica", r.to_owned()));
    }
    if let Some(n) = tail {
        query.push(("tailLines", n.to_string()));
    }
    let resp = console.stream(path, &query)?;
    let mut event = String::new();
    let mut out = std::io::stdout().lock();
    for line in std::io::BufReader::new(resp).lines() {
        // The reader's error says only "request or response body error"; its source says no more
        // a person can act on.
        let line = line.map_err(|_| CliError::Http {
            server: g.server.clone(),
            message: "log stream broke off; run the command again to go on".into(),
        })?;
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if let Some(data) = line.strip_prefix("data:") {
            let data = data.strip_prefix(' ').unwrap_or(data);
            if event == "error" {
                return Err(CliError::Api { status: 502, message: data.to_owned(), body: Box::default() });
            }
            let l: LogLine = serde_json::from_str(data).unwrap_or_default();
            let shown = if replica.is_some() { l.line } else { format!("[{}] {}", l.replica, l.line) };
            writeln!(out, "{shown}").map_err(|e| CliError::printing(&e))?;
            let _ = out.flush();
        } else if line.is_empty() {
            event.clear();
        }
    }
    Ok(())
}

/// Runs `get pipeline`.
pub fn get_pipeline(g: &Global, a: GetPipeline) -> Result<(), CliError> {
    let console = g.console()?;
    let list: Vec<PipelineView> = match &a.name {
        // The lookup by name answers with the pipeline itself.
        Some(name) => vec![console.pipeline(name, g.namespace.as_deref())?],
        None => match &g.namespace {
            Some(ns) => console.get_query("/pipelines", &[("namespace", ns)])?,
            None => console.get("/pipelines")?,
        },
    };
    if a.output != Output::Table {
        return match (&a.name, list.first()) {
            (Some(_), Some(one)) => print::structured(a.output, one),
            _ => print::structured(a.output, &list),
        };
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|p| {
            vec![
                p.namespace.clone(),
                p.name.clone(),
                p.kind.clone(),
                format!("{}/{}", p.ready_replicas, p.replicas),
                if p.sidecars.is_empty() { "<none>".into() } else { p.sidecars.join(",") },
                p.phase.clone().unwrap_or_default(),
                age(p.created_at.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    if rows.is_empty() {
        eprintln!("No pipelines found.");
        return Ok(());
    }
    print::table(&["NAMESPACE", "NAME", "KIND", "READY", "SIDECARS", "PHASE", "AGE"], &rows)
}
