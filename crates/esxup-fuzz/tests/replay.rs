//! Replays every fuzz target on its seed corpus (the real fixtures of the
//! other crates' tests and shared/research-derived fixtures, chosen per
//! target below) and on deterministic mutations of each seed: bit flips,
//! truncations, duplicated and deleted runs, length-field-like bytes set to
//! extremes. A panic in any target fails with the target, the seed and the
//! mutation, which is enough to rebuild the input. (Coverage-guided fuzzing
//! with libFuzzer runs the same functions: `scripts/fuzz.sh`.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Seed files for one target: every file under the given folders (bounded).
fn seeds(dirs: &[&str], exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root().join(d)).collect();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if (exts.is_empty() || exts.iter().any(|x| p.to_string_lossy().ends_with(x)))
                && std::fs::metadata(&p).map(|m| m.len() <= 2 << 20).unwrap_or(false)
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(seed: &[u8], rng: &mut Rng) -> (String, Vec<u8>) {
    let mut v = seed.to_vec();
    let n = v.len();
    match rng.below(6) {
        0 if n > 0 => {
            let i = rng.below(n);
            v[i] ^= 1 << rng.below(8);
            (format!("flip byte {i}"), v)
        }
        1 => {
            let k = rng.below(n + 1);
            v.truncate(k);
            (format!("truncate to {k}"), v)
        }
        2 if n > 0 => {
            let (a, b) = (rng.below(n), rng.below(n));
            let (a, b) = (a.min(b), a.max(b).min(a + 4096));
            let run = v[a..b].to_vec();
            v.splice(a..a, run);
            (format!("duplicate {a}..{b}"), v)
        }
        3 if n > 0 => {
            let (a, b) = (rng.below(n), rng.below(n));
            let (a, b) = (a.min(b), a.max(b));
            v.drain(a..b);
            (format!("delete {a}..{b}"), v)
        }
        4 if n >= 4 => {
            let i = rng.below(n - 3);
            let x = [0u8, 0xff, 0x7f, 0x80][rng.below(4)];
            v[i..i + 4].fill(x);
            (format!("set {i}..{} to {x:#x}", i + 4), v)
        }
        _ => {
            let i = rng.below(n + 1);
            let b = (rng.next() & 0xff) as u8;
            v.insert(i, b);
            (format!("insert {b:#x} at {i}"), v)
        }
    }
}

/// The seed folders of each target, and the inputs libFuzzer found to crash
/// it once (`tests/regressions/<target>/`, kept after the fix).
fn corpus(target: &str) -> Vec<PathBuf> {
    let mut v = fixtures(target);
    v.extend(seeds(&[&format!("crates/esxup-fuzz/tests/regressions/{target}")], &[]));
    v
}

fn fixtures(target: &str) -> Vec<PathBuf> {
    match target {
        "query" => seeds(
            &[
                "crates/esxup-facts/tests/fixtures/system-version-get",
                "crates/esxup-facts/tests/fixtures/vmware-vl",
            ],
            &[],
        ),
        "esxcli_outputs" => seeds(&["crates/esxup-facts/tests/fixtures"], &[".txt", ".xml"]),
        "facts_json" => seeds(&["examples"], &[".json"]),
        "saved_tgz" | "stick" | "iso" | "depot_zip" | "vib" | "journal" => Vec::new(),
        "depot_xml" => seeds(&["crates/esxup-depot/tests/fixtures"], &[".xml"]),
        "boot_cfg" => seeds(
            &[
                "crates/esxup-facts/tests/fixtures/bootbank-boot-cfg",
                "crates/esxup-facts/tests/fixtures/altbootbank-boot-cfg",
            ],
            &[],
        ),
        "kickstart" => Vec::new(),
        _ => Vec::new(),
    }
}

/// Seeds made here for the binary formats (built from the fixtures' bytes).
fn built(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    let file = |p: &str| std::fs::read(root().join(p)).unwrap_or_default();
    match target {
        "vib" => {
            for p in seeds(
                &["crates/esxup-depot/tests/fixtures/vibs", "crates/esxup-depot/tests/fixtures/ghettovcb"],
                &[".vib"],
            ) {
                v.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        "depot_zip" => {
            for p in seeds(&["crates/esxup-depot/tests/fixtures"], &[".zip"]) {
                v.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
        "depot_xml" => {
            // The XML members of the bundles (index, vendor index, and the
            // metadata zip's vmware.xml, bulletins, profiles, VIB descriptors).
            fn xml_members(label: &str, bytes: &[u8], out: &mut Vec<(String, Vec<u8>)>, depth: u32) {
                let Ok(mut z) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else { return };
                for i in 0..z.len() {
                    let Ok(mut f) = z.by_index(i) else { continue };
                    let name = f.name().unwrap().to_string();
                    let mut b = Vec::new();
                    if std::io::Read::read_to_end(&mut f, &mut b).is_err() || b.len() > 2 << 20 {
                        continue;
                    }
                    if name.ends_with(".xml") && out.len() < 200 {
                        out.push((format!("{label}!{name}"), b));
                    } else if name.ends_with(".zip") && depth < 2 {
                        xml_members(&format!("{label}!{name}"), &b, out, depth + 1);
                    }
                }
            }
            for p in seeds(&["crates/esxup-depot/tests/fixtures"], &[".zip"]) {
                xml_members(&p.display().to_string(), &std::fs::read(&p).unwrap(), &mut v, 0);
            }
        }
        "kickstart" => {
            v.push(("upgrade".into(), b"vmaccepteula\nupgrade --disk=t10.ATA_BOOT\nreboot\n%firstboot --interpreter=busybox\n/etc/init.d/slpd stop\n".to_vec()));
            v.push(("install".into(), b"accepteula\ninstall --firstdisk=usb --overwritevmfs\nrootpw --iscrypted $1$abcdefgh$abcdefghijklmnopqrstuv\nkeyboard Japanese\nclearpart --alldrives\npart ds --ondisk=t10.ATA_BOOT\n%include /x\n".to_vec()));
        }
        "soap" => {
            // The shapes of a vCenter RetrievePropertiesEx page (with a
            // token and a missing set) and of a login fault.
            v.push(("page".into(), br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><token>1</token><objects><obj type="HostSystem">host-21</obj><propSet><name>summary</name><val xsi:type="HostListSummary"><config><product><build>20328353</build></product></config><hardware><memorySize>68719476736</memorySize></hardware></val></propSet><missingSet><path>config.product</path><fault><fault xsi:type="NoPermission"><privilegeId>System.Read</privilegeId></fault><localizedMessage>Permission to perform this operation was denied.</localizedMessage></fault></missingSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"#.to_vec()));
            v.push(("fault".into(), br#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Cannot complete login due to an incorrect user name or password.</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#.to_vec()));
        }
        "signature" => {
            // sig.pkcs7 + NUL + descriptor.xml of each real signed VIB.
            for p in seeds(&["crates/esxup-depot/tests/fixtures"], &[".vib"]) {
                let bytes = std::fs::read(&p).unwrap();
                let Ok(members) = esxup_depot::ar_members("seed.vib", &bytes) else { continue };
                let find = |n: &str| {
                    members.iter().find(|m| m.name == n).map(|m| bytes[m.offset..m.offset + m.size].to_vec())
                };
                if let (Some(sig), Some(desc)) = (find("sig.pkcs7"), find("descriptor.xml")) {
                    let mut seed = sig;
                    seed.push(0);
                    seed.extend(desc);
                    v.push((p.display().to_string(), seed));
                }
            }
        }
        "journal" => {
            v.push(("meta+records".into(), b"{\"schema_version\":1,\"host\":\"h\"}\n{\"seq\":1,\"step\":\"config-backup\",\"kind\":\"intent\"}\n".to_vec()));
        }
        "query" => v.push((
            "inline".into(),
            b"Product: VMware ESXi Version: 7.0.3 Build: Releasebuild-20328353 Update: 3 Patch: 55".to_vec(),
        )),
        "saved_tgz" | "iso" | "stick" => {
            // A small gzip / a zero disk / an ISO-looking header: the
            // mutations reach the readers' early checks and their walks.
            let _ = file;
            let mut iso = vec![0u8; 19 * 2048];
            iso[16 * 2048] = 1;
            iso[16 * 2048 + 1..16 * 2048 + 6].copy_from_slice(b"CD001");
            iso[16 * 2048 + 128..16 * 2048 + 130].copy_from_slice(&2048u16.to_le_bytes());
            iso[16 * 2048 + 80..16 * 2048 + 84].copy_from_slice(&19u32.to_le_bytes());
            let r = 16 * 2048 + 156;
            iso[r] = 34;
            iso[r + 2..r + 6].copy_from_slice(&18u32.to_le_bytes());
            iso[r + 10..r + 14].copy_from_slice(&2048u32.to_le_bytes());
            iso[r + 25] = 2;
            iso[r + 32] = 1;
            iso[17 * 2048] = 255;
            iso[17 * 2048 + 1..17 * 2048 + 6].copy_from_slice(b"CD001");
            let mut mbr = vec![0u8; 64 * 1024];
            mbr[446 + 4] = 0x0c;
            mbr[446 + 8..446 + 12].copy_from_slice(&1u32.to_le_bytes());
            mbr[446 + 12..446 + 16].copy_from_slice(&100u32.to_le_bytes());
            mbr[510] = 0x55;
            mbr[511] = 0xaa;
            let gz = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            match target {
                "iso" => v.push(("pvd".into(), iso)),
                "stick" => v.push(("mbr".into(), mbr)),
                _ => v.push(("empty gzip".into(), gz.to_vec())),
            }
        }
        _ => {}
    }
    v
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    let per_seed: u64 = std::env::var("ESXUP_FUZZ_MUTATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(40);
    let mut failures = Vec::new();
    let mut runs = 0usize;
    for (name, f) in esxup_fuzz::TARGETS {
        let mut inputs: Vec<(String, Vec<u8>)> =
            corpus(name).into_iter().map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())).collect();
        inputs.extend(built(name));
        inputs.push(("empty".into(), Vec::new()));
        assert!(inputs.len() >= 2, "target {name} has no seed");
        // scripts/fuzz.sh seeds libFuzzer's corpus with these.
        if let Some(dir) = std::env::var_os("ESXUP_FUZZ_EXPORT") {
            let d = Path::new(&dir).join(name);
            std::fs::create_dir_all(&d).unwrap();
            for (i, (_, seed)) in inputs.iter().enumerate() {
                std::fs::write(d.join(format!("seed-{i:04}")), seed).unwrap();
            }
        }
        for (label, seed) in &inputs {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (label.len() as u64) ^ ((seed.len() as u64) << 20));
            let mut cases = vec![("as is".to_string(), seed.clone())];
            // Big seeds (whole zips, VIBs) get fewer mutations: each open is costly.
            let n = if seed.len() > 256 * 1024 { per_seed / 8 } else { per_seed };
            for _ in 0..n {
                cases.push(mutate(seed, &mut rng));
            }
            for (what, data) in cases {
                runs += 1;
                let r = std::panic::catch_unwind(|| f(&data));
                if r.is_err() {
                    failures.push(format!("{name}: seed {label}, {what} ({} bytes)", data.len()));
                }
            }
        }
    }
    assert!(runs > 500, "{runs}");
    assert!(failures.is_empty(), "{} panics:\n{}", failures.len(), failures.join("\n"));
}
