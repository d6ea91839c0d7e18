//! VIB version order: delegates to `esxup_version::vib` (VMware's esximage
//! order: 4.2 < 4.10, 4.0 < 4.0a, `0.1-4vmw.670...` > `0.1-1vmw.702...`).

use esxup_version::vib::VibVersion;
use std::cmp::Ordering;

/// Compares two VIB versions the way esximage does.
pub fn cmp(a: &str, b: &str) -> Ordering {
    VibVersion::parse(a).cmp(&VibVersion::parse(b))
}

#[cfg(test)]
mod tests {
    use super::cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn orders_the_seed_vmkusb_case() {
        assert_eq!(cmp("0.1-4vmw.670.3.159.18828794", "0.1-1vmw.702.0.0.17867351"), Greater);
        assert_eq!(cmp("0.1-4vmw.702.0.20.18426014", "0.1-4vmw.670.3.159.18828794"), Greater);
        assert_eq!(cmp("4.2", "4.10"), Less);
    }
}
