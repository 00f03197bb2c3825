//! `meta commerce classify` and `meta commerce eval`, run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const CATALOG: &str = "sku,name,aliases,price,currency,stock
POL-ROJ-M,Polera roja talla M,polera roja M|remera roja M|red tee M|camiseta vermelha M|#1,12990,CLP,8
POL-ROJ-L,Polera roja talla L,polera roja L|red tee L|camiseta vermelha G|#3,12990,CLP,5
VES-FLO-S,Vestido floreado talla S,vestido floreado S|floral dress S|vestido florido P|vestido floreado|floral dress|#7,24990,CLP,4
CAL-NEG-UN,Calcetines negros (par) talla única,calcetines negros|black socks|meias pretas|#13,3990,CLP,30
";

/// A scratch directory unique to this test process and name.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meta-commerce-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn meta(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meta"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn classify_answers_one_line_per_comment_and_survives_bad_lines() {
    let dir = scratch("classify");
    let catalog = dir.join("catalog.csv");
    std::fs::write(&catalog, CATALOG).unwrap();
    let input = concat!(
        r#"{"id":"c1","text":"quiero 2 de la polera roja M"}"#,
        "\n",
        r#"{"id":"c2","text":"la 7 viene en otra talla?"}"#,
        "\n",
        "not json at all\n",
        "\n",
        r#"{"id":"c3","text":"cancela la 7 porfa"}"#,
        "\n",
        r#"{"id":42,"text":"dois pares de meias pretas 🙋‍♀️"}"#,
        "\n",
        r#"{"id":"c5"}"#,
        "\n",
        r#"{"id":"c6","text":"quiero la polera roja"}"#,
        "\n",
    );
    let out = meta(
        &[
            "commerce",
            "classify",
            "--catalog",
            catalog.to_str().unwrap(),
        ],
        input.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert_eq!(lines[0]["id"], "c1");
    assert_eq!(lines[0]["intent"], "purchase");
    assert_eq!(lines[0]["items"], json!([{"sku": "POL-ROJ-M", "qty": 2}]));
    assert!(lines[0]["confidence"].as_f64().unwrap() >= 0.8);
    assert_eq!(lines[1]["intent"], "question");
    assert_eq!(lines[1]["items"], json!([]));
    assert!(lines[2]["id"].is_null());
    assert!(lines[2]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(lines[3]["intent"], "cancel");
    assert_eq!(lines[3]["items"], json!([{"sku": "VES-FLO-S", "qty": 1}]));
    assert_eq!(lines[4]["id"], 42);
    assert_eq!(lines[4]["items"], json!([{"sku": "CAL-NEG-UN", "qty": 2}]));
    assert_eq!(lines[5]["id"], "c5");
    assert!(lines[5]["error"].is_string());
    // Ambiguous: still a purchase, but with low confidence and no guessed item.
    assert_eq!(lines[6]["intent"], "purchase");
    assert!(lines[6]["confidence"].as_f64().unwrap() < 0.5);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn eval_prints_the_report_and_json() {
    let dir = scratch("eval");
    let catalog = dir.join("catalog.csv");
    let labels = dir.join("labels.jsonl");
    std::fs::write(&catalog, CATALOG).unwrap();
    std::fs::write(
        &labels,
        concat!(
            r#"{"id":"a","lang":"es","text":"me llevo la 7","intent":"purchase","items":[{"sku":"VES-FLO-S","qty":1}]}"#,
            "\n",
            r#"{"id":"b","lang":"en","text":"mine! red tee L","intent":"purchase","items":[{"sku":"POL-ROJ-L","qty":1}]}"#,
            "\n",
            r#"{"id":"c","lang":"pt","text":"quanto custa?","intent":"question","items":[]}"#,
            "\n",
            r#"{"id":"d","lang":"es","text":"qué linda 😍","intent":"purchase","items":[{"sku":"VES-FLO-S","qty":1}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let args = [
        "commerce",
        "eval",
        "--catalog",
        catalog.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ];
    let out = meta(&args, b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("classifier: rules — 4 comments"), "{text}");
    assert!(text.contains("misclassified: 1"), "{text}");
    assert!(text.contains("d [es]"), "{text}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = meta(&json_args, b"");
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["by_lang"]["all"]["comments"], 4);
    assert_eq!(report["by_lang"]["all"]["purchase_tp"], 2);
    assert_eq!(report["by_lang"]["all"]["purchase_fn"], 1);
    assert_eq!(report["misclassified"][0]["id"], "d");

    // A bad catalog is an error with the row, not a panic.
    std::fs::write(&catalog, "sku,name\nX,y\n").unwrap();
    let out = meta(&args, b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("header"));
    std::fs::remove_dir_all(dir).ok();
}
