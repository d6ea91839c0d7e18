//! Rendering of runbooks (Markdown, HTML, JSON). OWNER: plan helper (issue 6).
