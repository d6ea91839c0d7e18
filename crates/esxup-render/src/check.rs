//! Rendering of `esxup check` reports (table, Markdown, JSON). OWNER: checks helper (issue 5).
