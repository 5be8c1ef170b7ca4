//! entra-doctor library (work in progress).
