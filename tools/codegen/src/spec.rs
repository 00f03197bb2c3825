//! Reading Meta's spec files (`specs/<Node>.json`, `specs/enum_types.json`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One field of a node.
#[derive(Debug, Clone)]
pub struct Field {
    /// The wire name.
    pub name: String,
    /// The spec type: `string`, `int`, `list<IGMedia>`, `Object`, a node name, …
    pub ty: String,
}

/// One entry of `enum_types.json`.
#[derive(Debug, Clone)]
pub struct EnumType {
    /// Its name, used as a type in the node specs.
    pub name: String,
    /// The field or parameter it types.
    pub field_or_param: Option<String>,
    /// The values, in spec order.
    pub values: Vec<String>,
}

/// The spec folder.
#[derive(Debug)]
pub struct Specs {
    dir: PathBuf,
    /// Every node with a spec file (file stems).
    pub node_names: BTreeSet<String>,
    /// All of `enum_types.json`.
    pub enums: Vec<EnumType>,
}

impl Specs {
    /// Opens `dir`, which is either the specs checkout (holding `specs/`) or `specs/` itself.
    pub fn open(dir: &Path) -> Result<Self, String> {
        let specs_dir = if dir.join("specs").join("enum_types.json").is_file() {
            dir.join("specs")
        } else if dir.join("enum_types.json").is_file() {
            dir.to_path_buf()
        } else {
            return Err(format!(
                "{} holds neither specs/enum_types.json nor enum_types.json",
                dir.display()
            ));
        };
        let mut node_names = BTreeSet::new();
        let entries = fs::read_dir(&specs_dir)
            .map_err(|e| format!("cannot list {}: {e}", specs_dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && stem != "enum_types"
            {
                node_names.insert(stem.to_owned());
            }
        }
        let enums_json = read_json(&specs_dir.join("enum_types.json"))?;
        let enums = enums_json
            .as_array()
            .ok_or("enum_types.json is not an array")?
            .iter()
            .map(|e| {
                Ok(EnumType {
                    name: str_field(e, "name")?,
                    field_or_param: e
                        .get("field_or_param")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    values: e
                        .get("values")
                        .and_then(Value::as_array)
                        .ok_or_else(|| format!("enum entry without values: {e}"))?
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            dir: specs_dir,
            node_names,
            enums,
        })
    }

    /// The fields of `node`, in spec order.
    pub fn fields(&self, node: &str) -> Result<Vec<Field>, String> {
        let json = read_json(&self.dir.join(format!("{node}.json")))?;
        json.get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{node}.json has no `fields` array"))?
            .iter()
            .map(|f| {
                Ok(Field {
                    name: str_field(f, "name")?,
                    ty: str_field(f, "type")?,
                })
            })
            .collect()
    }

    /// The `enum_types.json` entry called `name`.
    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

fn str_field(v: &Value, key: &str) -> Result<String, String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("missing string `{key}` in {v}"))
}
