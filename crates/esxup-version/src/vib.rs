//! VIB version order exactly as VMware's esximage sorts it.
//!
//! OWNER: the depot helper fills this in (issue 4, item 3).
