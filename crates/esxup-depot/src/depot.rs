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
use crate::fasthash::{FastMap, StrIndex};
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
    /// VIB id -> position in `vibs`.
    vib_index: StrIndex,
    /// VIB name -> group in `name_groups`: a span of `name_order`, which
    /// holds positions in `vibs`.
    by_name: StrIndex,
    name_order: Vec<u32>,
    name_groups: Vec<(u32, u32)>,
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

impl Drop for Depot {
    /// A full-size depot holds over a million small allocations: freeing
    /// them takes longer than a dry-run. They are freed on a background
    /// thread, so that the caller (typically a CLI about to exit) does not
    /// wait; in a long-running process the memory is returned all the same.
    /// If no thread can be started, they are freed here.
    fn drop(&mut self) {
        if self.vibs.len() < 4096 {
            return;
        }
        let parts = (
            std::mem::take(&mut self.vibs),
            std::mem::take(&mut self.profiles),
            std::mem::take(&mut self.bulletins),
            std::mem::take(&mut self.components),
        );
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(parts)));
        let theirs = std::sync::Arc::clone(&slot);
        let spawned = std::thread::Builder::new()
            .name("esxup-depot-free".into())
            .spawn(move || drop(theirs.lock().map(|mut p| p.take())))
            .is_ok();
        if !spawned {
            drop(slot.lock().map(|mut p| p.take()));
        }
    }
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
    /// `broadcom:` and Broadcom's token URLs are opened with the download
    /// token kept out of every label ([`crate::broadcom`]): the depot's
    /// [`Depot::location`] is then the masked URL.
    pub fn open(location: &str) -> Result<Depot, DepotError> {
        Depot::open_with(location, &OpenOptions::default())
    }

    /// [`Depot::open`] with explicit limits and cache directory.
    pub fn open_with(location: &str, opts: &OpenOptions) -> Result<Depot, DepotError> {
        let loc = crate::broadcom::split_token(location)?;
        let location = loc.masked.as_str();
        let budget = Budget::new(opts.clone());
        let mut acc = Acc::default();
        let root = if location.starts_with("http://") || location.starts_with("https://") {
            let cache = HttpCache::new(opts, &loc, loc.token_in_url.as_ref())?;
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
            if meta.is_file() && crate::iso::looks_like_iso(path) {
                let mut root = iso_metadata_root(path, &budget)?;
                parse_metadata_root(&mut root, &budget, &mut acc)?;
                root
            } else {
                let mut root =
                    if meta.is_dir() { Root::Dir(path.to_path_buf()) } else { open_zip_file(location)? };
                walk_local(&mut root, &budget, &mut acc, 0)?;
                root
            }
        };
        let t0 = std::time::Instant::now();
        let d = Depot::assemble(location, root, budget, acc);
        if std::env::var_os("ESXUP_DEPOT_TIMING").is_some() {
            eprintln!("timing: {location}: merge, sort and index {:?}", t0.elapsed());
        }
        Ok(d)
    }

    fn assemble(location: &str, root: Root, budget: Budget, acc: Acc) -> Depot {
        let Acc { parsed, base_images, addons, metadata, .. } = acc;
        let Parsed { vibs: all_vibs, bulletins: all_bulletins, profiles: all_profiles, mut warnings } =
            parsed;

        // Bulletins and components on another core, while this one sorts
        // the VIBs and the profiles and checks the profiles' VIBs against the
        // listed ids.
        let listed = StrIndex::build(all_vibs.len(), |i| all_vibs[i].id.as_str());
        let ((bulletins, components), (order, profiles, missing)) = std::thread::scope(|s| {
            let other = s.spawn(move || assemble_bulletins(all_bulletins));
            let order = sorted_order(&all_vibs, |v| v.id.as_str());
            let profiles = sorted_unique(all_profiles, |p| p.name.as_str());
            let missing: Vec<String> = profiles
                .iter()
                .filter_map(|p| {
                    let n = p
                        .vib_ids
                        .iter()
                        .filter(|id| listed.get(id, |i| all_vibs[i].id.as_str()).is_none())
                        .count();
                    (n > 0).then(|| {
                        format!(
                            "image profile {} names {n} VIB(s) that are not in the depot metadata",
                            p.name
                        )
                    })
                })
                .collect();
            let bc = other.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            (bc, (order, profiles, missing))
        });
        drop(listed);
        let vibs = assemble_vibs(all_vibs, order, &mut warnings);
        warnings.extend(missing);
        let vib_index = StrIndex::build(vibs.len(), |i| vibs[i].id.as_str());

        // Where each VIB file is, for local depots.
        let vib_files =
            if matches!(root, Root::Http { .. }) { HashMap::new() } else { locate_vib_files(&root, &vibs) };
        // VIBs by name: positions grouped by name (in id order within a
        // group), and an index from a name to its group.
        let (name_order, name_groups) = {
            let mut group_of: FastMap<&str, u32> = FastMap::default();
            let mut groups: Vec<Vec<u32>> = Vec::new();
            for (i, v) in vibs.iter().enumerate() {
                let g = *group_of.entry(v.name.as_str()).or_insert_with(|| {
                    groups.push(Vec::new());
                    (groups.len() - 1) as u32
                });
                groups[g as usize].push(i as u32);
            }
            let mut order = Vec::with_capacity(vibs.len());
            let mut spans = Vec::with_capacity(groups.len());
            for g in groups {
                spans.push((order.len() as u32, g.len() as u32));
                order.extend(g);
            }
            (order, spans)
        };
        let by_name = StrIndex::build(name_groups.len(), |g| {
            vibs[name_order[name_groups[g].0 as usize] as usize].name.as_str()
        });

        Depot {
            location: location.to_string(),
            vibs,
            vib_index,
            by_name,
            name_order,
            name_groups,
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
        self.vib_index.get(id, |i| self.vibs[i].id.as_str()).map(|i| &self.vibs[i])
    }
    /// VIBs with this name (any vendor and version).
    pub fn vibs_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Vib> + 'a {
        let span = self
            .by_name
            .get(name, |g| self.vibs[self.name_order[self.name_groups[g].0 as usize] as usize].name.as_str())
            .map(|g| self.name_groups[g])
            .map(|(s, n)| &self.name_order[s as usize..(s + n) as usize])
            .unwrap_or(&[]);
        span.iter().map(move |&i| &self.vibs[i as usize])
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
                    signature: None,
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
                    signature: None,
                }),
            }
        }
        out
    }
}

/// Positions of `items` in the order of their keys; equal keys keep their
/// input order (a stable sort, done on indices rather than on the items).
fn sorted_order<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<u32> {
    let mut keys: Vec<(&str, u32)> = items.iter().enumerate().map(|(i, t)| (key(t), i as u32)).collect();
    keys.sort_unstable();
    keys.into_iter().map(|(_, i)| i).collect()
}

/// Reorders `v` in place so that `v[k]` becomes the old `v[order[k]]`
/// (`order` is a permutation; it is consumed). No second vector: VIBs are
/// large and many.
fn apply_order<T>(v: &mut [T], mut order: Vec<u32>) {
    for i in 0..v.len() {
        if order[i] == u32::MAX {
            continue;
        }
        let mut j = i;
        loop {
            let k = order[j] as usize;
            order[j] = u32::MAX;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// VIBs put in `order` (by id, see [`sorted_order`]), each once: a later
/// listing of an id is folded into the first one.
fn assemble_vibs(mut vibs: Vec<Vib>, order: Vec<u32>, warnings: &mut Vec<String>) -> Vec<Vib> {
    apply_order(&mut vibs, order);
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
    vibs
}

/// Items sorted by key, the first listing of each key kept.
fn sorted_unique<T>(mut all: Vec<T>, key: impl Fn(&T) -> &str) -> Vec<T> {
    let order = sorted_order(&all, &key);
    apply_order(&mut all, order);
    all.dedup_by(|later, first| key(later) == key(first));
    all
}

/// Bulletins sorted by id (the first listing of an id kept) and their
/// components, sorted by name and version.
fn assemble_bulletins(all_bulletins: Vec<Bulletin>) -> (Vec<Bulletin>, Vec<Component>) {
    let bulletins = sorted_unique(all_bulletins, |b| b.id.as_str());
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
    (bulletins, components)
}

/// Where each VIB's `.vib` is in a local depot: its `relative-path`, else
/// `vib20/<name>/<id>.vib`, else its file name at the top of the root.
fn locate_vib_files(root: &Root, vibs: &[Vib]) -> HashMap<String, String> {
    let mut vib_files = HashMap::new();
    let top = root.top_files();
    let all = root.all_files();
    // File names present anywhere: a VIB whose candidates' file names are
    // all absent is not looked up further (metadata-only depots).
    let mut names: FastMap<&str, ()> = FastMap::default();
    let mut stems: FastMap<&str, ()> = FastMap::default();
    for f in all.iter().chain(top.iter()) {
        let n = f.rsplit('/').next().unwrap_or(f);
        names.insert(n, ());
        if let Some(stem) = n.strip_suffix(".vib") {
            stems.insert(stem, ());
        }
    }
    let base_of = |p: &str| -> Option<usize> {
        let last = p.rsplit('/').next().unwrap_or(p);
        (!last.is_empty() && last != "." && last != "..").then_some(p.len() - last.len())
    };
    for v in vibs {
        let rp_name = v.relative_path.as_deref().map(|rp| base_of(rp).map(|i| &rp[i..]));
        let rp_may = match rp_name {
            None => false,
            Some(None) => true, // unusual path: look it up
            Some(Some(n)) => names.contains_key(n),
        };
        let id_may = stems.contains_key(v.id.as_str());
        if !rp_may && !id_may {
            continue;
        }
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
    vib_files
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

/// Where an installer ISO keeps its image metadata, in the order looked for.
pub const ISO_METADATA: [&str; 2] = ["UPGRADE/METADATA.ZIP", "IMGDB.TGZ"];

/// The image metadata of an installer ISO as a metadata root: the
/// `UPGRADE/METADATA.ZIP` depot metadata zip if the image has one, else the
/// image database `IMGDB.TGZ` (`var/db/esximg/{vibs,bulletins,profiles}/`),
/// repacked in memory as a metadata zip so that one reader reads both.
fn iso_metadata_root(path: &Path, budget: &Budget) -> Result<Root, DepotError> {
    let img = crate::iso::IsoImage::open(path)?;
    let max = budget.opts.max_file_bytes;
    if let Some(e) = img.find(ISO_METADATA[0]) {
        let bytes = img.read(e, max)?;
        budget.charge(img.label(), bytes.len() as u64)?;
        let label = format!("{}!{}", img.label(), e.path);
        return Ok(Root::Zip(ZipStore::open(&label, Box::new(Cursor::new(bytes)))?));
    }
    if let Some(e) = img.find(ISO_METADATA[1]) {
        let bytes = img.read(e, max)?;
        let label = format!("{}!{}", img.label(), e.path);
        let zip = imgdb_as_zip(&label, &bytes, budget)?;
        return Ok(Root::Zip(ZipStore::open(&label, Box::new(Cursor::new(zip)))?));
    }
    Err(DepotError::invalid(
        img.label(),
        format!(
            "an ISO 9660 image without {} or {}: not an ESXi installer image",
            ISO_METADATA[0], ISO_METADATA[1]
        ),
    ))
}

/// Repacks the image database of an ISO (`IMGDB.TGZ`) as a metadata zip.
fn imgdb_as_zip(label: &str, tgz: &[u8], budget: &Budget) -> Result<Vec<u8>, DepotError> {
    use std::io::{Read, Write};
    let bad = |m: String| DepotError::invalid(label, m);
    // Every byte inflated counts, members skipped too: a crafted image
    // database must not expand without bound.
    struct Capped<R> {
        inner: R,
        left: u64,
    }
    impl<R: Read> Read for Capped<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
                std::io::Error::other("expands to more than the depot limit (refused: bounded expansion)")
            })?;
            Ok(n)
        }
    }
    let gz = Capped { inner: flate2::read::GzDecoder::new(tgz), left: budget.opts.max_total_bytes };
    let mut ar = tar::Archive::new(gz);
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut n = 0usize;
    for entry in ar.entries().map_err(|e| bad(format!("not a readable tar.gz: {e}")))? {
        let mut entry = entry.map_err(|e| bad(format!("not a readable tar.gz: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let p =
            entry.path().map_err(|e| bad(format!("bad member name: {e}")))?.to_string_lossy().into_owned();
        let p = p.trim_start_matches("./");
        let Some(rest) = p.strip_prefix("var/db/esximg/") else { continue };
        let Some((dir, file)) = rest.split_once('/') else { continue };
        if !["vibs", "bulletins", "profiles", "baseimages", "addons"].contains(&dir) || file.contains('/') {
            continue;
        }
        let size = entry.header().size().unwrap_or(0);
        if size > budget.opts.max_file_bytes {
            return Err(DepotError::TooLarge {
                path: format!("{label}!{p}"),
                message: format!("{size} bytes"),
            });
        }
        budget.charge(label, size)?;
        let mut data = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut data).map_err(|e| DepotError::io(format!("{label}!{p}"), e))?;
        let name = if file.to_ascii_lowercase().ends_with(".xml") {
            format!("{dir}/{file}")
        } else {
            format!("{dir}/{file}.xml")
        };
        out.start_file(name, opts).map_err(|e| bad(e.to_string()))?;
        out.write_all(&data).map_err(|e| DepotError::io(label, e))?;
        n += 1;
    }
    if n == 0 {
        return Err(bad("the image database holds no var/db/esximg/vibs, bulletins or profiles".into()));
    }
    Ok(out.finish().map_err(|e| bad(e.to_string()))?.into_inner())
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

/// Metadata parser threads: `ESXUP_DEPOT_THREADS`, else the available cores (at most 8).
/// (`ESXUP_DEPOT_TIMING=1` prints where the time of opening goes, on stderr.)
fn parser_threads() -> usize {
    std::env::var("ESXUP_DEPOT_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .clamp(1, 8)
}

/// What one parser thread returns.
type ChunkResult = Result<Acc, DepotError>;

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
    if name.eq_ignore_ascii_case("vmware.xml") {
        return Some(Kind::VmwareXml);
    }
    let (dir, file) = name.split_once('/')?;
    if file.is_empty() || file.ends_with('/') {
        return None;
    }
    let xml = file.len() >= 4 && file[file.len() - 4..].eq_ignore_ascii_case(".xml");
    let is = |d: &str| dir.eq_ignore_ascii_case(d);
    if is("vibs") && xml {
        Some(Kind::Vib)
    } else if is("bulletins") && xml {
        Some(Kind::Bulletin)
    } else if is("profiles") && xml {
        Some(Kind::Profile)
    } else if is("baseimages") {
        Some(Kind::BaseImage)
    } else if is("addons") {
        Some(Kind::Addon)
    } else {
        None
    }
}

/// Parses one metadata zip (in memory), or loads its snapshot.
fn parse_metadata_zip(label: &str, bytes: &[u8], budget: &Budget, acc: &mut Acc) -> Result<(), DepotError> {
    if !budget.opts.snapshots {
        return parse_metadata_zip_xml(label, bytes, budget, acc);
    }
    let timing = std::env::var_os("ESXUP_DEPOT_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let path = crate::snapshot::path_for(&budget.opts.cache_dir(), bytes);
    let t_hash = t0.elapsed();
    let snap = match crate::snapshot::load(&path, label) {
        Some(s) => s,
        None => {
            let mut one = Acc::default();
            parse_metadata_zip_xml(label, bytes, budget, &mut one)?;
            let snap = crate::snapshot::Snap {
                parsed: one.parsed,
                base_images: one.base_images,
                addons: one.addons,
            };
            crate::snapshot::store(&path, &snap, label);
            snap
        }
    };
    if timing {
        eprintln!("timing: {label}: snapshot key (sha256) {t_hash:?}, snapshot {:?}", t0.elapsed() - t_hash);
    }
    merge_parts(acc, snap.parsed, snap.base_images, snap.addons);
    Ok(())
}

/// Parses one metadata zip (in memory), in parallel over its members.
fn parse_metadata_zip_xml(
    label: &str,
    bytes: &[u8],
    budget: &Budget,
    acc: &mut Acc,
) -> Result<(), DepotError> {
    let timing = std::env::var_os("ESXUP_DEPOT_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DepotError::Zip {
        path: label.to_string(),
        message: format!("not a readable zip (corrupt or truncated?): {e}"),
    })?;
    // (member index, kind, weight for cutting the work into chunks)
    let mut work: Vec<(usize, Kind, u64)> = Vec::new();
    for i in 0..zip.len() {
        // A name the zip cannot decode is refused, not skipped: every
        // member's path is checked before anything is read.
        let Some(name) = zip.name_for_index(i) else { continue };
        let name = name.map_err(|e| DepotError::Zip {
            path: label.to_string(),
            message: format!("member #{i} has no readable name: {e}"),
        })?;
        check_member(label, &name)?;
        if let Some(k) = classify(&name) {
            work.push((i, k, 0));
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
    let (has_vibs, has_bulletins) = (has(Kind::Vib), has(Kind::Bulletin));
    let need_vmware_xml = !has_vibs || !has_bulletins;
    work.retain(|w| w.1 != Kind::VmwareXml || need_vmware_xml);

    let threads = parser_threads().min(work.len() / 256 + 1).max(1);
    // Contiguous chunks of about equal work, handed out to the threads as
    // they come free (the cores are shared), merged back in member order.
    let chunks_wanted = if threads > 1 { threads * 16 } else { 1 };
    // Weights by kind (a profile is about ten times a VIB entry); reading
    // sizes from the local headers costs more than the balance it buys.
    let mut total = 0u64;
    for w in &mut work {
        w.2 = match w.1 {
            Kind::Profile => 8,
            Kind::VmwareXml => 64,
            _ => 1,
        };
        total += w.2;
    }
    let mut parts: Vec<&[(usize, Kind, u64)]> = Vec::with_capacity(chunks_wanted);
    let mut rest = &work[..];
    let share = (total / chunks_wanted as u64).max(1);
    while !rest.is_empty() {
        if parts.len() + 1 >= chunks_wanted {
            parts.push(rest);
            break;
        }
        let mut sum = 0;
        let mut cut = 0;
        while cut < rest.len() && sum < share {
            sum += rest[cut].2;
            cut += 1;
        }
        let (head, tail) = rest.split_at(cut.max(1));
        parts.push(head);
        rest = tail;
    }
    let t_plan = t0.elapsed();
    let zip = &zip;
    let run = move |zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
                    inflater: &mut crate::store::Inflater,
                    buf: &mut Vec<u8>,
                    ml: &mut String,
                    part: &[(usize, Kind, u64)]|
          -> ChunkResult {
        let mut out = Acc::default();
        let count = |k: Kind| part.iter().filter(|w| w.1 == k).count();
        out.parsed.vibs.reserve_exact(count(Kind::Vib));
        out.parsed.bulletins.reserve_exact(count(Kind::Bulletin));
        out.parsed.profiles.reserve_exact(count(Kind::Profile));
        for &(i, kind, _) in part {
            ml.clear();
            ml.push_str(label);
            ml.push('!');
            ml.push_str(zip.name_for_index(i).and_then(Result::ok).as_deref().unwrap_or(""));
            inflater.read(zip, i, ml, budget, buf)?;
            read_metadata_member(kind, ml, buf, has_vibs, has_bulletins, &mut out)?;
        }
        Ok(out)
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let worker = || -> Vec<(usize, ChunkResult)> {
        let t0 = std::time::Instant::now();
        let mut zip = zip.clone();
        let mut inflater = crate::store::Inflater::new();
        let (mut buf, mut ml) = (Vec::new(), String::new());
        let mut done = Vec::new();
        loop {
            let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(part) = parts.get(c) else { break };
            done.push((c, run(&mut zip, &mut inflater, &mut buf, &mut ml, part)));
        }
        if timing {
            eprintln!("timing: {label}: {} chunks in {:?}", done.len(), t0.elapsed());
        }
        done
    };
    let mut results: Vec<(usize, ChunkResult)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(worker)).collect();
        let mut all = worker();
        for h in handles {
            match h.join() {
                Ok(r) => all.extend(r),
                Err(_) => all.push((0, Err(DepotError::invalid(label, "a metadata parser thread panicked")))),
            }
        }
        all
    });
    results.sort_by_key(|r| r.0);
    let results: Vec<ChunkResult> = results.into_iter().map(|r| r.1).collect();
    let mut sizes = (0, 0, 0);
    for p in results.iter().flatten().map(|a| &a.parsed) {
        sizes.0 += p.vibs.len();
        sizes.1 += p.bulletins.len();
        sizes.2 += p.profiles.len();
    }
    acc.parsed.vibs.reserve(sizes.0);
    acc.parsed.bulletins.reserve(sizes.1);
    acc.parsed.profiles.reserve(sizes.2);
    for r in results {
        merge(acc, r?);
    }
    if timing {
        eprintln!("timing: {label}: plan {t_plan:?}, all {:?}", t0.elapsed());
    }
    Ok(())
}

/// Refuses a member name that would escape the depot (zip-slip); the
/// common safe case is decided without allocating.
fn check_member(label: &str, name: &str) -> Result<(), DepotError> {
    let b = name.as_bytes();
    let suspicious = b.is_empty()
        || b[0] == b'/'
        || (b.len() > 1 && b[1] == b':')
        || b.iter().any(|&c| c == b'\\' || c == 0)
        || name.split('/').any(|p| p == "..");
    let plain = !suspicious;
    if plain {
        return Ok(());
    }
    join_rel(label, "", name).map(|_| ())
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
    merge_parts(acc, tmp.parsed, tmp.base_images, tmp.addons);
}

/// Appends what one metadata file, zip or snapshot yielded (walk order is
/// kept: the first listing of an id wins later).
fn merge_parts(acc: &mut Acc, parsed: Parsed, base_images: Vec<ReleaseUnit>, addons: Vec<ReleaseUnit>) {
    acc.parsed.vibs.extend(parsed.vibs);
    acc.parsed.bulletins.extend(parsed.bulletins);
    acc.parsed.profiles.extend(parsed.profiles);
    acc.parsed.warnings.extend(parsed.warnings);
    acc.base_images.extend(base_images);
    acc.addons.extend(addons);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_by_index_is_stable_and_dedup_keeps_the_first() {
        let items = vec![("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)];
        let order = sorted_order(&items, |x| x.0);
        assert_eq!(order, [1, 4, 0, 2, 3]);
        let mut v = items.clone();
        apply_order(&mut v, order);
        assert_eq!(v, [("a", 2), ("a", 5), ("b", 1), ("b", 3), ("c", 4)]);
        assert_eq!(sorted_unique(items, |x| x.0), [("a", 2), ("b", 1), ("c", 4)]);
    }

    #[test]
    fn member_names_escaping_the_zip_are_refused() {
        for ok in ["vibs/a.xml", "vmware.xml", "a/./b.xml", "a/b/../c.xml"] {
            assert!(check_member("z", ok).is_ok(), "{ok}");
        }
        for bad in ["../x", "/etc/passwd", "a/../../x", "C:/x", "a\\b"] {
            assert!(matches!(check_member("z", bad), Err(DepotError::UnsafePath { .. })), "{bad}");
        }
    }
}
