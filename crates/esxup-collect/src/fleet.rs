//! Collector: fleet (OWNER: vSphere helper, issue 3).
