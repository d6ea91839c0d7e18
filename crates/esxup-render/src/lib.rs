//! Renderers: terminal tables, Markdown, self-contained HTML and JSON for
//! check reports and runbooks. Pure: they return strings.

pub mod check;
pub mod plan;
pub mod plan_html;
