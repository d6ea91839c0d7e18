//! libFuzzer driver of `esxup_fuzz::signature` (see crates/esxup-fuzz).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esxup_fuzz::signature(data));
