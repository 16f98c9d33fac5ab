//! `weft inspect`: a program's or library's digest, node counts by kind, procedure roots and
//! text form.

use std::{fmt::Write as _, path::Path};

use serde_json::{Value, json};
use weft_mast::{MastNodeKind, Program, format::text};

use super::{print, print_json};
use crate::{
    CliError,
    load::{self, canonical_forest},
    report::digest_hex,
};

/// Runs `weft inspect`.
pub(super) fn inspect(path: &Path, json: bool) -> Result<(), CliError> {
    let file = load::load(path)?;
    let entry = file.program.as_ref().map(Program::entrypoint);
    let (forest, map) = canonical_forest(path, &file.forest, entry)?;
    let digest = file.program.as_ref().map(|p| digest_hex(&p.hash()));
    let text_form = text::print(&forest).map_err(|source| CliError::Convert {
        path: "the text form".to_string(),
        format: "text",
        source,
    })?;
    let mut counts = [0usize; MastNodeKind::ALL.len()];
    for node in forest.nodes() {
        if let Some(i) = MastNodeKind::ALL.iter().position(|&k| k == node.kind()) {
            counts[i] += 1;
        }
    }
    let name_of = |id| {
        file.names
            .iter()
            .find(|(node, _)| map[node.as_usize()] == id)
            .map(|(_, name)| name.clone())
    };
    let entry = entry.map(|id| map[id.as_usize()]);
    let procedures: Vec<(u32, String, Option<String>, bool)> = forest
        .procedure_roots()
        .iter()
        .map(|&id| {
            (
                id.as_u32(),
                digest_hex(&forest[id].digest()),
                name_of(id),
                Some(id) == entry,
            )
        })
        .collect();
    if json {
        let node_counts: serde_json::Map<String, Value> = MastNodeKind::ALL
            .iter()
            .zip(counts)
            .map(|(kind, n)| (kind.name().to_string(), json!(n)))
            .collect();
        return print_json(&json!({
            "kind": file.kind.name(),
            "program_digest": digest,
            "nodes": forest.num_nodes(),
            "node_counts": node_counts,
            "procedures": procedures.iter().map(|(node, digest, name, entry)| json!({
                "node": node,
                "digest": digest,
                "name": name,
                "entry": entry,
            })).collect::<Vec<_>>(),
            "text": text_form,
        }));
    }
    let mut out = String::new();
    let _ = writeln!(out, "file        {} ({})", path.display(), file.kind.name());
    let _ = writeln!(
        out,
        "digest      {}",
        digest.as_deref().unwrap_or("none (no entry point)")
    );
    let by_kind: Vec<String> = MastNodeKind::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| format!("{} {n}", kind.name()))
        .collect();
    let _ = writeln!(
        out,
        "nodes       {} ({})",
        forest.num_nodes(),
        by_kind.join(", ")
    );
    let _ = writeln!(out, "procedures  {}", procedures.len());
    for (node, digest, name, is_entry) in &procedures {
        let _ = writeln!(
            out,
            "  node {node:<6} {digest}{}{}",
            if *is_entry { "  entry" } else { "" },
            name.as_deref()
                .map(|n| format!("  {n}"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "\n{text_form}");
    print(&out)
}
