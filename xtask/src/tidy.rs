//! Repository rules, checked by `cargo xtask tidy` and by this crate's tests (so CI runs them):
//! every Rust source file opens with a `//!` module doc; no `todo!`/`unimplemented!`; no ignored
//! or should-panic tests; no crate but the upstream adapter (`weft-upstream`) and the
//! conformance harness (`weft-miden`) depends on an upstream `miden-*` crate other than
//! `miden-crypto`; the facade (`weft`) depends only on weft's library crates.

use std::path::{Path, PathBuf};

/// Returns the workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The crates that may depend on upstream: the adapter and the conformance harness.
const UPSTREAM_CRATES: [&str; 2] = ["weft-upstream", "weft-miden"];

/// The crates the facade re-exports, its only dependencies.
const LIBRARY_CRATES: [&str; 7] = [
    "weft-core",
    "weft-mast",
    "weft-host",
    "weft-fast",
    "weft-replay",
    "weft-tracegen",
    "weft-reference",
];

/// The facade's dependencies that are not weft library crates (its manifest's `[dependencies]`
/// table, read line by line: `name = ...` or `name.workspace = true`).
fn facade_problems(manifest: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if !section.contains("dependencies") || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .split(['=', '.'])
            .next()
            .map(str::trim)
            .unwrap_or_default();
        if !LIBRARY_CRATES.contains(&name) {
            problems.push(format!(
                "crates/weft: the facade depends on `{name}`; it may only re-export weft's library crates"
            ));
        }
    }
    problems
}

/// The most lines a source file under a crate's `src/` may have. Past that a file mixes
/// concerns and is split along them. Test modules (`tests.rs`, `tests/`) are exempt: a table of
/// cases reads well long.
pub const MAX_SOURCE_LINES: usize = 600;

/// Whether `file` (relative to the workspace root) is source that [`MAX_SOURCE_LINES`]
/// applies to.
fn is_sized_source(file: &Path) -> bool {
    let parts: Vec<_> = file
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    parts.iter().any(|p| p == "src")
        && !parts
            .iter()
            .any(|p| p == "tests" || p == "tests.rs" || p == "fuzz")
}

/// Checks the repository rules; returns every problem found.
///
/// # Errors
/// Returns the list of violations.
pub fn check_repository(root: &Path) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "fuzz", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    let forbidden = [
        ["todo", "!("].concat(),
        ["unimplemented", "!("].concat(),
        ["#[", "ignore]"].concat(),
        ["#[", "should_panic"].concat(),
    ];
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            problems.push(format!("{}: unreadable", file.display()));
            continue;
        };
        if !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: does not open with a `//!` doc comment",
                file.display()
            ));
        }
        let n_lines = text.lines().count();
        if n_lines > MAX_SOURCE_LINES && is_sized_source(file.strip_prefix(root).unwrap_or(file)) {
            problems.push(format!(
                "{}: {n_lines} lines (at most {MAX_SOURCE_LINES}); split it along its concerns",
                file.display()
            ));
        }
        for pattern in &forbidden {
            if let Some(line) = text.lines().position(|l| l.contains(pattern.as_str())) {
                problems.push(format!(
                    "{}:{}: contains `{pattern}`",
                    file.display(),
                    line + 1
                ));
            }
        }
    }
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        problems.push("no crates directory".to_string());
        return Err(problems);
    };
    for entry in crates.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(manifest) = std::fs::read_to_string(entry.path().join("Cargo.toml")) else {
            continue;
        };
        if name == "weft" {
            problems.extend(facade_problems(&manifest));
        }
        if UPSTREAM_CRATES.contains(&name.as_str()) {
            continue;
        }
        for line in manifest.lines() {
            let key = line.trim_start();
            if key.starts_with("miden-") && !key.starts_with("miden-crypto") {
                problems.push(format!(
                    "crates/{name}: library crate depends on upstream `{key}`"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_follows_the_rules() {
        if let Err(problems) = check_repository(&workspace_root()) {
            panic!("repository rules violated:\n{}", problems.join("\n"));
        }
    }

    #[test]
    fn rules_catch_a_missing_module_doc() {
        let dir = std::env::temp_dir().join(format!("weft-tidy-{}", std::process::id()));
        let src = dir.join("crates/demo/src");
        std::fs::create_dir_all(&src).expect("temp dir");
        std::fs::write(src.join("lib.rs"), "fn main() {}\n").expect("write");
        let long = format!("//! Long.\n{}", "fn f() {}\n".repeat(MAX_SOURCE_LINES));
        std::fs::write(src.join("long.rs"), &long).expect("write");
        std::fs::write(src.join("tests.rs"), &long).expect("write");
        std::fs::write(
            dir.join("crates/demo/Cargo.toml"),
            "[dependencies]\nmiden-core = \"1\"\n",
        )
        .expect("write");
        let problems = check_repository(&dir).expect_err("violations expected");
        std::fs::remove_dir_all(&dir).ok();
        assert!(problems.iter().any(|p| p.contains("`//!`")), "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("upstream")),
            "{problems:?}"
        );
        let too_long: Vec<_> = problems
            .iter()
            .filter(|p| p.contains("lines (at most"))
            .collect();
        assert_eq!(too_long.len(), 1, "{problems:?}");
        assert!(too_long[0].contains("long.rs"), "{problems:?}");
    }

    #[test]
    fn the_facade_may_only_depend_on_library_crates() {
        let ok = "[package]\nname = \"weft\"\n\n[dependencies]\nweft-core.workspace = true\nweft-mast = { path = \"../weft-mast\" }\n";
        assert_eq!(facade_problems(ok), Vec::<String>::new());
        let bad =
            format!("{ok}clap = \"4\"\n\n[dev-dependencies]\nweft-upstream.workspace = true\n");
        let problems = facade_problems(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`clap`"), "{problems:?}");
        assert!(problems[1].contains("`weft-upstream`"), "{problems:?}");
    }
}
