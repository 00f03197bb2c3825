//! Building `fields=` values from the generated field enums (hand-written glue).
//!
//! Every node in [`crate::generated`] has a field enum (`PageField`, `CommentField`,
//! `IgMediaField`, …) that is `AsRef<str>`, so a list of them goes straight into
//! [`meta_core::GraphRequest::fields`]:
//!
//! ```
//! use meta_graph::generated::{CommentField, IgMediaField};
//! use meta_graph::fields::{fields_param, nested};
//!
//! assert_eq!(
//!     fields_param([IgMediaField::Id, IgMediaField::MediaType, IgMediaField::Permalink]),
//!     "id,media_type,permalink"
//! );
//! // Nested fields and modifiers go through `Raw` or `nested`:
//! let comments = nested("comments.limit(5)", [CommentField::Message, CommentField::From]);
//! assert_eq!(comments, "comments.limit(5){message,from}");
//! assert_eq!(
//!     fields_param([IgMediaField::Id.to_string(), comments]),
//!     "id,comments.limit(5){message,from}"
//! );
//! ```
//!
//! Plain strings work everywhere a field does (`fields_param(["id", "name"])`), and
//! `XField::Raw("…".into())` keeps a hand-written expression in a typed list.

/// Joins field names with commas for `fields=`, skipping empty entries and trimming spaces.
#[must_use]
pub fn fields_param<I, F>(fields: I) -> String
where
    I: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    let mut out = String::new();
    for field in fields {
        let field = field.as_ref().trim();
        if field.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(field);
    }
    out
}

/// A field expansion: `parent{child,child}` (`parent` may carry modifiers such as
/// `comments.limit(5)` or `insights.metric(page_impressions)`).
#[must_use]
pub fn nested<I, F>(parent: &str, fields: I) -> String
where
    I: IntoIterator<Item = F>,
    F: AsRef<str>,
{
    format!("{}{{{}}}", parent.trim(), fields_param(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::{CommentField, PageField};

    #[test]
    fn joins_typed_raw_and_str() {
        assert_eq!(
            fields_param([PageField::Id, PageField::Name, PageField::AccessToken]),
            "id,name,access_token"
        );
        assert_eq!(
            fields_param([PageField::Id, PageField::Raw(" fan_count ".into())]),
            "id,fan_count"
        );
        assert_eq!(fields_param(["id", "", " name "]), "id,name");
        assert_eq!(fields_param(Vec::<&str>::new()), "");
        assert_eq!(
            nested(
                "from",
                [
                    CommentField::Raw("id".into()),
                    CommentField::Raw("name".into())
                ]
            ),
            "from{id,name}"
        );
    }

    #[test]
    fn field_names_round_trip() {
        for field in PageField::ALL {
            assert_eq!(&PageField::from_name(field.as_str()), field);
            assert_eq!(field.as_str().parse::<PageField>().unwrap(), *field);
        }
        assert_eq!(PageField::from_name("x{y}"), PageField::Raw("x{y}".into()));
    }
}
