//! Renderers: terminal tables, Markdown, self-contained HTML and JSON for
//! check reports and runbooks. Pure: they return strings.

pub mod check;
pub mod depot;
pub mod examples;
pub mod fleet;
pub mod fleet_xlsx;
pub mod json;
pub mod kb;
pub mod plan;
pub mod plan_html;
pub mod run;
pub mod table;
