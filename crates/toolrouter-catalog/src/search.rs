//! The in-process tool search index: BM25F-style ranking over slugs, names, descriptions, toolkits, tags and parameter names.
