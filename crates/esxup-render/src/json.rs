//! The JSON renderer every command uses: pretty-printed, one trailing
//! newline. Each output type carries its own `schema_version` and has a
//! JSON Schema in `schema/` (see `schema/README.md`).

use serde::Serialize;

/// Pretty JSON of a value, without a trailing newline. Serialising the
/// output types (plain data, string keys) cannot fail; should it, the
/// error is itself valid JSON.
pub fn to_json_pretty<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("serialise output: {e}") }).to_string())
}

/// [`to_json_pretty`] with the trailing newline of a command's output.
pub fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    let mut s = to_json_pretty(v);
    s.push('\n');
    s
}
