//! Company news pages: CSS-selector extraction of listings and article pages → items.
