//! The shop's catalog: products with SKU, name, aliases (es/en/pt), live lot number,
//! variant attributes, price and stock, and an all-or-nothing CSV import.
//!
//! The CSV format is `../shared/datasets/live-comments/catalog.csv`:
//! `sku,name,aliases,price,currency,stock`, aliases separated by `|`, the **last alias
//! being the lot number** (`#7`) sellers show during the live. [`Catalog::from_csv`]
//! checks every row and reports every bad one with its line number; when any row is
//! bad, nothing is returned (so nothing is applied).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::text::fold;

/// Largest stock a row may declare (a typo guard: nobody sells a billion t-shirts live).
pub const MAX_STOCK: u32 = 1_000_000;
/// Largest price in whole units a row may declare.
pub const MAX_PRICE_UNITS: i64 = 1_000_000_000;

/// A product (one SKU; a size or colour is its own SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Product {
    /// `CAT-COLOR-SIZE/VARIANT`, e.g. `POL-ROJ-M`.
    pub sku: String,
    /// The display name (`Polera roja talla M`).
    pub name: String,
    /// What buyers call it, in es/en/pt, without the lot number.
    pub aliases: Vec<String>,
    /// The live lot number (`#7` → 7), when the catalog has one.
    pub lot: Option<u32>,
    /// Price of one catalog unit.
    pub price: Money,
    /// Units in stock when imported.
    pub stock: u32,
}

impl Product {
    /// A product; aliases and lot empty.
    #[must_use]
    pub fn new(sku: impl Into<String>, name: impl Into<String>, price: Money, stock: u32) -> Self {
        Product {
            sku: sku.into(),
            name: name.into(),
            aliases: Vec::new(),
            lot: None,
            price,
            stock,
        }
    }

    /// Sets the aliases.
    #[must_use]
    pub fn with_aliases<I, S>(mut self, aliases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aliases = aliases.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the lot number.
    #[must_use]
    pub fn with_lot(mut self, lot: u32) -> Self {
        self.lot = Some(lot);
        self
    }

    /// The SKU split into its parts: category, then variant codes (colour, size, shade…).
    #[must_use]
    pub fn attributes(&self) -> SkuParts<'_> {
        let mut parts = self.sku.split('-');
        let category = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        SkuParts {
            category,
            variants: rest,
        }
    }
}

/// A SKU's parts (`POL-ROJ-M` → category `POL`, variants `ROJ`, `M`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkuParts<'a> {
    /// The first part.
    pub category: &'a str,
    /// The other parts in order (for clothes: colour then size).
    pub variants: Vec<&'a str>,
}

/// A shop's products, indexed by SKU and lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    products: Vec<Product>,
    #[serde(skip)]
    by_sku: HashMap<String, usize>,
    #[serde(skip)]
    by_lot: HashMap<u32, usize>,
    fingerprint: u64,
}

/// Why a catalog could not be built from products (CSV import has its own, per-row error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid catalog: {}", .0.join("; "))]
pub struct InvalidCatalog(pub Vec<String>);

impl Catalog {
    /// Builds a catalog, checking that SKUs, lots and (folded) aliases are unique.
    ///
    /// # Errors
    /// [`InvalidCatalog`] listing every problem.
    pub fn new(products: Vec<Product>) -> Result<Self, InvalidCatalog> {
        let mut problems = Vec::new();
        let mut by_sku = HashMap::new();
        let mut by_lot = HashMap::new();
        let mut aliases: HashMap<String, String> = HashMap::new();
        for (i, p) in products.iter().enumerate() {
            if let Err(e) = validate_sku(&p.sku) {
                problems.push(e);
            }
            if by_sku.insert(p.sku.clone(), i).is_some() {
                problems.push(format!("SKU {} appears twice", p.sku));
            }
            if let Some(lot) = p.lot
                && let Some(prev) = by_lot.insert(lot, i)
            {
                problems.push(format!(
                    "lot #{lot} is used by {} and {}",
                    products[prev].sku, p.sku
                ));
            }
            for a in &p.aliases {
                let key = fold(a);
                if let Some(other) = aliases.get(&key)
                    && other != &p.sku
                {
                    problems.push(format!("alias `{a}` belongs to both {other} and {}", p.sku));
                }
                aliases.insert(key, p.sku.clone());
            }
        }
        if !problems.is_empty() {
            return Err(InvalidCatalog(problems));
        }
        let mut h = DefaultHasher::new();
        for p in &products {
            p.sku.hash(&mut h);
            p.name.hash(&mut h);
            p.aliases.hash(&mut h);
            p.lot.hash(&mut h);
            p.price.hash(&mut h);
        }
        Ok(Catalog {
            products,
            by_sku,
            by_lot,
            fingerprint: h.finish(),
        })
    }

    /// Every product, in catalog order.
    #[must_use]
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// The product with `sku`.
    #[must_use]
    pub fn get(&self, sku: &str) -> Option<&Product> {
        self.by_sku.get(sku).map(|&i| &self.products[i])
    }

    /// The product shown as lot `lot`.
    #[must_use]
    pub fn by_lot(&self, lot: u32) -> Option<&Product> {
        self.by_lot.get(&lot).map(|&i| &self.products[i])
    }

    /// Number of products.
    #[must_use]
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// True when the catalog has no product.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// A hash of names, aliases, lots and prices (not stock): classifiers key their
    /// compiled indexes by it.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Parses and validates a catalog CSV (see the module docs). All or nothing.
    ///
    /// # Errors
    /// [`CsvImportError`] with every bad row and its line number.
    pub fn from_csv(data: &[u8]) -> Result<Self, CsvImportError> {
        parse_csv(data)
    }
}

fn validate_sku(sku: &str) -> Result<(), String> {
    let ok = !sku.is_empty()
        && sku.len() <= 64
        && sku.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "SKU `{sku}` must be upper-case letters and digits in dash-separated parts (e.g. POL-ROJ-M)"
        ))
    }
}

/// One bad CSV row (or the header, line 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The column, when one is at fault.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A CSV that was not imported, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("catalog CSV rejected ({} problem(s)); nothing was imported:\n{}", .rows.len(), .rows.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct CsvImportError {
    /// Every problem, in line order.
    pub rows: Vec<RowError>,
}

const HEADER: [&str; 6] = ["sku", "name", "aliases", "price", "currency", "stock"];

fn parse_csv(data: &[u8]) -> Result<Catalog, CsvImportError> {
    let mut errors = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data);
    match rdr.headers() {
        Ok(h) => {
            let got: Vec<String> = h
                .iter()
                .map(|s| s.trim_start_matches('\u{feff}').to_ascii_lowercase())
                .collect();
            if got != HEADER {
                errors.push(RowError {
                    line: 1,
                    field: None,
                    message: format!(
                        "the header must be `{}`, found `{}`",
                        HEADER.join(","),
                        got.join(",")
                    ),
                });
                return Err(CsvImportError { rows: errors });
            }
        }
        Err(e) => {
            errors.push(RowError {
                line: 1,
                field: None,
                message: format!("unreadable header: {e}"),
            });
            return Err(CsvImportError { rows: errors });
        }
    }
    let mut products = Vec::new();
    let mut first_line_of_sku: HashMap<String, u64> = HashMap::new();
    let mut first_line_of_lot: HashMap<u32, u64> = HashMap::new();
    let mut alias_owner: HashMap<String, (String, u64)> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errors.push(RowError {
                    line,
                    field: None,
                    message: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, csv::Position::line);
        if rec.iter().all(str::is_empty) {
            continue; // a blank line
        }
        if rec.len() != HEADER.len() {
            errors.push(RowError {
                line,
                field: None,
                message: format!("expected {} columns, found {}", HEADER.len(), rec.len()),
            });
            continue;
        }
        let mut bad = |field: &str, message: String| {
            errors.push(RowError {
                line,
                field: Some(field.to_owned()),
                message,
            });
        };
        let sku = rec[0].to_owned();
        let mut row_ok = true;
        if let Err(m) = validate_sku(&sku) {
            bad("sku", m);
            row_ok = false;
        } else if let Some(prev) = first_line_of_sku.get(&sku) {
            bad("sku", format!("SKU {sku} already appears on line {prev}"));
            row_ok = false;
        } else {
            first_line_of_sku.insert(sku.clone(), line);
        }
        let name = rec[1].to_owned();
        if name.is_empty() {
            bad("name", "empty".to_owned());
            row_ok = false;
        }
        let mut aliases: Vec<String> = rec[2].split('|').map(|a| a.trim().to_owned()).collect();
        let mut lot = None;
        if aliases.iter().any(String::is_empty) {
            bad(
                "aliases",
                "an alias is empty (check for `||` or a trailing `|`)".to_owned(),
            );
            row_ok = false;
        }
        if let Some(last) = aliases.last()
            && let Some(n) = last.strip_prefix('#')
        {
            match n.parse::<u32>() {
                Ok(n) if n > 0 => {
                    lot = Some(n);
                    aliases.pop();
                    if let Some(prev) = first_line_of_lot.get(&n) {
                        bad("aliases", format!("lot #{n} already used on line {prev}"));
                        row_ok = false;
                    } else {
                        first_line_of_lot.insert(n, line);
                    }
                }
                _ => {
                    bad("aliases", format!("`{last}` is not a lot number like #7"));
                    row_ok = false;
                }
            }
        }
        for a in &aliases {
            if a.starts_with('#') {
                bad("aliases", format!("lot `{a}` must be the last alias"));
                row_ok = false;
                continue;
            }
            let key = fold(a);
            match alias_owner.get(&key) {
                Some((owner, prev)) if owner != &sku => {
                    bad(
                        "aliases",
                        format!("alias `{a}` already belongs to {owner} (line {prev})"),
                    );
                    row_ok = false;
                }
                Some(_) => {}
                None => {
                    alias_owner.insert(key, (sku.clone(), line));
                }
            }
        }
        let currency = match Currency::parse(&rec[4]) {
            Ok(c) => Some(c),
            Err(e) => {
                bad("currency", e.to_string());
                row_ok = false;
                None
            }
        };
        let price = match rec[3].parse::<i64>() {
            Ok(p) if (0..=MAX_PRICE_UNITS).contains(&p) => Some(p),
            Ok(p) => {
                bad("price", format!("{p} is outside 0..={MAX_PRICE_UNITS}"));
                row_ok = false;
                None
            }
            Err(_) => {
                bad(
                    "price",
                    format!("`{}` is not a whole number of units", &rec[3]),
                );
                row_ok = false;
                None
            }
        };
        let stock = match rec[5].parse::<u32>() {
            Ok(s) if s <= MAX_STOCK => Some(s),
            Ok(s) => {
                bad("stock", format!("{s} is more than {MAX_STOCK}"));
                row_ok = false;
                None
            }
            Err(_) => {
                bad("stock", format!("`{}` is not a whole number ≥ 0", &rec[5]));
                row_ok = false;
                None
            }
        };
        if let (true, Some(currency), Some(price), Some(stock)) = (row_ok, currency, price, stock) {
            match Money::from_units(price, currency) {
                Some(price) => products.push(Product {
                    sku,
                    name,
                    aliases,
                    lot,
                    price,
                    stock,
                }),
                None => errors.push(RowError {
                    line,
                    field: Some("price".into()),
                    message: "too large".into(),
                }),
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(CsvImportError { rows: errors });
    }
    if products.is_empty() {
        return Err(CsvImportError {
            rows: vec![RowError {
                line: 1,
                field: None,
                message: "the file has no product rows".into(),
            }],
        });
    }
    Catalog::new(products).map_err(|e| CsvImportError {
        rows: e
            .0
            .into_iter()
            .map(|message| RowError {
                line: 0,
                field: None,
                message,
            })
            .collect(),
    })
}

/// Every SKU in `catalog` (a convenience for tests and reports).
#[must_use]
pub fn skus(catalog: &Catalog) -> HashSet<&str> {
    catalog.products().iter().map(|p| p.sku.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "sku,name,aliases,price,currency,stock\n\
POL-ROJ-M,Polera roja talla M,polera roja M|red tee M|#1,12990,CLP,8\n\
LAB-GLOS-02,Gloss labial rosa tono 02,gloss 02|pink lip gloss|#2,149,MXN,15\n";

    #[test]
    fn imports_the_dataset_format() {
        let c = Catalog::from_csv(GOOD.as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        let p = c.get("POL-ROJ-M").unwrap();
        assert_eq!(p.lot, Some(1));
        assert_eq!(p.aliases, vec!["polera roja M", "red tee M"]);
        assert_eq!(p.price, Money::new(12990, Currency::CLP));
        assert_eq!(c.by_lot(2).unwrap().price, Money::new(14900, Currency::MXN));
        assert_eq!(
            c.get("LAB-GLOS-02").unwrap().attributes().variants,
            vec!["GLOS", "02"]
        );
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_imported() {
        let csv = "sku,name,aliases,price,currency,stock\n\
POL-ROJ-M,Polera,polera roja M|#1,12990,CLP,8\n\
pol-x,Bad sku,x|#2,1,CLP,1\n\
POL-AZU-L,Azul,polera roja m|#3,abc,CLP,-1\n\
POL-ROJ-M,Dup,otra|#1,10,ZZ,1\n\
TOO-FEW,x\n";
        let err = Catalog::from_csv(csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = err.rows.iter().map(|r| r.line).collect();
        assert!(
            lines.contains(&3) && lines.contains(&4) && lines.contains(&5) && lines.contains(&6),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("line 4: aliases: alias `polera roja m` already belongs to POL-ROJ-M"),
            "{text}"
        );
        assert!(text.contains("line 4: price"), "{text}");
        assert!(text.contains("line 4: stock"), "{text}");
        assert!(
            text.contains("line 5: sku: SKU POL-ROJ-M already appears on line 2"),
            "{text}"
        );
        assert!(
            text.contains("line 5: aliases: lot #1 already used on line 2"),
            "{text}"
        );
        assert!(text.contains("line 5: currency"), "{text}");
        assert!(text.contains("line 6: expected 6 columns"), "{text}");
    }

    #[test]
    fn header_must_match() {
        let err = Catalog::from_csv(b"sku,name\nA,b\n").unwrap_err();
        assert_eq!(err.rows[0].line, 1);
    }
}
