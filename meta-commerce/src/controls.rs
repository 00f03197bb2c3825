//! Buyer controls read from free text: opt-out words ("STOP", "parar", "sair") that stop
//! messaging a buyer, and data-deletion requests ("ELIMINAR MIS DATOS") that anonymize
//! the buyer's orders while keeping the accounting.
//!
//! Opt-out words count only when they are the whole message (after dropping
//! punctuation and emoji): "para, quiero la 7" is an order, not an opt-out.

use crate::text::fold;

/// Whole-message opt-out words (folded).
const OPT_OUT: &[&str] = &[
    "stop",
    "parar",
    "para",
    "basta",
    "baja",
    "darme de baja",
    "no mas mensajes",
    "no quiero mas mensajes",
    "sair",
    "pare",
    "parem",
    "cancelar inscricao",
    "unsubscribe",
    "stop messages",
    "no more messages",
];

/// Phrases that ask to delete the buyer's data (folded; matched anywhere).
const DELETE_DATA: &[&str] = &[
    "eliminar mis datos",
    "borrar mis datos",
    "borra mis datos",
    "elimina mis datos",
    "delete my data",
    "erase my data",
    "apagar meus dados",
    "excluir meus dados",
    "apaguem meus dados",
];

/// Folds and strips everything but letters, digits and single spaces.
fn letters_only(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    for ch in folded.chars() {
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_owned()
}

/// True when the whole message is an opt-out word.
#[must_use]
pub fn is_opt_out(text: &str) -> bool {
    let t = letters_only(text);
    OPT_OUT.contains(&t.as_str())
}

/// True when the message asks to delete the buyer's data.
#[must_use]
pub fn is_data_deletion_request(text: &str) -> bool {
    let t = letters_only(text);
    DELETE_DATA.iter().any(|p| t.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_only_as_the_whole_message() {
        for t in ["STOP", "stop!!", "Parar", "sair 🙏", "  UNSUBSCRIBE. "] {
            assert!(is_opt_out(t), "{t}");
        }
        for t in [
            "para mi la 7",
            "stop the live? no!",
            "quiero parar de comprar jaja",
            "sair da live",
        ] {
            assert!(!is_opt_out(t), "{t}");
        }
    }

    #[test]
    fn deletion_requests() {
        assert!(is_data_deletion_request("ELIMINAR MIS DATOS"));
        assert!(is_data_deletion_request("por favor, eliminar mis datos!!"));
        assert!(is_data_deletion_request("quero apagar meus dados"));
        assert!(!is_data_deletion_request("quiero la 7"));
    }
}
