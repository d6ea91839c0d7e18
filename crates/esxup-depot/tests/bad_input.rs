//! Bad input: corrupt and truncated zips and ar archives, zip-slip paths,
//! zip bombs, DTD/entity XML, checksum mismatches, non-UTF-8 text, files an
//! index names but the depot lacks. Each is a clear error naming the file,
//! never a panic. Broken inputs are derived at run time from the real
//! fixtures (tests/fixtures/SOURCES.md) or built from their real XML.

use esxup_depot::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn fx(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

const GHETTO: &str = "ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip";

/// Members of a zip, in order.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().to_string(), v)
        })
        .collect()
}

fn mkzip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (n, d) in files {
        w.start_file(n.as_str(), opts).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The real ghettoVCB bundle with `edit` applied to its members.
fn ghetto_with(edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut files = unzip(&std::fs::read(fx(GHETTO)).unwrap());
    edit(&mut files);
    mkzip(&files)
}

/// The ghettoVCB bundle whose metadata.zip members are edited.
fn ghetto_metadata_with(edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    ghetto_with(|files| {
        let m = files.iter_mut().find(|(n, _)| n == "metadata.zip").unwrap();
        let mut inner = unzip(&m.1);
        edit(&mut inner);
        m.1 = mkzip(&inner);
    })
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn open_err(path: &str) -> String {
    match Depot::open(path) {
        Ok(_) => panic!("{path} opened but should not"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_zip_is_refused_naming_the_file() {
    let t = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fx(GHETTO)).unwrap();
    let p = write(t.path(), "truncated.zip", &bytes[..bytes.len() / 2]);
    let e = open_err(&p);
    assert!(e.starts_with(&format!("read zip {p}: not a readable zip")), "{e}");
}

#[test]
fn corrupt_inner_metadata_zip_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_with(|files| {
        let m = files.iter_mut().find(|(n, _)| n == "metadata.zip").unwrap();
        let n = m.1.len();
        m.1.truncate(n - 30); // cuts into the central directory
    });
    let p = write(t.path(), "bundle.zip", &bytes);
    let e = open_err(&p);
    assert!(e.contains(&format!("{p}!metadata.zip")), "{e}");
    assert!(e.contains("not a readable zip"), "{e}");
}

#[test]
fn zip_slip_member_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_with(|files| files.push(("../../evil.sh".into(), b"rm -rf /".to_vec())));
    let p = write(t.path(), "slip.zip", &bytes);
    let e = open_err(&p);
    assert_eq!(e, format!("read {p}: unsafe path \"../../evil.sh\" (would escape the depot)"));
    assert!(!t.path().parent().unwrap().join("evil.sh").exists());
}

#[test]
fn index_url_escaping_a_folder_depot_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("depot");
    std::fs::create_dir(&d).unwrap();
    let files = unzip(&std::fs::read(fx(GHETTO)).unwrap());
    for (n, b) in &files {
        let p = d.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    }
    std::fs::write(t.path().join("secret.zip"), b"outside").unwrap();
    let vi = std::fs::read_to_string(d.join("vendor-index.xml")).unwrap();
    std::fs::write(
        d.join("vendor-index.xml"),
        vi.replace("<url>metadata.zip</url>", "<url>../secret.zip</url>"),
    )
    .unwrap();
    let e = open_err(&d.display().to_string());
    assert!(e.contains("unsafe path \"../secret.zip\""), "{e}");
    // And the intact extracted folder opens.
    std::fs::write(d.join("vendor-index.xml"), vi).unwrap();
    let depot = Depot::open(&d.display().to_string()).unwrap();
    assert_eq!(depot.verify_vibs()[0].status, VibCheckStatus::Ok);
}

#[test]
fn zip_bomb_is_bounded() {
    let t = tempfile::tempdir().unwrap();
    // 64 MiB of spaces inflates from ~64 KiB: refused by ratio before expanding.
    let bytes = ghetto_metadata_with(|inner| inner.push(("vibs/bomb.xml".into(), vec![b' '; 64 << 20])));
    let p = write(t.path(), "bomb.zip", &bytes);
    let e = open_err(&p);
    assert!(e.contains("metadata.zip!vibs/bomb.xml"), "{e}");
    assert!(e.contains("zip bomb") && e.contains("refused: bounded expansion"), "{e}");
    // A lower size limit refuses the same member by size.
    let opts = OpenOptions { max_file_bytes: 1 << 20, max_ratio: u64::MAX, ..OpenOptions::default() };
    let e = Depot::open_with(&p, &opts).unwrap_err().to_string();
    assert!(e.contains("declares 67108864 bytes, more than the 1048576 allowed"), "{e}");
}

#[test]
fn dtd_and_entities_in_metadata_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_metadata_with(|inner| {
        let v = inner.iter_mut().find(|(n, _)| n.starts_with("vibs/")).unwrap();
        let xml = String::from_utf8(v.1.clone()).unwrap();
        let evil = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE vib [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>{}",
            xml.replace("<summary>", "<summary>&b;")
        );
        v.1 = evil.into_bytes();
    });
    let p = write(t.path(), "dtd.zip", &bytes);
    let e = open_err(&p);
    assert!(e.starts_with(&format!("parse {p}!metadata.zip!vibs/")), "{e}");
    assert!(e.to_lowercase().contains("dtd"), "{e}");
}

#[test]
fn non_utf8_metadata_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_metadata_with(|inner| {
        let b = inner.iter_mut().find(|(n, _)| n.starts_with("bulletins/")).unwrap();
        b.1.splice(10..10, [0xff, 0xfe]);
    });
    let p = write(t.path(), "latin1.zip", &bytes);
    let e = open_err(&p);
    assert_eq!(
        e,
        format!("read {p}!metadata.zip!bulletins/ghettoVCB.xml: not UTF-8 text (invalid byte at offset 10)")
    );
}

#[test]
fn metadata_zip_named_by_the_index_but_missing() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_with(|files| files.retain(|(n, _)| n != "metadata.zip"));
    let p = write(t.path(), "nometa.zip", &bytes);
    let e = open_err(&p);
    assert_eq!(e, format!("read {p}!vendor-index.xml: it names metadata.zip, which is not in the depot"));
}

#[test]
fn checksum_mismatch_of_a_vib_in_the_bundle() {
    let t = tempfile::tempdir().unwrap();
    let bytes = ghetto_with(|files| {
        let v = files.iter_mut().find(|(n, _)| n.ends_with(".vib")).unwrap();
        let i = v.1.len() - 100;
        v.1[i] ^= 0xff;
    });
    let p = write(t.path(), "tampered.zip", &bytes);
    let d = Depot::open(&p).unwrap();
    let c = &d.verify_vibs()[0];
    assert_eq!(c.status, VibCheckStatus::Mismatch);
    assert!(
        c.message.starts_with(&format!(
            "verify {p}!vib20/ghettoVCB/virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0.vib: sha-256 checksum mismatch: expected 50a5032cb0411e0deba52477c649a240b6575777dc48d8ec28eacc4798ae7454, got "
        )),
        "{}",
        c.message
    );
}

#[test]
fn payload_checksum_mismatch_in_a_vib_file() {
    let bytes = std::fs::read(fx("vibs/fwrule-ntpServer-1.0.0-1.vib")).unwrap();
    let v = VibFile::parse("fw.vib", &bytes).unwrap();
    let m = v.members.iter().find(|m| m.name == "fwrule").unwrap();
    let mut bad = bytes.clone();
    bad[m.offset + m.size / 2] ^= 0x01;
    let checks = v.verify_payloads("fw.vib", &bad);
    let sha = checks.iter().find(|c| c.checksum == "sha-256").unwrap();
    assert!(!sha.ok);
    assert!(
        sha.message.starts_with("fw.vib: payload fwrule sha-256 mismatch: expected 5212ede1"),
        "{}",
        sha.message
    );
    assert!(checks.iter().all(|c| c.payload == "fwrule"));
}

#[test]
fn truncated_and_corrupt_ar_archives() {
    let bytes = std::fs::read(fx("vibs/6-updates_net-r8125-9.011.00-10.vib")).unwrap();
    let e = VibFile::parse("r8125.vib", &bytes[..bytes.len() - 1000]).unwrap_err().to_string();
    assert!(e.starts_with("read r8125.vib: not an ar archive (truncated: member at offset"), "{e}");
    let e = VibFile::parse("x.vib", b"PK\x03\x04 not ar").unwrap_err().to_string();
    assert_eq!(e, "read x.vib: not an ar archive (missing the !<arch> magic)");
    let mut bad = bytes.clone();
    bad[8 + 58] = b'X'; // first header terminator
    let e = VibFile::parse("y.vib", &bad).unwrap_err().to_string();
    assert_eq!(e, "read y.vib: not an ar archive (bad member header terminator at offset 8)");
    let mut bad = bytes;
    bad[8 + 48..8 + 58].copy_from_slice(b"99999999x ");
    let e = VibFile::parse("z.vib", &bad).unwrap_err().to_string();
    assert_eq!(e, "read z.vib: not an ar archive (bad size field \"99999999x\" at offset 8)");
}

#[test]
fn a_vib_given_as_a_depot_and_an_empty_folder() {
    let e = open_err(&fx("vibs/fwrule-ntpServer-1.0.0-1.vib").display().to_string());
    assert!(e.ends_with("this is a VIB, not a depot; use `esxup vib show`"), "{e}");
    let t = tempfile::tempdir().unwrap();
    let e = open_err(&t.path().display().to_string());
    assert!(e.contains("not a depot"), "{e}");
    let e = open_err("/nonexistent/depot.zip");
    assert!(e.starts_with("read /nonexistent/depot.zip: "), "{e}");
}

#[test]
fn unreachable_url_is_an_error() {
    // Bind then drop a listener: the port is (very likely) closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/depot/index.xml");
    let t = tempfile::tempdir().unwrap();
    let opts = OpenOptions { cache_dir: Some(t.path().to_path_buf()), ..OpenOptions::default() };
    let e = Depot::open_with(&url, &opts).unwrap_err().to_string();
    assert!(e.starts_with(&format!("fetch {url}: unreachable")), "{e}");
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0, "nothing cached for a failed fetch");
}

#[test]
fn damaged_inputs_never_panic() {
    // Flip bytes all over a real VIB (headers, descriptor, payload) and
    // truncate a real bundle at many lengths: every outcome is Ok or Err.
    let vib = std::fs::read(fx("vibs/fwrule-ntpServer-1.0.0-1.vib")).unwrap();
    for i in (0..vib.len()).step_by(3) {
        let mut b = vib.clone();
        b[i] ^= 0xa5;
        if let Ok(v) = VibFile::parse("x.vib", &b) {
            let _ = v.verify_payloads("x.vib", &b);
        }
    }
    let t = tempfile::tempdir().unwrap();
    let bundle = std::fs::read(fx(GHETTO)).unwrap();
    for cut in (0..bundle.len()).step_by(997) {
        let p = write(t.path(), "cut.zip", &bundle[..cut]);
        assert!(Depot::open(&p).is_err(), "a bundle cut at {cut} bytes opened");
    }
    for i in (0..bundle.len()).step_by(211) {
        let mut b = bundle.clone();
        b[i] ^= 0xff;
        let p = write(t.path(), "flip.zip", &b);
        if let Ok(d) = Depot::open(&p) {
            let _ = d.verify_vibs();
        }
    }
}

#[test]
fn a_descriptor_changed_after_signing_fails_depot_verify() {
    // The VMware-signed VIB of a real component bundle with one byte of its
    // descriptor's summary changed: the payloads still verify, the signature
    // does not, and depot verification reports it even where the metadata
    // has no whole-VIB checksum to catch the change.
    let zip = fx("components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip");
    let mut z = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let mut vib = Vec::new();
    Read::read_to_end(
        &mut z
            .by_name("vib20/vmkusb-nic-fling/VMW_bootbank_vmkusb-nic-fling_1.10-1vmw.703.0.50.55634242.vib")
            .unwrap(),
        &mut vib,
    )
    .unwrap();
    let v = VibFile::parse("fling.vib", &vib).unwrap();
    assert_eq!(v.signature.short(), "verified");
    let d = v.members.iter().find(|m| m.name == "descriptor.xml").unwrap();
    let text = std::str::from_utf8(&vib[d.offset..d.offset + d.size]).unwrap();
    // <summary>…</summary> is not used for identity or payloads.
    let at = d.offset + text.find("<summary>").unwrap() + "<summary>".len();
    let mut bad = vib.clone();
    bad[at] = if bad[at] == b'X' { b'Y' } else { b'X' };
    let v = VibFile::parse("fling.vib", &bad).unwrap();
    assert!(v.verify_payloads("fling.vib", &bad).iter().all(|c| c.ok));
    assert_eq!(v.signature.short(), "descriptor-mismatch");
    assert!(v.signature.is_failure());
    let VibSignature::Signed(r) = &v.signature else { panic!("{:?}", v.signature) };
    let Verification::DescriptorMismatch { message } = &r.verification else { panic!() };
    assert!(message.starts_with("sha256 of descriptor.xml is "), "{message}");

    // Metadata without a whole-VIB checksum: only the signature notices.
    let d = Depot::open(&zip.display().to_string()).unwrap();
    let mut meta = d.vibs()[0].clone();
    meta.checksum = None;
    let c = verify_against_metadata("fling.vib", &bad, &meta);
    assert_eq!(c.status, VibCheckStatus::Mismatch, "{}", c.message);
    assert_eq!(c.signature, Some("descriptor-mismatch"));
    assert!(
        c.message.starts_with("verify fling.vib!sig.pkcs7: sha256 of descriptor.xml is "),
        "{}",
        c.message
    );
    let c = verify_against_metadata("fling.vib", &vib, &meta);
    assert_eq!((c.status, c.signature), (VibCheckStatus::Ok, Some("verified")), "{}", c.message);

    // An unreadable sig.pkcs7 (cut in half) is reported, the VIB still reads.
    let s = v.members.iter().find(|m| m.name == "sig.pkcs7").unwrap();
    let mut cut = vib.clone();
    for b in &mut cut[s.offset + s.size / 2..s.offset + s.size] {
        *b = b' ';
    }
    let v = VibFile::parse("fling.vib", &cut).unwrap();
    let VibSignature::Unreadable { message } = &v.signature else { panic!("{:?}", v.signature) };
    assert_eq!(message, "read signature fling.vib!sig.pkcs7: PEM: no -----END PKCS7----- line (truncated?)");
}
