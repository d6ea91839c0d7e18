//! libFuzzer driver of `esxup_fuzz::kickstart` (see crates/esxup-fuzz).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esxup_fuzz::kickstart(data));
