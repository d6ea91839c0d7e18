//! Depot, offline bundle and VIB readers; esxcli transaction simulation; image diff.
