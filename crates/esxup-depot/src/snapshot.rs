//! On-disk snapshots of parsed metadata zips, keyed by the sha256 of the
//! zip's bytes: a depot read a second time (the same metadata zip, local or
//! downloaded) skips XML parsing. A compact length-prefixed binary format;
//! any decoding problem (truncated file, other version) means "no snapshot"
//! and the zip is parsed again. Opt-in via [`crate::OpenOptions::snapshots`].

use crate::model::*;
use crate::xml::Parsed;
use esxup_facts::AcceptanceLevel;
use esxup_version::vib::{Constraint, Relation, VibVersion};
use std::path::{Path, PathBuf};

// Version 2: every string's bytes in one block after the header, validated
// as UTF-8 once on load (version 1 interleaved them with the records and
// validated each one: 105 M of the warm run's 961 M instructions besides
// the sha256 of the zips).
const MAGIC: &[u8] = b"ESXUP-DEPOT-SNAPSHOT-2\n";

/// What one metadata zip yields.
pub(crate) struct Snap {
    pub parsed: Parsed,
    pub base_images: Vec<ReleaseUnit>,
    pub addons: Vec<ReleaseUnit>,
}

pub(crate) fn path_for(cache_dir: &Path, zip_bytes: &[u8]) -> PathBuf {
    use sha2::{Digest, Sha256};
    cache_dir.join("parsed").join(format!("{}.bin", hex::encode(Sha256::digest(zip_bytes))))
}

/// Placeholder for the metadata zip's label (its path or URL) inside stored
/// messages, so that a snapshot names the zip it is loaded for.
const LABEL: &str = "\u{1}zip\u{1}";

pub(crate) fn load(path: &Path, label: &str) -> Option<Snap> {
    let bytes = std::fs::read(path).ok()?;
    let mut d = Dec { b: &bytes, i: 0, s: "", j: 0 };
    if d.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let n = d.len()?;
    d.s = std::str::from_utf8(d.take(n)?).ok()?;
    let mut snap = d.snap()?;
    if d.i != bytes.len() || d.j != d.s.len() {
        return None;
    }
    for w in &mut snap.parsed.warnings {
        *w = w.replace(LABEL, label);
    }
    for p in &mut snap.parsed.profiles {
        p.source = p.source.replace(LABEL, label);
    }
    for u in snap.base_images.iter_mut().chain(snap.addons.iter_mut()) {
        u.source = u.source.replace(LABEL, label);
    }
    Some(snap)
}

/// Best effort: a snapshot that cannot be written is simply not there next time.
pub(crate) fn store(path: &Path, snap: &Snap, label: &str) {
    let mut e = Enc(Vec::with_capacity(1 << 20), Vec::with_capacity(1 << 22));
    let relabel = |s: &str| s.replace(label, LABEL);
    let generic = Snap {
        parsed: Parsed {
            vibs: Vec::new(),
            bulletins: Vec::new(),
            profiles: Vec::new(),
            warnings: snap.parsed.warnings.iter().map(|w| relabel(w)).collect(),
        },
        base_images: snap
            .base_images
            .iter()
            .map(|u| ReleaseUnit { source: relabel(&u.source), ..u.clone() })
            .collect(),
        addons: snap.addons.iter().map(|u| ReleaseUnit { source: relabel(&u.source), ..u.clone() }).collect(),
    };
    let profiles: Vec<ImageProfile> = snap
        .parsed
        .profiles
        .iter()
        .map(|p| ImageProfile { source: relabel(&p.source), ..p.clone() })
        .collect();
    e.snap_parts(&snap.parsed.vibs, &snap.parsed.bulletins, &profiles, &generic);
    // Header, strings, records: written one after the other (not joined
    // in memory, which would hold the snapshot twice).
    let mut head = Enc(Vec::with_capacity(MAGIC.len() + 10), Vec::new());
    head.0.extend_from_slice(MAGIC);
    head.u64(e.1.len() as u64);
    if let Some(dir) = path.parent() {
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        for part in [&head.0, &e.1, &e.0] {
            f.write_all(part)?;
        }
        Ok(())
    };
    match write() {
        Ok(()) => {
            if std::fs::rename(&tmp, path).is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        Err(_) => {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Records, and the bytes of their strings (in the order written).
struct Enc(Vec<u8>, Vec<u8>);

impl Enc {
    fn u64(&mut self, v: u64) {
        // LEB128
        let mut v = v;
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                break;
            }
            self.0.push(b | 0x80);
        }
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.1.extend_from_slice(s.as_bytes());
    }
    fn ostr(&mut self, s: &Option<String>) {
        match s {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
        }
    }
    fn obool(&mut self, b: Option<bool>) {
        self.0.push(match b {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }
    fn ou64(&mut self, v: Option<u64>) {
        match v {
            None => self.0.push(0),
            Some(v) => {
                self.0.push(1);
                self.u64(v);
            }
        }
    }
    fn acc(&mut self, a: Option<AcceptanceLevel>) {
        self.0.push(match a {
            None => 0,
            Some(AcceptanceLevel::CommunitySupported) => 1,
            Some(AcceptanceLevel::PartnerSupported) => 2,
            Some(AcceptanceLevel::VMwareAccepted) => 3,
            Some(AcceptanceLevel::VMwareCertified) => 4,
        });
    }
    fn strs(&mut self, v: &[String]) {
        self.u64(v.len() as u64);
        for s in v {
            self.str(s);
        }
    }
    fn pairs(&mut self, v: &[(String, String)]) {
        self.u64(v.len() as u64);
        for (a, b) in v {
            self.str(a);
            self.str(b);
        }
    }
    fn cons(&mut self, v: &[Constraint]) {
        self.u64(v.len() as u64);
        for c in v {
            self.str(&c.name);
            self.0.push(match c.relation {
                None => 0,
                Some(Relation::Lt) => 1,
                Some(Relation::Le) => 2,
                Some(Relation::Eq) => 3,
                Some(Relation::Ge) => 4,
                Some(Relation::Gt) => 5,
            });
            self.ostr(&c.version.as_ref().map(|v| v.as_str().to_string()));
        }
    }
    fn checksum(&mut self, c: &Checksum) {
        self.str(&c.kind);
        self.ostr(&c.verify_process);
        self.str(&c.value);
    }
    fn sw(&mut self, v: &[SwPlatform]) {
        self.u64(v.len() as u64);
        for p in v {
            self.str(&p.product_line);
            self.str(&p.version);
        }
    }
    fn vib(&mut self, v: &Vib) {
        self.str(&v.id);
        self.str(&v.vendor);
        self.str(&v.name);
        self.str(v.version.as_str());
        self.str(&v.kind);
        self.ostr(&v.summary);
        self.ostr(&v.description);
        self.ostr(&v.release_date);
        self.cons(&v.depends);
        self.cons(&v.conflicts);
        self.cons(&v.replaces);
        self.u64(v.provides.len() as u64);
        for p in &v.provides {
            self.str(&p.name);
            self.ostr(&p.version.as_ref().map(|v| v.as_str().to_string()));
        }
        self.cons(&v.compatible_with);
        self.strs(&v.software_tags);
        self.obool(v.maintenance_mode);
        self.u64(v.hw_platforms.len() as u64);
        for h in &v.hw_platforms {
            self.str(&h.vendor);
            self.ostr(&h.model);
        }
        self.sw(&v.sw_platforms);
        self.acc(v.acceptance);
        self.obool(v.live_install_allowed);
        self.obool(v.live_remove_allowed);
        self.obool(v.reboot_required);
        self.obool(v.stateless_ready);
        self.obool(v.overlay);
        self.ostr(&v.relative_path);
        self.ou64(v.packed_size);
        match &v.checksum {
            None => self.0.push(0),
            Some(c) => {
                self.0.push(1);
                self.checksum(c);
            }
        }
        self.u64(v.payloads.len() as u64);
        for p in &v.payloads {
            self.str(&p.name);
            self.str(&p.kind);
            self.ou64(p.size);
            self.u64(p.checksums.len() as u64);
            for c in &p.checksums {
                self.checksum(c);
            }
        }
        self.strs(&v.files);
        self.u64(v.file_count as u64);
    }
    fn bulletin(&mut self, b: &Bulletin) {
        self.str(&b.id);
        for o in [
            &b.vendor,
            &b.summary,
            &b.severity,
            &b.category,
            &b.urgency,
            &b.release_type,
            &b.release_date,
            &b.kb_url,
        ] {
            self.ostr(o);
        }
        self.sw(&b.platforms);
        self.strs(&b.vib_ids);
        match &b.component {
            None => self.0.push(0),
            Some(c) => {
                self.0.push(1);
                self.str(&c.name);
                self.ostr(&c.ui_name);
                self.str(c.version.as_str());
                self.ostr(&c.ui_version);
            }
        }
    }
    fn profile(&mut self, p: &ImageProfile) {
        self.str(&p.name);
        for o in [&p.creator, &p.profile_id, &p.description, &p.creation_time, &p.modified_time] {
            self.ostr(o);
        }
        self.obool(p.readonly);
        self.acc(p.acceptance);
        self.strs(&p.vib_ids);
        self.pairs(&p.components);
        self.str(&p.source);
    }
    fn unit(&mut self, u: &ReleaseUnit) {
        for o in [&u.name, &u.version, &u.ui_version, &u.release_date] {
            self.ostr(o);
        }
        self.pairs(&u.components);
        self.str(&u.source);
    }
    /// VIBs, bulletins and profiles, then the warnings and units of `rest`.
    fn snap_parts(&mut self, vibs: &[Vib], bulletins: &[Bulletin], profiles: &[ImageProfile], s: &Snap) {
        self.u64(vibs.len() as u64);
        for v in vibs {
            self.vib(v);
        }
        self.u64(bulletins.len() as u64);
        for b in bulletins {
            self.bulletin(b);
        }
        self.u64(profiles.len() as u64);
        for p in profiles {
            self.profile(p);
        }
        self.strs(&s.parsed.warnings);
        for list in [&s.base_images, &s.addons] {
            self.u64(list.len() as u64);
            for u in list {
                self.unit(u);
            }
        }
    }
}

struct Dec<'a> {
    b: &'a [u8],
    i: usize,
    /// The strings block (validated UTF-8) and how much of it was read.
    s: &'a str,
    j: usize,
}

impl<'a> Dec<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u64(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.u64()?).ok()?;
        // A length can never exceed what is left: refuse absurd allocations.
        (n <= self.b.len() - self.i).then_some(n)
    }
    /// The next string, borrowed from the strings block (`get` refuses a
    /// cut that is not on a character boundary).
    fn raw_str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.u64()?).ok()?;
        let s = self.s.get(self.j..self.j.checked_add(n)?)?;
        self.j += n;
        Some(s)
    }
    fn str(&mut self) -> Option<String> {
        self.raw_str().map(str::to_string)
    }
    fn oraw_str(&mut self) -> Option<Option<&'a str>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.raw_str()?)),
            _ => None,
        }
    }
    fn ostr(&mut self) -> Option<Option<String>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
    fn obool(&mut self) -> Option<Option<bool>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(false)),
            2 => Some(Some(true)),
            _ => None,
        }
    }
    fn ou64(&mut self) -> Option<Option<u64>> {
        match self.byte()? {
            0 => Some(None),
            1 => Some(Some(self.u64()?)),
            _ => None,
        }
    }
    fn acc(&mut self) -> Option<Option<AcceptanceLevel>> {
        Some(match self.byte()? {
            0 => None,
            1 => Some(AcceptanceLevel::CommunitySupported),
            2 => Some(AcceptanceLevel::PartnerSupported),
            3 => Some(AcceptanceLevel::VMwareAccepted),
            4 => Some(AcceptanceLevel::VMwareCertified),
            _ => return None,
        })
    }
    fn vec<T>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.len()?;
        let mut v = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            v.push(f(self)?);
        }
        Some(v)
    }
    fn strs(&mut self) -> Option<Vec<String>> {
        self.vec(Dec::str)
    }
    fn pairs(&mut self) -> Option<Vec<(String, String)>> {
        self.vec(|d| Some((d.str()?, d.str()?)))
    }
    fn cons(&mut self) -> Option<Vec<Constraint>> {
        self.vec(|d| {
            let name = d.str()?;
            let relation = match d.byte()? {
                0 => None,
                1 => Some(Relation::Lt),
                2 => Some(Relation::Le),
                3 => Some(Relation::Eq),
                4 => Some(Relation::Ge),
                5 => Some(Relation::Gt),
                _ => return None,
            };
            let version = d.oraw_str()?.map(VibVersion::parse);
            Some(Constraint { name, relation, version })
        })
    }
    fn checksum(&mut self) -> Option<Checksum> {
        Some(Checksum { kind: self.str()?, verify_process: self.ostr()?, value: self.str()? })
    }
    fn sw(&mut self) -> Option<Vec<SwPlatform>> {
        self.vec(|d| Some(SwPlatform { product_line: d.str()?, version: d.str()? }))
    }
    fn vib(&mut self) -> Option<Vib> {
        Some(Vib {
            id: self.str()?,
            vendor: self.str()?,
            name: self.str()?,
            version: VibVersion::parse(self.raw_str()?),
            kind: self.str()?,
            summary: self.ostr()?,
            description: self.ostr()?,
            release_date: self.ostr()?,
            depends: self.cons()?,
            conflicts: self.cons()?,
            replaces: self.cons()?,
            provides: self
                .vec(|d| Some(Provide { name: d.str()?, version: d.oraw_str()?.map(VibVersion::parse) }))?,
            compatible_with: self.cons()?,
            software_tags: self.strs()?,
            maintenance_mode: self.obool()?,
            hw_platforms: self.vec(|d| Some(HwPlatform { vendor: d.str()?, model: d.ostr()? }))?,
            sw_platforms: self.sw()?,
            acceptance: self.acc()?,
            live_install_allowed: self.obool()?,
            live_remove_allowed: self.obool()?,
            reboot_required: self.obool()?,
            stateless_ready: self.obool()?,
            overlay: self.obool()?,
            relative_path: self.ostr()?,
            packed_size: self.ou64()?,
            checksum: match self.byte()? {
                0 => None,
                1 => Some(self.checksum()?),
                _ => return None,
            },
            payloads: self.vec(|d| {
                Some(Payload {
                    name: d.str()?,
                    kind: d.str()?,
                    size: d.ou64()?,
                    checksums: d.vec(Dec::checksum)?,
                })
            })?,
            files: self.strs()?,
            file_count: usize::try_from(self.u64()?).ok()?,
        })
    }
    fn bulletin(&mut self) -> Option<Bulletin> {
        Some(Bulletin {
            id: self.str()?,
            vendor: self.ostr()?,
            summary: self.ostr()?,
            severity: self.ostr()?,
            category: self.ostr()?,
            urgency: self.ostr()?,
            release_type: self.ostr()?,
            release_date: self.ostr()?,
            kb_url: self.ostr()?,
            platforms: self.sw()?,
            vib_ids: self.strs()?,
            component: match self.byte()? {
                0 => None,
                1 => Some(ComponentSpec {
                    name: self.str()?,
                    ui_name: self.ostr()?,
                    version: VibVersion::parse(self.raw_str()?),
                    ui_version: self.ostr()?,
                }),
                _ => return None,
            },
        })
    }
    fn profile(&mut self) -> Option<ImageProfile> {
        Some(ImageProfile {
            name: self.str()?,
            creator: self.ostr()?,
            profile_id: self.ostr()?,
            description: self.ostr()?,
            creation_time: self.ostr()?,
            modified_time: self.ostr()?,
            readonly: self.obool()?,
            acceptance: self.acc()?,
            vib_ids: self.strs()?,
            components: self.pairs()?,
            source: self.str()?,
        })
    }
    fn unit(&mut self) -> Option<ReleaseUnit> {
        Some(ReleaseUnit {
            name: self.ostr()?,
            version: self.ostr()?,
            ui_version: self.ostr()?,
            release_date: self.ostr()?,
            components: self.pairs()?,
            source: self.str()?,
        })
    }
    fn snap(&mut self) -> Option<Snap> {
        let vibs = self.vec(Dec::vib)?;
        let bulletins = self.vec(Dec::bulletin)?;
        let profiles = self.vec(Dec::profile)?;
        let warnings = self.strs()?;
        let base_images = self.vec(Dec::unit)?;
        let addons = self.vec(Dec::unit)?;
        Some(Snap { parsed: Parsed { vibs, bulletins, profiles, warnings }, base_images, addons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_corruption() {
        let mut warnings = Vec::new();
        let xml = br#"<vib version="5.0"><type>bootbank</type><name>net55-r8168</name><version>8.045a-napi</version><vendor>Realtek</vendor><relationships><depends><constraint name="vmkapi_2_2_0_0"/><constraint name="esx-base" relation="&gt;=" version="6.0.0"/></depends><conflicts/><replaces><constraint name="net-r8168"/></replaces><provides><provide name="x" version="1.0"/></provides><compatibleWith/></relationships><software-tags><tag>PCIID 10ec8168</tag></software-tags><system-requires><maintenance-mode>true</maintenance-mode><hwplatform vendor="HPE"/></system-requires><acceptance-level>community</acceptance-level><payloads><payload name="p" type="tgz" size="3"><checksum checksum-type="sha-256">ab</checksum></payload></payloads><relative-path>a.vib</relative-path><packed-size>10</packed-size><checksum checksum-type="sha-256">cd</checksum></vib>"#;
        let vib = crate::xml::parse_vib_bytes("x", xml, true, &mut warnings).unwrap();
        let snap = Snap {
            parsed: Parsed {
                vibs: vec![vib.clone()],
                bulletins: vec![],
                profiles: vec![ImageProfile {
                    name: "p".into(),
                    vib_ids: vec![vib.id.clone()],
                    ..Default::default()
                }],
                warnings: vec!["/old/place.zip!vibs/x.xml: w".into()],
            },
            base_images: vec![],
            addons: vec![ReleaseUnit { name: Some("a".into()), ..Default::default() }],
        };
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("s.bin");
        store(&p, &snap, "/old/place.zip");
        let back = load(&p, "/new/place.zip").unwrap();
        assert_eq!(back.parsed.vibs, vec![vib]);
        assert_eq!(back.parsed.profiles, snap.parsed.profiles);
        assert_eq!(back.addons, snap.addons);
        assert_eq!(back.parsed.warnings, ["/new/place.zip!vibs/x.xml: w"]);
        let bytes = std::fs::read(&p).unwrap();
        // A string length that cuts a character in two (the strings block
        // holds "é" as two bytes) is refused, not a panic.
        let mut e = Enc(Vec::new(), Vec::new());
        e.0.extend_from_slice(MAGIC);
        e.u64(2);
        e.0.extend_from_slice("é".as_bytes());
        let mut d = Dec { b: &[1], i: 0, s: "é", j: 0 };
        assert!(d.raw_str().is_none());
        assert_eq!(Dec { b: &[2], i: 0, s: "é", j: 0 }.raw_str(), Some("é"));
        std::fs::write(&p, &e.0).unwrap();
        assert!(load(&p, "x").is_none());
        for cut in [1, MAGIC.len() + 3, bytes.len() - 1] {
            std::fs::write(&p, &bytes[..cut]).unwrap();
            assert!(load(&p, "x").is_none(), "cut at {cut}");
        }
    }
}
