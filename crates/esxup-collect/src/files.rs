//! Collector: files (OWNER: facts/SSH helper, issue 3).
