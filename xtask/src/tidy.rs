//! Repository rules, checked by `cargo xtask tidy` and by this crate's tests (so CI runs them):
//! every Rust source file opens with a `//!` module doc; no `todo!`/`unimplemented!`; no ignored
//! or should-panic tests; no library crate depends on an upstream `miden-*` crate other than
//! `miden-crypto`.

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
        if name == "weft-miden" || name == "weft" {
            continue;
        }
        let Ok(manifest) = std::fs::read_to_string(entry.path().join("Cargo.toml")) else {
            continue;
        };
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
    }
}
