//! [`Depot`]: one software depot (offline bundle zip, extracted folder or
//! online URL) read into memory: VIBs, bulletins, components, image
//! profiles, base images and add-ons.
//!
//! The walk is the one esxcli does: `index.xml` -> each vendor's
//! `vendor-index.xml` (at `relativePath`/`indexfile`) -> each `<metadata>`
//! entry's `<url>` (never assumed to be `metadata.zip`) -> the metadata zip's
//! `vmware.xml`, `bulletins/`, `vibs/`, `profiles/`. Older layouts are found
//! too: the `.vib` at the zip root, several `<metadata>` entries naming the
//! same zip, a bundle zipped inside another zip.

use crate::error::DepotError;
use crate::fasthash::FastMap;
use crate::model::*;
use crate::store::{
    dir_of, join_rel, join_url, read_dir_file, Budget, FetchOutcome, HttpCache, OpenOptions, ZipStore,
};
use crate::xml::{self, Parsed};
use esxup_version::vib::VibVersion as VibVersionRef;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the depot's files are read from.
enum Root {
    Dir(PathBuf),
    Zip(ZipStore),
    Http { cache: HttpCache },
}

impl Root {
    fn label(&self, r: &str) -> String {
        match self {
            Root::Dir(d) => d.join(r).display().to_string(),
            Root::Zip(z) => format!("{}!{}", z.label, r),
            Root::Http { .. } => r.to_string(),
        }
    }

    fn read(&mut self, r: &str, budget: &Budget) -> Result<Vec<u8>, DepotError> {
        match self {
            Root::Dir(d) => read_dir_file(d, r, budget),
            Root::Zip(z) => z.read(r, budget),
            Root::Http { cache } => cache.get(r, budget),
        }
    }

    fn exists(&self, r: &str) -> bool {
        match self {
            Root::Dir(d) => d.join(r).is_file(),
            Root::Zip(z) => z.has(r),
            Root::Http { .. } => true,
        }
    }

    /// Resolves `rel` against the file `from` (both root-relative, or URLs).
    fn resolve(&self, from: &str, rel: &str) -> Result<String, DepotError> {
        match self {
            Root::Http { .. } => join_url(from, rel),
            _ => {
                if rel.starts_with("http://") || rel.starts_with("https://") {
                    return Err(DepotError::invalid(
                        self.label(from),
                        format!("names {rel}, a URL, in a local depot; open the online depot instead"),
                    ));
                }
                join_rel(&self.label(from), dir_of(from), rel)
            }
        }
    }

    /// Every file of a local root (root-relative, `/`-separated), bounded.
    fn all_files(&self) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        match self {
            Root::Dir(d) => {
                let mut stack = vec![(d.clone(), String::new(), 0u32)];
                while let Some((dir, rel, depth)) = stack.pop() {
                    let Ok(rd) = std::fs::read_dir(&dir) else { continue };
                    for e in rd.filter_map(Result::ok) {
                        let Ok(name) = e.file_name().into_string() else { continue };
                        let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                        match e.file_type() {
                            Ok(t) if t.is_dir() && depth < 4 => stack.push((e.path(), r, depth + 1)),
                            Ok(t) if t.is_file() => {
                                out.insert(r);
                            }
                            _ => {}
                        }
                        if out.len() > 1_000_000 {
                            return out;
                        }
                    }
                }
            }
            Root::Zip(z) => out.extend(z.names()),
            Root::Http { .. } => {}
        }
        out
    }

    /// Files at the top of a local root.
    fn top_files(&self) -> Vec<String> {
        match self {
            Root::Dir(d) => std::fs::read_dir(d)
                .map(|rd| {
                    let mut v: Vec<String> = rd
                        .filter_map(Result::ok)
                        .filter(|e| e.path().is_file())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .collect();
                    v.sort();
                    v
                })
                .unwrap_or_default(),
            Root::Zip(z) => {
                let mut v: Vec<String> = z.names().into_iter().filter(|n| !n.contains('/')).collect();
                v.sort();
                v
            }
            Root::Http { .. } => Vec::new(),
        }
    }
}

/// A software depot read into memory.
pub struct Depot {
    location: String,
    vibs: Vec<Vib>,
    vib_index: FastMap<String, usize>,
    by_name: FastMap<String, Vec<usize>>,
    bulletins: Vec<Bulletin>,
    components: Vec<Component>,
    profiles: Vec<ImageProfile>,
    base_images: Vec<ReleaseUnit>,
    addons: Vec<ReleaseUnit>,
    metadata: Vec<MetadataRef>,
    warnings: Vec<String>,
    /// VIB id -> root-relative path of its `.vib`, for VIBs the depot holds.
    vib_files: HashMap<String, String>,
    root: Mutex<Root>,
    budget: Budget,
}

impl std::fmt::Debug for Depot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Depot")
            .field("location", &self.location)
            .field("vibs", &self.vibs.len())
            .field("profiles", &self.profiles.len())
            .finish()
    }
}

/// Everything collected while walking a depot.
#[derive(Default)]
struct Acc {
    parsed: Parsed,
    base_images: Vec<ReleaseUnit>,
    addons: Vec<ReleaseUnit>,
    metadata: Vec<MetadataRef>,
    /// Metadata zips already read (several `<metadata>` may name one zip).
    seen: Vec<String>,
}

impl Depot {
    /// Opens a depot: an offline bundle `.zip`, an extracted depot folder, or
    /// an `http(s)://` URL (of `index.xml`, of the depot folder, or of a zip).
    pub fn open(location: &str) -> Result<Depot, DepotError> {
        Depot::open_with(location, &OpenOptions::default())
    }

    /// [`Depot::open`] with explicit limits and cache directory.
    pub fn open_with(location: &str, opts: &OpenOptions) -> Result<Depot, DepotError> {
        let budget = Budget::new(opts.clone());
        let mut acc = Acc::default();
        let root = if location.starts_with("http://") || location.starts_with("https://") {
            let cache = HttpCache::new(opts);
            if location.ends_with(".zip") {
                let bytes = cache.get(location, &budget)?;
                let store = ZipStore::open(location, Box::new(Cursor::new(bytes)))?;
                let mut root = Root::Zip(store);
                walk_local(&mut root, &budget, &mut acc, 0)?;
                root
            } else {
                let index = if location.ends_with(".xml") {
                    location.to_string()
                } else {
                    format!("{}/index.xml", location.trim_end_matches('/'))
                };
                let mut root = Root::Http { cache };
                walk_index(&mut root, &index, &budget, &mut acc)?;
                root
            }
        } else {
            let path = Path::new(location);
            let meta = std::fs::metadata(path).map_err(|e| DepotError::io(location, e))?;
            let mut root =
                if meta.is_dir() { Root::Dir(path.to_path_buf()) } else { open_zip_file(location)? };
            walk_local(&mut root, &budget, &mut acc, 0)?;
            root
        };
        Ok(Depot::assemble(location, root, budget, acc))
    }

    fn assemble(location: &str, root: Root, budget: Budget, acc: Acc) -> Depot {
        let Acc { parsed, base_images, addons, metadata, .. } = acc;
        let Parsed { vibs: all_vibs, bulletins: all_bulletins, profiles: all_profiles, mut warnings } =
            parsed;

        // Sort in place (stable: the first listing of an id comes first), then
        // fold duplicates into it.
        let mut vibs = all_vibs;
        vibs.sort_by(|a, b| a.id.cmp(&b.id));
        vibs.dedup_by(|later, first| {
            if later.id != first.id {
                return false;
            }
            if first.checksum.is_some() && later.checksum.is_some() && first.checksum != later.checksum {
                warnings.push(format!(
                    "VIB {} is listed twice with different checksums; the first is used",
                    later.id
                ));
            }
            // Prefer the richer entry (vibs/*.xml over vmware.xml inline).
            if first.payloads.is_empty() && !later.payloads.is_empty() {
                let keep_reboot = first.reboot_required;
                std::mem::swap(first, later);
                first.reboot_required = first.reboot_required.or(keep_reboot);
            } else if first.reboot_required.is_none() {
                first.reboot_required = later.reboot_required;
            }
            true
        });
        vibs.shrink_to_fit();
        let mut vib_index: FastMap<String, usize> = FastMap::default();
        vib_index.reserve(vibs.len());
        for (i, v) in vibs.iter().enumerate() {
            vib_index.insert(v.id.clone(), i);
        }
        let mut bulletins: Vec<Bulletin> = Vec::new();
        let mut seen_b: FastMap<String, ()> = FastMap::default();
        for b in all_bulletins {
            if seen_b.insert(b.id.clone(), ()).is_none() {
                bulletins.push(b);
            }
        }
        bulletins.sort_by(|a, b| a.id.cmp(&b.id));
        let mut components: Vec<Component> = bulletins
            .iter()
            .filter_map(|b| {
                b.component.as_ref().map(|c| Component {
                    name: c.name.clone(),
                    version: c.version.clone(),
                    ui_name: c.ui_name.clone(),
                    ui_version: c.ui_version.clone(),
                    vendor: b.vendor.clone(),
                    bulletin_id: b.id.clone(),
                    release_date: b.release_date.clone(),
                    vib_ids: b.vib_ids.clone(),
                })
            })
            .collect();
        components.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
        let mut profiles: Vec<ImageProfile> = Vec::new();
        let mut seen_p: FastMap<String, ()> = FastMap::default();
        for p in all_profiles {
            if seen_p.insert(p.name.clone(), ()).is_none() {
                profiles.push(p);
            }
        }
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        for p in &profiles {
            let missing = p.vib_ids.iter().filter(|id| !vib_index.contains_key(*id)).count();
            if missing > 0 {
                warnings.push(format!(
                    "image profile {} names {missing} VIB(s) that are not in the depot metadata",
                    p.name
                ));
            }
        }

        // Where each VIB file is, for local depots.
        let mut vib_files = HashMap::new();
        if !matches!(root, Root::Http { .. }) {
            let top = root.top_files();
            let all = root.all_files();
            for v in &vibs {
                let mut candidates = Vec::new();
                if let Some(rp) = &v.relative_path {
                    if let Ok(p) = join_rel("", "", rp) {
                        candidates.push(p);
                    }
                }
                candidates.push(format!("vib20/{}/{}.vib", v.name, v.id));
                if let Some(found) = candidates.into_iter().find(|c| all.contains(c)) {
                    vib_files.insert(v.id.clone(), found);
                } else if let Some(base) = v.relative_path.as_deref().and_then(|r| r.rsplit('/').next()) {
                    if top.iter().any(|t| t == base) {
                        vib_files.insert(v.id.clone(), base.to_string());
                    }
                }
            }
        }
        let mut by_name: FastMap<String, Vec<usize>> = FastMap::default();
        for (i, v) in vibs.iter().enumerate() {
            by_name.entry(v.name.clone()).or_default().push(i);
        }

        Depot {
            location: location.to_string(),
            vibs,
            vib_index,
            by_name,
            bulletins,
            components,
            profiles,
            base_images,
            addons,
            metadata,
            warnings,
            vib_files,
            root: Mutex::new(root),
            budget,
        }
    }

    /// The location it was opened from.
    pub fn location(&self) -> &str {
        &self.location
    }
    /// Image profiles, sorted by name.
    pub fn profiles(&self) -> &[ImageProfile] {
        &self.profiles
    }
    /// The profile named `name` (exact, then case-insensitive).
    pub fn profile(&self, name: &str) -> Option<&ImageProfile> {
        match self.profiles.binary_search_by(|p| p.name.as_str().cmp(name)) {
            Ok(i) => Some(&self.profiles[i]),
            Err(_) => self.profiles.iter().find(|p| p.name.eq_ignore_ascii_case(name)),
        }
    }
    /// VIBs, sorted by id, each once.
    pub fn vibs(&self) -> &[Vib] {
        &self.vibs
    }
    /// The VIB with this id.
    pub fn vib(&self, id: &str) -> Option<&Vib> {
        self.vib_index.get(id).map(|&i| &self.vibs[i])
    }
    /// VIBs with this name (any vendor and version).
    pub fn vibs_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Vib> + 'a {
        self.by_name.get(name).into_iter().flatten().map(move |&i| &self.vibs[i])
    }
    /// The depot's metadata of an installed VIB: by id, else by vendor,
    /// name and version (esxcli tables do not show the VIB type).
    pub fn find_installed(
        &self,
        id: &str,
        vendor: &str,
        name: &str,
        version: &VibVersionRef,
    ) -> Option<&Vib> {
        if let Some(v) = self.vib(id) {
            return Some(v);
        }
        let mut same = self.vibs_named(name).filter(|v| v.version.as_str() == version.as_str());
        let first = same.next()?;
        if first.vendor.eq_ignore_ascii_case(vendor) {
            return Some(first);
        }
        same.find(|v| v.vendor.eq_ignore_ascii_case(vendor)).or(Some(first))
    }
    pub fn bulletins(&self) -> &[Bulletin] {
        &self.bulletins
    }
    /// 7.0+ components (bulletins with a name and version spec).
    pub fn components(&self) -> &[Component] {
        &self.components
    }
    pub fn base_images(&self) -> &[ReleaseUnit] {
        &self.base_images
    }
    pub fn addons(&self) -> &[ReleaseUnit] {
        &self.addons
    }
    /// The `<metadata>` entries followed.
    pub fn metadata(&self) -> &[MetadataRef] {
        &self.metadata
    }
    /// Lenient-parsing notes (non-standard elements, missing VIBs, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Root-relative path of the `.vib` of `id`, if the depot holds it.
    pub fn vib_file(&self, id: &str) -> Option<&str> {
        self.vib_files.get(id).map(String::as_str)
    }

    /// HTTP fetches made while opening (URL, downloaded or not-modified).
    pub fn fetch_log(&self) -> Vec<(String, FetchOutcome)> {
        match self.root.lock() {
            Ok(r) => match &*r {
                Root::Http { cache } => cache.log.lock().map(|l| l.clone()).unwrap_or_default(),
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }

    /// Reads the `.vib` file of `id` from a local depot.
    pub fn read_vib_file(&self, id: &str) -> Result<Vec<u8>, DepotError> {
        let rel = self.vib_files.get(id).ok_or_else(|| DepotError::Missing {
            index: format!("{} metadata", self.location),
            missing: format!("VIB file of {id}"),
        })?;
        let mut root = self
            .root
            .lock()
            .map_err(|_| DepotError::invalid(&self.location, "depot reader poisoned by an earlier panic"))?;
        root.read(rel, &self.budget)
    }

    /// Verifies every VIB file the depot holds against the metadata's
    /// whole-VIB sha256 and packed size, then its payload checksums.
    pub fn verify_vibs(&self) -> Vec<crate::vibfile::VibCheck> {
        use crate::vibfile::{VibCheck, VibCheckStatus};
        let mut out = Vec::new();
        for v in &self.vibs {
            let Some(path) = self.vib_files.get(&v.id) else {
                out.push(VibCheck {
                    vib_id: v.id.clone(),
                    path: v.relative_path.clone(),
                    status: VibCheckStatus::NotInDepot,
                    message: "the .vib is not in this depot (metadata only)".into(),
                });
                continue;
            };
            let label = {
                let root = self.root.lock();
                match root {
                    Ok(r) => r.label(path),
                    Err(_) => path.clone(),
                }
            };
            match self.read_vib_file(&v.id) {
                Ok(bytes) => out.push(crate::vibfile::verify_against_metadata(&label, &bytes, v)),
                Err(e) => out.push(VibCheck {
                    vib_id: v.id.clone(),
                    path: Some(label),
                    status: VibCheckStatus::Unreadable,
                    message: e.to_string(),
                }),
            }
        }
        out
    }
}

fn open_zip_file(location: &str) -> Result<Root, DepotError> {
    let f = std::fs::File::open(location).map_err(|e| DepotError::io(location, e))?;
    let mut magic = [0u8; 8];
    {
        use std::io::Read;
        let mut r = &f;
        let n = r.read(&mut magic).map_err(|e| DepotError::io(location, e))?;
        if n >= 8 && &magic == b"!<arch>\n" {
            return Err(DepotError::invalid(location, "this is a VIB, not a depot; use `esxup vib show`"));
        }
    }
    let reader = std::io::BufReader::new(f);
    Ok(Root::Zip(ZipStore::open(location, Box::new(reader))?))
}

/// Finds the layout of a folder or zip and walks it.
fn walk_local(root: &mut Root, budget: &Budget, acc: &mut Acc, depth: u32) -> Result<(), DepotError> {
    if root.exists("index.xml") {
        return walk_index(root, "index.xml", budget, acc);
    }
    if root.exists("vendor-index.xml") {
        return walk_vendor_index(root, "vendor-index.xml", budget, acc);
    }
    if root.exists("vmware.xml") {
        // The root is itself an extracted metadata zip / folder.
        return parse_metadata_root(root, budget, acc);
    }
    let zips: Vec<String> =
        root.top_files().into_iter().filter(|f| f.to_ascii_lowercase().ends_with(".zip")).collect();
    if zips.is_empty() || depth >= 2 {
        return Err(DepotError::invalid(
            root.label(""),
            "no index.xml, vendor-index.xml, vmware.xml or inner bundle zip found: not a depot",
        ));
    }
    for z in zips {
        let bytes = root.read(&z, budget)?;
        let label = root.label(&z);
        if is_metadata_zip(&bytes) {
            if !acc.seen.contains(&label) {
                acc.seen.push(label.clone());
                parse_metadata_zip(&label, &bytes, budget, acc)?;
            }
        } else {
            let store = ZipStore::open(&label, Box::new(Cursor::new(bytes)))?;
            let mut inner = Root::Zip(store);
            walk_local(&mut inner, budget, acc, depth + 1)?;
            // Keep the inner root reachable for VIB verification: when the
            // outer zip only wraps one bundle, the inner one becomes the root.
            *root = inner;
            return Ok(());
        }
    }
    Ok(())
}

fn is_metadata_zip(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map(|z| z.index_for_name("vmware.xml").is_some())
        .unwrap_or(false)
}

fn walk_index(root: &mut Root, index: &str, budget: &Budget, acc: &mut Acc) -> Result<(), DepotError> {
    let bytes = root.read(index, budget)?;
    let label = root.label(index);
    let vendors = xml::parse_index(&label, &bytes)?;
    if vendors.is_empty() {
        return Err(DepotError::invalid(label, "the index lists no vendor"));
    }
    for v in vendors {
        let rel = if v.relative_path.is_empty() {
            v.index_file.clone()
        } else {
            format!("{}/{}", v.relative_path.trim_end_matches('/'), v.index_file)
        };
        let vi = root.resolve(index, &rel)?;
        if !root.exists(&vi) {
            return Err(DepotError::Missing { index: label.clone(), missing: rel });
        }
        walk_vendor_index(root, &vi, budget, acc)?;
    }
    Ok(())
}

fn walk_vendor_index(root: &mut Root, vi: &str, budget: &Budget, acc: &mut Acc) -> Result<(), DepotError> {
    let bytes = root.read(vi, budget)?;
    let label = root.label(vi);
    let metas = xml::parse_vendor_index(&label, &bytes)?;
    for m in metas {
        let target = root.resolve(vi, &m.url)?;
        acc.metadata.push(m.clone());
        if acc.seen.contains(&target) {
            continue;
        }
        acc.seen.push(target.clone());
        if !root.exists(&target) {
            return Err(DepotError::Missing { index: label.clone(), missing: m.url.clone() });
        }
        let data = root.read(&target, budget).map_err(|e| match e {
            DepotError::Http { url, message } if message.contains("404") => {
                DepotError::Missing { index: label.clone(), missing: format!("{url} ({message})") }
            }
            e => e,
        })?;
        let mlabel = root.label(&target);
        if target.to_ascii_lowercase().ends_with(".xml") {
            xml::parse_metadata_file(&mlabel, &data, &mut acc.parsed)?;
        } else {
            parse_metadata_zip(&mlabel, &data, budget, acc)?;
        }
    }
    Ok(())
}

/// What one parser thread returns.
type ChunkResult = Result<(Parsed, Vec<ReleaseUnit>, Vec<ReleaseUnit>), DepotError>;

/// Classes of metadata members.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vib,
    Bulletin,
    Profile,
    VmwareXml,
    BaseImage,
    Addon,
}

fn classify(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if lower == "vmware.xml" {
        return Some(Kind::VmwareXml);
    }
    let (dir, file) = lower.split_once('/')?;
    if file.is_empty() || file.ends_with('/') {
        return None;
    }
    match dir {
        "vibs" if file.ends_with(".xml") => Some(Kind::Vib),
        "bulletins" if file.ends_with(".xml") => Some(Kind::Bulletin),
        "profiles" if file.ends_with(".xml") => Some(Kind::Profile),
        "baseimages" => Some(Kind::BaseImage),
        "addons" => Some(Kind::Addon),
        _ => None,
    }
}

/// Parses one metadata zip (in memory), or loads its snapshot.
fn parse_metadata_zip(label: &str, bytes: &[u8], budget: &Budget, acc: &mut Acc) -> Result<(), DepotError> {
    let snap_path = budget.opts.snapshots.then(|| crate::snapshot::path_for(&budget.opts.cache_dir(), bytes));
    if let Some(p) = &snap_path {
        if let Some(s) = crate::snapshot::load(p, label) {
            acc.parsed.vibs.extend(s.parsed.vibs);
            acc.parsed.bulletins.extend(s.parsed.bulletins);
            acc.parsed.profiles.extend(s.parsed.profiles);
            acc.parsed.warnings.extend(s.parsed.warnings);
            acc.base_images.extend(s.base_images);
            acc.addons.extend(s.addons);
            return Ok(());
        }
    }
    let mut one = Acc::default();
    parse_metadata_zip_xml(label, bytes, budget, &mut one)?;
    let snap = crate::snapshot::Snap { parsed: one.parsed, base_images: one.base_images, addons: one.addons };
    if let Some(p) = &snap_path {
        crate::snapshot::store(p, &snap, label);
    }
    acc.parsed.vibs.extend(snap.parsed.vibs);
    acc.parsed.bulletins.extend(snap.parsed.bulletins);
    acc.parsed.profiles.extend(snap.parsed.profiles);
    acc.parsed.warnings.extend(snap.parsed.warnings);
    acc.base_images.extend(snap.base_images);
    acc.addons.extend(snap.addons);
    Ok(())
}

/// Parses one metadata zip (in memory), in parallel over its members.
fn parse_metadata_zip_xml(
    label: &str,
    bytes: &[u8],
    budget: &Budget,
    acc: &mut Acc,
) -> Result<(), DepotError> {
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DepotError::Zip {
        path: label.to_string(),
        message: format!("not a readable zip (corrupt or truncated?): {e}"),
    })?;
    let mut work: Vec<(usize, Kind, String)> = Vec::new();
    for i in 0..zip.len() {
        let Some(name) = zip.name_for_index(i) else { continue };
        join_rel(label, "", name)?;
        if let Some(k) = classify(name) {
            work.push((i, k, name.to_string()));
        }
    }
    let has = |k: Kind| work.iter().any(|w| w.1 == k);
    if !has(Kind::VmwareXml) && !has(Kind::Vib) && !has(Kind::Bulletin) && !has(Kind::Profile) {
        return Err(DepotError::invalid(
            label,
            "metadata zip has no vmware.xml, vibs/, bulletins/ or profiles/",
        ));
    }
    // vmware.xml repeats bulletins and VIBs; read it only for what the
    // per-file folders lack.
    let need_vmware_xml = !has(Kind::Vib) || !has(Kind::Bulletin);
    let (use_vmware_vibs, use_vmware_bulletins) = (!has(Kind::Vib), !has(Kind::Bulletin));
    work.retain(|w| w.1 != Kind::VmwareXml || need_vmware_xml);

    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8);
    let threads = threads.min(work.len() / 256 + 1).max(1);
    let chunk = work.len().div_ceil(threads).max(1);
    let results: Vec<ChunkResult> = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || -> ChunkResult {
                    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DepotError::Zip {
                        path: label.to_string(),
                        message: format!("not a readable zip: {e}"),
                    })?;
                    let mut out = Parsed::default();
                    let mut bases = Vec::new();
                    let mut addons = Vec::new();
                    let mut inflater = crate::store::Inflater::new();
                    let mut buf = Vec::new();
                    for (i, kind, name) in part {
                        let ml = format!("{label}!{name}");
                        inflater.read(&mut zip, *i, &ml, budget, &mut buf)?;
                        let data = &buf[..];
                        match kind {
                            Kind::BaseImage => bases.push(parse_release_unit(&ml, data, &mut out.warnings)),
                            Kind::Addon => addons.push(parse_release_unit(&ml, data, &mut out.warnings)),
                            Kind::VmwareXml => {
                                let mut tmp = Parsed::default();
                                xml::parse_metadata_file(&ml, data, &mut tmp)?;
                                if use_vmware_vibs {
                                    out.vibs.extend(tmp.vibs);
                                }
                                if use_vmware_bulletins {
                                    out.bulletins.extend(tmp.bulletins);
                                }
                                out.profiles.extend(tmp.profiles);
                                out.warnings.extend(tmp.warnings);
                            }
                            _ => xml::parse_metadata_file(&ml, data, &mut out)?,
                        }
                    }
                    Ok((out, bases, addons))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DepotError::invalid(label, "a metadata parser thread panicked".to_string()))
                })
            })
            .collect()
    });
    for r in results {
        let (p, b, a) = r?;
        acc.parsed.vibs.extend(p.vibs);
        acc.parsed.bulletins.extend(p.bulletins);
        acc.parsed.profiles.extend(p.profiles);
        acc.parsed.warnings.extend(p.warnings);
        acc.base_images.extend(b);
        acc.addons.extend(a);
    }
    Ok(())
}

/// An extracted metadata folder/zip at the root (`vmware.xml` at the top).
fn parse_metadata_root(root: &mut Root, budget: &Budget, acc: &mut Acc) -> Result<(), DepotError> {
    match root {
        Root::Zip(z) => {
            // Re-read the whole zip as bytes is not possible generically; read members.
            let names = z.names();
            let mut tmp = Acc::default();
            let has_vibs = names.iter().any(|n| classify(n) == Some(Kind::Vib));
            let has_bulletins = names.iter().any(|n| classify(n) == Some(Kind::Bulletin));
            for n in names {
                let Some(kind) = classify(&n) else { continue };
                if kind == Kind::VmwareXml && has_vibs && has_bulletins {
                    continue;
                }
                let data = z.read(&n, budget)?;
                let ml = format!("{}!{}", z.label, n);
                read_metadata_member(kind, &ml, &data, has_vibs, has_bulletins, &mut tmp)?;
            }
            merge(acc, tmp);
            Ok(())
        }
        Root::Dir(d) => {
            let d = d.clone();
            let mut names = Vec::new();
            for sub in ["", "vibs", "bulletins", "profiles", "baseimages", "addons"] {
                if let Ok(rd) = std::fs::read_dir(d.join(sub)) {
                    for e in rd.filter_map(Result::ok) {
                        if let Ok(f) = e.file_name().into_string() {
                            let n = if sub.is_empty() { f } else { format!("{sub}/{f}") };
                            if classify(&n).is_some() {
                                names.push(n);
                            }
                        }
                    }
                }
            }
            names.sort();
            let has_vibs = names.iter().any(|n| classify(n) == Some(Kind::Vib));
            let has_bulletins = names.iter().any(|n| classify(n) == Some(Kind::Bulletin));
            let mut tmp = Acc::default();
            for n in names {
                let Some(kind) = classify(&n) else { continue };
                if kind == Kind::VmwareXml && has_vibs && has_bulletins {
                    continue;
                }
                let data = read_dir_file(&d, &n, budget)?;
                let ml = d.join(&n).display().to_string();
                read_metadata_member(kind, &ml, &data, has_vibs, has_bulletins, &mut tmp)?;
            }
            merge(acc, tmp);
            Ok(())
        }
        Root::Http { .. } => Err(DepotError::invalid("http", "unexpected metadata root")),
    }
}

fn read_metadata_member(
    kind: Kind,
    ml: &str,
    data: &[u8],
    has_vibs: bool,
    has_bulletins: bool,
    acc: &mut Acc,
) -> Result<(), DepotError> {
    match kind {
        Kind::BaseImage => acc.base_images.push(parse_release_unit(ml, data, &mut acc.parsed.warnings)),
        Kind::Addon => acc.addons.push(parse_release_unit(ml, data, &mut acc.parsed.warnings)),
        Kind::VmwareXml => {
            let mut tmp = Parsed::default();
            xml::parse_metadata_file(ml, data, &mut tmp)?;
            if !has_vibs {
                acc.parsed.vibs.extend(tmp.vibs);
            }
            if !has_bulletins {
                acc.parsed.bulletins.extend(tmp.bulletins);
            }
            acc.parsed.profiles.extend(tmp.profiles);
            acc.parsed.warnings.extend(tmp.warnings);
        }
        _ => xml::parse_metadata_file(ml, data, &mut acc.parsed)?,
    }
    Ok(())
}

fn merge(acc: &mut Acc, tmp: Acc) {
    acc.parsed.vibs.extend(tmp.parsed.vibs);
    acc.parsed.bulletins.extend(tmp.parsed.bulletins);
    acc.parsed.profiles.extend(tmp.parsed.profiles);
    acc.parsed.warnings.extend(tmp.parsed.warnings);
    acc.base_images.extend(tmp.base_images);
    acc.addons.extend(tmp.addons);
}

/// Base images and add-ons: their format is not publicly specified; we read
/// the JSON fields seen in public depots leniently (`nameSpec.name`,
/// `versionSpec.version`, `versionSpec.uiString`, `releaseDate`,
/// `components`) and warn when nothing is recognised.
fn parse_release_unit(label: &str, data: &[u8], warnings: &mut Vec<String>) -> ReleaseUnit {
    let mut u = ReleaseUnit { source: label.to_string(), ..ReleaseUnit::default() };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        warnings.push(format!("{label}: base image / add-on is not JSON; not read"));
        return u;
    };
    let s = |x: Option<&serde_json::Value>| x.and_then(|x| x.as_str()).map(str::to_string);
    u.name = s(v.pointer("/nameSpec/name")).or_else(|| s(v.get("name")));
    u.version = s(v.pointer("/versionSpec/version")).or_else(|| s(v.get("version")));
    u.ui_version = s(v.pointer("/versionSpec/uiString"));
    u.release_date = s(v.get("releaseDate"));
    if let Some(obj) = v.get("components").and_then(|c| c.as_object()) {
        for (k, val) in obj {
            if let Some(ver) = val.as_str() {
                u.components.push((k.clone(), ver.to_string()));
            }
        }
    }
    if u.name.is_none() && u.version.is_none() {
        warnings.push(format!("{label}: base image / add-on fields not recognised"));
    }
    u
}
