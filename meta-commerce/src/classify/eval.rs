//! Evaluation of a classifier on labelled comments. PLACEHOLDER until it lands.
