//! Collector: vmsupport (OWNER: facts/SSH helper, issue 3).
