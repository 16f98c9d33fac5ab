//! `weft convert`: write a program or library in one of weft's formats (fast, compact, text):
//! a program with its entry point and kernel, a library as a forest.

use std::path::Path;

use weft_mast::{
    MastForest,
    format::{WriteError, compact, fast, text},
};

use super::print;
use crate::{
    CliError, OutputFormat,
    load::{self, canonical_forest, canonical_program},
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
    // A program is written with its entry point and kernel (and the kernel's code, when the
    // input came with it); a library as a forest.
    let program = match &file.program {
        Some(program) => Some(canonical_program(
            input,
            program,
            file.kernel_forest.as_ref(),
        )?),
        None => None,
    };
    let library;
    let forest: &MastForest = match &program {
        Some(program) => program.forest(),
        None => {
            library = canonical_forest(input, &file.forest, None)?.0;
            &library
        }
    };
    let bytes = match (format, &program) {
        (OutputFormat::Fast, Some(p)) => fast::write_program(p),
        (OutputFormat::Fast, None) => fast::write(forest),
        (OutputFormat::Compact, Some(p)) => compact::write_program(p),
        (OutputFormat::Compact, None) => compact::write(forest),
        (OutputFormat::Text, Some(p)) => text::print_program(p).map(String::into_bytes),
        (OutputFormat::Text, None) => text::print(forest).map(String::into_bytes),
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
            .map(|p| {
                let n_kernel = p.kernel().proc_hashes().len();
                let kernel = if n_kernel > 0 {
                    format!(", kernel of {n_kernel} procedures")
                } else {
                    String::new()
                };
                format!(", entry {}{kernel}", digest_hex(&p.hash()))
            })
            .unwrap_or_default(),
    ))
}
