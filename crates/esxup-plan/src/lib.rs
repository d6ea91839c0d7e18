//! Upgrade runbook steps built from check findings.
