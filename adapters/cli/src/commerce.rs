//! `meta commerce`: offline tools for the live-sale classifier.
//!
//! ```text
//! meta commerce classify --catalog catalog.csv < comments.jsonl
//! meta commerce eval --catalog catalog.csv --labels dev.jsonl [--json]
//! ```
//!
//! `classify` reads one JSON object per line, `{"id": …, "text": "…"}`, and writes one
//! line per input: `{"id","intent","items":[{"sku","qty"}],"confidence"}`. A line that
//! cannot be read gives `{"id":null,"error":"…"}` (with the id when it is known) and
//! the run goes on, so one bad line never loses the rest of a batch.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use meta_commerce::Catalog;
use meta_commerce::classify::RulesClassifier;
use meta_commerce::classify::eval::{evaluate_rules, parse_jsonl};
use serde_json::{Value, json};

/// `meta commerce …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CommerceCommand {
    /// Classify comments read as JSON lines `{"id","text"}` from stdin; one JSON line
    /// `{"id","intent","items","confidence"}` per comment on stdout.
    Classify {
        /// The shop's catalog CSV (`sku,name,aliases,price,currency,stock`).
        #[arg(long)]
        catalog: PathBuf,
        /// Also print the evidence, the detected language and the suggestions.
        #[arg(long)]
        explain: bool,
    },
    /// Evaluate the rules classifier on labelled comments (the dev.jsonl format):
    /// purchase precision/recall/F1, intent accuracy and item exact match per language.
    Eval {
        /// The shop's catalog CSV.
        #[arg(long)]
        catalog: PathBuf,
        /// Labelled comments, one JSON object per line.
        #[arg(long)]
        labels: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn run(cmd: CommerceCommand) -> Result<ExitCode> {
    match cmd {
        CommerceCommand::Classify { catalog, explain } => {
            let catalog = load_catalog(&catalog)?;
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            classify_lines(&catalog, stdin, stdout, explain)?;
            Ok(ExitCode::SUCCESS)
        }
        CommerceCommand::Eval {
            catalog,
            labels,
            json,
        } => {
            let catalog = load_catalog(&catalog)?;
            let text = std::fs::read_to_string(&labels)
                .with_context(|| format!("reading {}", labels.display()))?;
            let labels = parse_jsonl(&text).with_context(|| format!("in {}", labels.display()))?;
            let report = evaluate_rules(&RulesClassifier::new(), &catalog, &labels);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_catalog(path: &Path) -> Result<Catalog> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Catalog::from_csv(&data).with_context(|| format!("in {}", path.display()))
}

/// Classifies every line of `input`, writing one JSON line per non-blank input line.
fn classify_lines(
    catalog: &Catalog,
    mut input: impl BufRead,
    output: impl Write,
    explain: bool,
) -> Result<()> {
    let rules = RulesClassifier::new();
    rules.warm(catalog);
    let mut out = BufWriter::new(output);
    let mut buf = Vec::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).context("reading stdin")? == 0 {
            break;
        }
        line_no += 1;
        let answer = match std::str::from_utf8(&buf) {
            Err(_) => error_line(&Value::Null, &format!("line {line_no}: not UTF-8")),
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => answer_line(&rules, catalog, line, line_no, explain),
        };
        writeln!(out, "{answer}").context("writing stdout")?;
    }
    out.flush().context("writing stdout")?;
    Ok(())
}

fn answer_line(
    rules: &RulesClassifier,
    catalog: &Catalog,
    line: &str,
    line_no: usize,
    explain: bool,
) -> Value {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error_line(&Value::Null, &format!("line {line_no}: invalid JSON: {e}")),
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(text) = v.get("text").and_then(Value::as_str) else {
        return error_line(
            &id,
            &format!("line {line_no}: expected an object with a \"text\" string"),
        );
    };
    let c = rules.classify_sync(text, catalog);
    let mut answer = json!({
        "id": id,
        "intent": c.intent,
        "items": c.items,
        "confidence": c.confidence,
    });
    if explain {
        answer["lang"] = json!(c.lang);
        answer["evidence"] = json!(c.evidence);
        answer["suggestions"] = json!(c.suggestions);
    }
    answer
}

fn error_line(id: &Value, error: &str) -> Value {
    json!({"id": id, "error": error})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_become_error_lines_and_the_run_goes_on() {
        let catalog = Catalog::from_csv(
            b"sku,name,aliases,price,currency,stock\nPOL-ROJ-M,Polera roja talla M,polera roja M|#1,12990,CLP,8\n",
        )
        .unwrap();
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"id\":\"a\",\"text\":\"me llevo la 1\"}\n\n{oops\n");
        input.extend_from_slice(b"\xff\xfe\n{\"id\":7}\n{\"id\":\"b\",\"text\":\"hola\"}");
        let mut out = Vec::new();
        classify_lines(&catalog, input.as_slice(), &mut out, false).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0]["intent"], "purchase");
        assert_eq!(lines[0]["items"], json!([{"sku": "POL-ROJ-M", "qty": 1}]));
        assert!(lines[1]["id"].is_null() && lines[1]["error"].as_str().unwrap().contains("line 3"));
        assert!(lines[2]["id"].is_null() && lines[2]["error"].is_string());
        assert_eq!(lines[3]["id"], 7);
        assert!(lines[3]["error"].is_string());
        assert_eq!(lines[4]["intent"], "other");
    }
}
