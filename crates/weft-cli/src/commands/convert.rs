//! `weft convert`: write a program or library in one of weft's formats (fast, compact, text),
//! with a program's entry point as the first procedure root.

use std::path::Path;

use weft_mast::{
    MastForest, Program,
    format::{WriteError, compact, fast, text},
};

use super::print;
use crate::{
    CliError, OutputFormat,
    load::{self, canonical_forest},
    report::digest_hex,
};

fn has_decorators(forest: &MastForest) -> bool {
    !forest.decorators().is_empty()
        || forest
            .node_ids()
            .any(|id| forest.node_decorators(id).is_some_and(|d| !d.is_empty()))
}

/// Runs `weft convert`.
pub(super) fn convert(
    input: &Path,
    output: &Path,
    format: OutputFormat,
    strip: bool,
) -> Result<(), CliError> {
    let file = load::load(input)?;
    let format_name = match format {
        OutputFormat::Fast => "fast",
        OutputFormat::Compact => "compact",
        OutputFormat::Text => "text",
    };
    let convert_error = |source| CliError::Convert {
        path: output.display().to_string(),
        format: format_name,
        source,
    };
    if !strip && has_decorators(&file.forest) {
        return Err(convert_error(WriteError::HasDecorators));
    }
    let entry = file.program.as_ref().map(Program::entrypoint);
    let (forest, _) = canonical_forest(&file.forest, entry);
    let bytes = match format {
        OutputFormat::Fast => fast::write(&forest),
        OutputFormat::Compact => compact::write(&forest),
        OutputFormat::Text => text::print(&forest).map(String::into_bytes),
    }
    .map_err(convert_error)?;
    std::fs::write(output, &bytes).map_err(|source| CliError::Write {
        path: output.display().to_string(),
        source,
    })?;
    print(&format!(
        "wrote {} ({format_name}, {} bytes, {} nodes, {} procedures{})\n",
        output.display(),
        bytes.len(),
        forest.num_nodes(),
        forest.procedure_roots().len(),
        file.program
            .as_ref()
            .map(|p| format!(", entry {}", digest_hex(&p.hash())))
            .unwrap_or_default(),
    ))
}
