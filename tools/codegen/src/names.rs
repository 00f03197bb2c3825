//! Rust names from spec names.

/// Rust keywords (strict, reserved, and 2024 `gen`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// A struct field name for a spec field name: `snake_case` kept as is, keywords as raw
/// identifiers (`r#type`), anything else made a valid identifier. Returns the identifier
/// and whether it needs `#[serde(rename = ..)]`.
pub fn field_ident(name: &str) -> (String, bool) {
    let mut ident: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if ident.is_empty() || ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert_str(0, "field_");
    }
    if NOT_RAW.contains(&ident.as_str()) {
        ident.push('_');
    } else if KEYWORDS.contains(&ident.as_str()) {
        // serde strips `r#` from raw identifiers, so no rename is needed.
        return (format!("r#{ident}"), false);
    }
    let renamed = ident != name;
    (ident, renamed)
}

/// `UpperCamelCase` for a spec value or field name: `LIVE_NOW` → `LiveNow`,
/// `days_28` → `Days28`, `ambiX_4` → `AmbiX4`, `American (New)` → `AmericanNew`.
pub fn upper_camel(value: &str) -> String {
    let mut out = String::new();
    for part in value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
    {
        let all_upper = !part.chars().any(|c| c.is_ascii_lowercase());
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            for c in chars {
                out.push(if all_upper { c.to_ascii_lowercase() } else { c });
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Value");
    }
    if out == "Self" {
        out.push_str("Value");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel() {
        assert_eq!(upper_camel("LIVE_NOW"), "LiveNow");
        assert_eq!(upper_camel("days_28"), "Days28");
        assert_eq!(upper_camel("last_14d"), "Last14d");
        assert_eq!(upper_camel("ambiX_4"), "AmbiX4");
        assert_eq!(upper_camel("American (New)"), "AmericanNew");
        assert_eq!(upper_camel("1"), "Value1");
        assert_eq!(upper_camel("self"), "SelfValue");
    }

    #[test]
    fn idents() {
        assert_eq!(field_ident("type"), ("r#type".to_owned(), false));
        assert_eq!(field_ident("self"), ("self_".to_owned(), true));
        assert_eq!(field_ident("from"), ("from".to_owned(), false));
        assert_eq!(field_ident("3d"), ("field_3d".to_owned(), true));
    }
}
