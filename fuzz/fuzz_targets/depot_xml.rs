//! libFuzzer driver of `esxup_fuzz::depot_xml` (see crates/esxup-fuzz).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esxup_fuzz::depot_xml(data));
