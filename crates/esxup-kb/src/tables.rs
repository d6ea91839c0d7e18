//! CPU and device readiness tables (data/cpu.toml, data/devices.toml). OWNER: checks helper (issue 5).
