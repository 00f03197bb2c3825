//! `codegen`: writes `meta-graph/src/generated/` from Meta's Graph API specs.
//!
//! ```text
//! cargo run --manifest-path tools/codegen/Cargo.toml -- [--check] [SPECS_DIR [OUT_DIR]]
//! ```
//!
//! `SPECS_DIR` defaults to `../shared/meta-api-specs` next to the repository (it may be the
//! checkout holding `specs/`, or `specs/` itself); `OUT_DIR` to
//! `meta-graph/src/generated`. Every file is formatted with `rustfmt` (edition 2024, the
//! repository's `rustfmt.toml`), so the output is exactly what `cargo fmt` keeps.
//!
//! `--check` writes nothing: it exits 1 and lists the files that differ, are missing or
//! are stale when `OUT_DIR` is not what the specs generate, and 0 when it is.

mod config;
mod generate;
mod names;
mod spec;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("codegen: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut check = false;
    let mut positional = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: codegen [--check] [SPECS_DIR [OUT_DIR]]");
                return Ok(ExitCode::SUCCESS);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    if positional.len() > 2 {
        return Err("usage: codegen [--check] [SPECS_DIR [OUT_DIR]]".to_owned());
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let repo = repo.canonicalize().unwrap_or(repo);
    let specs_dir = positional
        .first()
        .cloned()
        .unwrap_or_else(|| repo.join("../shared/meta-api-specs"));
    let out_dir = positional
        .get(1)
        .cloned()
        .unwrap_or_else(|| repo.join("meta-graph/src/generated"));

    let specs = spec::Specs::open(&specs_dir)?;
    let raw = generate::generate(&specs)?;
    let rustfmt_config = find_rustfmt_config(&out_dir);
    let mut files = BTreeMap::new();
    for (name, text) in raw {
        let formatted = rustfmt(&text, rustfmt_config.as_deref())
            .map_err(|e| format!("rustfmt failed on {name}: {e}"))?;
        files.insert(name, formatted);
    }

    if check {
        let problems = compare(&files, &out_dir)?;
        if problems.is_empty() {
            println!(
                "{} is up to date ({} files)",
                out_dir.display(),
                files.len()
            );
            Ok(ExitCode::SUCCESS)
        } else {
            println!("{} is not what the specs generate:", out_dir.display());
            for p in &problems {
                println!("{p}");
            }
            println!("regenerate with: cargo run --manifest-path tools/codegen/Cargo.toml");
            Ok(ExitCode::from(1))
        }
    } else {
        write(&files, &out_dir)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The `rustfmt.toml` that `cargo fmt` would use for files in `dir`.
fn find_rustfmt_config(dir: &Path) -> Option<PathBuf> {
    let start = if dir.exists() {
        dir.to_path_buf()
    } else {
        dir.parent()?.to_path_buf()
    };
    let start = start.canonicalize().ok()?;
    start.ancestors().find_map(|d| {
        ["rustfmt.toml", ".rustfmt.toml"]
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.is_file())
    })
}

fn rustfmt(source: &str, config: Option<&Path>) -> Result<String, String> {
    let rustfmt = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut cmd = Command::new(rustfmt);
    cmd.args(["--edition", "2024", "--emit", "stdout"]);
    if let Some(config) = config {
        cmd.arg("--config-path").arg(config);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run rustfmt ({e}); install it with `rustup component add rustfmt`")
        })?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}

/// The generated `.rs` files already in `dir` (those starting with the header).
fn existing(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            out.insert(name, text);
        }
    }
    Ok(out)
}

fn compare(files: &BTreeMap<String, String>, dir: &Path) -> Result<Vec<String>, String> {
    let current = existing(dir)?;
    let mut problems = Vec::new();
    for (name, want) in files {
        match current.get(name) {
            None => problems.push(format!("  missing: {name}")),
            Some(have) if have != want => {
                let line = have
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
                let committed = have.lines().nth(line).unwrap_or("<end of file>");
                let generated = want.lines().nth(line).unwrap_or("<end of file>");
                problems.push(format!(
                    "  differs: {name} (first at line {})\n    committed: {}\n    generated: {}",
                    line + 1,
                    committed.trim(),
                    generated.trim()
                ));
            }
            Some(_) => {}
        }
    }
    for name in current.keys() {
        if !files.contains_key(name) {
            problems.push(format!("  stale (not generated any more): {name}"));
        }
    }
    Ok(problems)
}

fn write(files: &BTreeMap<String, String>, dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let current = existing(dir)?;
    let (mut written, mut removed) = (0, 0);
    for (name, text) in files {
        if current.get(name) != Some(text) {
            let path = dir.join(name);
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written += 1;
        }
    }
    for (name, text) in &current {
        if !files.contains_key(name) && text.starts_with(generate::HEADER) {
            let path = dir.join(name);
            fs::remove_file(&path).map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            removed += 1;
        }
    }
    println!(
        "{}: {} files, {written} written, {removed} removed",
        dir.display(),
        files.len()
    );
    Ok(())
}
