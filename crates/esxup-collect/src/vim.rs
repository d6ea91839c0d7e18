//! Collector: vim (OWNER: vSphere helper, issue 3).
