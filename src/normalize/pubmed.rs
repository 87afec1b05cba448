//! PubMed E-utilities responses (esearch, efetch PubmedArticleSet) → items.
