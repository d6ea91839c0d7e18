//! The one translatable message catalog of esxup (English and Japanese).
//!
//! Messages are TOML tables in `messages/<area>.<lang>.toml`, keyed by a
//! dotted id (`check.back_in_time.title`); `{name}` placeholders are filled
//! from the arguments a finding or step carries. A test asserts that every
//! key exists in every language with the same placeholders.
