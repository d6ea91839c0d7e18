//! libFuzzer driver of `esxup_fuzz::facts_json` (see crates/esxup-fuzz).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| esxup_fuzz::facts_json(data));
