//! Table, Markdown, HTML and JSON renderers for reports and runbooks.
