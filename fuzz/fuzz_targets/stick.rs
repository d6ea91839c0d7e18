//! libFuzzer driver of `esxup_fuzz::stick` (see crates/esxup-fuzz).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esxup_fuzz::stick(data));
