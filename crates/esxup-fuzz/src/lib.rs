//! One function per parser of untrusted input, each taking arbitrary bytes
//! and returning nothing: it must neither panic nor hang, whatever the input
//! (errors are the expected answer to garbage). `fuzz/` (cargo-fuzz,
//! libFuzzer; `scripts/fuzz.sh`) drives them with coverage feedback;
//! `tests/replay.rs` runs them on the seed corpora and on deterministic
//! mutations of every seed in every `cargo test`.

use std::io::Write;

/// A fuzz target: any bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target: (name, function). The names are the cargo-fuzz target names.
pub const TARGETS: &[(&str, Target)] = &[
    ("query", query),
    ("esxcli_outputs", esxcli_outputs),
    ("facts_json", facts_json),
    ("saved_tgz", saved_tgz),
    ("depot_xml", depot_xml),
    ("vib", vib),
    ("depot_zip", depot_zip),
    ("iso", iso),
    ("boot_cfg", boot_cfg),
    ("kickstart", kickstart),
    ("stick", stick),
    ("journal", journal),
    ("soap", soap),
    ("signature", signature),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A temporary file holding `data`, for the readers that take a path.
fn file(data: &[u8], name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().expect("temp dir");
    let p = d.path().join(name);
    std::fs::File::create(&p).and_then(|mut f| f.write_all(data)).expect("write temp file");
    (d, p)
}

/// The build/version query parser (`esxup build`, pasted outputs).
pub fn query(data: &[u8]) {
    let _ = esxup_version::query::parse_query(&text(data));
}

/// Every esxcli / vim-cmd / `vmware -vl` / cat output parser of the
/// collector, the first byte choosing which.
pub fn esxcli_outputs(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let cmds = esxup_collect::commands::COMMANDS;
    let c = &cmds[pick as usize % cmds.len()];
    let mut b = esxup_collect::commands::Builder::new();
    let _ = (c.parser)(&text(rest), &mut b);
    let _ = b.finish();
    let t = text(rest);
    let _ = esxup_facts::parse::vimcmd::vm_summary("1", &t);
    let _ = esxup_facts::parse::vimcmd::vm_guest("1", &t);
    let _ = esxup_facts::parse::vimcmd::vm_snapshots("1", &t);
}

/// A HostFacts file.
pub fn facts_json(data: &[u8]) {
    let _ = esxup_facts::HostFacts::from_json_str(&text(data), std::path::Path::new("fuzz.json"));
}

/// The saved-outputs `.tgz` (and so the vm-support tar reader).
pub fn saved_tgz(data: &[u8]) {
    let _ = esxup_collect::files::ArchiveSource::from_reader(std::path::Path::new("fuzz.tgz"), data);
}

/// Depot index, vendor index and metadata XML (vmware.xml, bulletins, profiles, VIB descriptors).
pub fn depot_xml(data: &[u8]) {
    let _ = esxup_depot::xml::parse_index("index.xml", data);
    let _ = esxup_depot::xml::parse_vendor_index("vendor-index.xml", data);
    let mut out = esxup_depot::xml::Parsed::default();
    let _ = esxup_depot::xml::parse_metadata_file("fuzz.xml", data, &mut out);
}

/// A `.vib` (ar archive, descriptor.xml, sig.pkcs7, payload checksums).
pub fn vib(data: &[u8]) {
    let _ = esxup_depot::ar_members("fuzz.vib", data);
    if let Ok(v) = esxup_depot::VibFile::parse("fuzz.vib", data) {
        let _ = v.verify_payloads("fuzz.vib", data);
    }
}

/// An offline bundle or metadata zip.
pub fn depot_zip(data: &[u8]) {
    let (_d, p) = file(data, "bundle.zip");
    let _ = esxup_depot::Depot::open(&p.display().to_string());
}

/// An installer ISO: the ISO 9660 reader, then the depot engine on it.
pub fn iso(data: &[u8]) {
    let (_d, p) = file(data, "x.iso");
    if let Ok(img) = esxup_depot::iso::IsoImage::open(&p) {
        for e in img.files().take(64) {
            let _ = img.read(e, 1 << 20);
        }
    }
    let _ = esxup_media::inspect::inspect(&p);
}

/// boot.cfg reading and the one edit esxup makes.
pub fn boot_cfg(data: &[u8]) {
    let c = esxup_media::bootcfg::BootCfg::parse(data);
    let _ = (c.version_build(), c.modules(), c.kickstart());
    let e = c.with_kickstart(Some("usb:/KS.CFG"));
    assert_eq!(e.kickstart(), Some("usb:/KS.CFG"), "the edit always sets the kickstart");
}

/// The kickstart linter.
pub fn kickstart(data: &[u8]) {
    let ctx = esxup_media::kickstart::LintContext {
        boot_disk: vec!["t10.ATA_BOOT".into()],
        secure_boot: Some(true),
        boot_class: Some("local".into()),
    };
    let _ = esxup_media::kickstart::lint(&text(data), &ctx);
}

/// A disk image read back for a trial install's outputs (GPT/MBR + FAT).
pub fn stick(data: &[u8]) {
    let (_d, p) = file(data, "stick.img");
    let _ = esxup_media::stick::looks_like_disk(&p);
    let _ = esxup_media::stick::read_outputs(&p);
}

/// A run journal folder: the bytes up to the first newline are its
/// `run.json`, the rest its `journal.jsonl`.
pub fn journal(data: &[u8]) {
    let d = tempfile::tempdir().expect("temp dir");
    let cut = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let (meta, records) = data.split_at(cut);
    if std::fs::write(d.path().join(esxup_run::journal::META_FILE), meta).is_ok()
        && std::fs::write(d.path().join("journal.jsonl"), records).is_ok()
    {
        let _ = esxup_run::journal::Journal::read(d.path());
    }
}

/// A vSphere SOAP answer: a RetrievePropertiesEx page (objects, property
/// values, missing sets, faults), then every property value walked.
pub fn soap(data: &[u8]) {
    let mut seen = Vec::new();
    let _ =
        esxup_vim::client::parse_page("RetrievePropertiesEx", "https://fuzz/sdk", &text(data), &mut |o| {
            seen.push(o)
        });
    for o in &seen {
        for (name, v) in &o.props {
            let _ = (o.prop(name), v.text_at("summary.config.product.build"), v.bool_at("x"));
            let _ = v.parse_at::<u64>("hardware.memorySize");
        }
    }
}

/// A VIB's `sig.pkcs7` (the first bytes up to a NUL are the signature, the
/// rest the descriptor it signs).
pub fn signature(data: &[u8]) {
    let cut = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (sig, rest) = data.split_at(cut);
    let _ = esxup_depot::inspect_signature("fuzz.vib!sig.pkcs7", sig, rest.get(1..).unwrap_or_default());
}
