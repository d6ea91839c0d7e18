//! Collector: ssh (OWNER: facts/SSH helper, issue 3).
