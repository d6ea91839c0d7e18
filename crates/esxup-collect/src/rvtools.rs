//! Collector: HostFacts from an RVTools export (`.xlsx`), one per ESXi host
//! of its vHost sheet, for `esxup collect --rvtools FILE --out-dir DIR`.
//!
//! RVTools (Robware, now Dell) reads a vCenter through the vSphere API and
//! writes one sheet per object type. esxup reads these sheets and columns,
//! under RVTools' own names (headers matched case-insensitively, blanks
//! collapsed; the variants in brackets are accepted too):
//!
//! | sheet | columns read | required |
//! |---|---|---|
//! | vHost | Host, ESX Version, Cluster, Datacenter, CPU Model, # CPU, # Cores, # Memory (MiB), in Maintenance Mode, Vendor, Model, BIOS Vendor, BIOS Version, Assigned License(s), VI SDK Server | Host, ESX Version |
//! | vInfo | VM [VM Name], Powerstate [Power State], Template, HW version [Hardware Version], Host, OS according to the configuration file, VM ID, VM UUID, Path | VM, Host |
//! | vTools | VM [VM Name], Tools [Tools Status], Tools Version, Host, VM UUID | VM, Tools |
//! | vSnapshot | VM [VM Name], Name [Snapshot], Date / time [Date/time], Size MiB (total) [Size MB (total)], Host, VM UUID | VM, Name |
//! | vLicense | Name, Key, Expiration Date | Name, Key |
//! | vNIC | Host, Network Device [Device], Driver, Speed, MAC, PCI | Host, Network Device |
//! | vHBA | Host, Device, Driver, Pci, Model | Host, Device |
//! | vMetaData | xlsx creation datetime | - |
//!
//! Sources of these names (docs/rvtools.md keeps the list): the sheet and
//! column lists of a real RVTools export compared header by header in
//! github.com/Yoobuu/Kylow `vmware_rvtools_exporter/out/compare/report.md`
//! (reference `RVTOOLEX.xlsx`: 27 sheets, e.g. vHost's 74 columns with
//! `ESX Version`, `# Memory`, `Assigned License(s)`, `UUID`; vTools' `Tools`;
//! vSnapshot's `Date / time`); the tab reference of
//! github.com/bankielewicz/rvtools-sql-server-data-warehouse
//! `docs/reference/rvtools-tabs.md` (`# Memory` in MiB); the `VM Name`,
//! `Power State`, `Hardware Version` and `Tools Status` variants other
//! RVTools readers accept (spiral023/rvtools-analyzer's vTools parser).
//! `ESX Version` holds the product's full name, `VMware ESXi 6.7.0
//! build-17700523`, parsed as `vmware -vl` prints it.
//!
//! Not confirmed from RVTools' own documentation, and read defensively:
//! the values of vTools `Tools` (taken to be the API's `guest.toolsStatus`:
//! `toolsOk`, `toolsOld`, `toolsNotRunning`, `toolsNotInstalled`; the
//! `guestTools...` values of `toolsVersionStatus2` are understood too;
//! anything else is "unknown"), that vHost `Assigned License(s)` holds the
//! licence's name as vLicense `Name` does (the key is only taken when
//! exactly one vLicense row has that name), the form of `HW version`
//! (`vmx-14` or `14`), and the date cells (an Excel date, or text starting
//! `YYYY-MM-DD` / `YYYY/MM/DD`; other text stays unknown).
//!
//! What an export cannot know stays `None` with a collection note
//! ([`RVTOOLS_BLIND`]): VIBs, image profile, acceptance level, boot device,
//! firmware type, Secure Boot, TPM, modules, altbootbank, slpd, CPUID
//! family/model. vHost's `UUID` and `Serial number` have no place in the
//! HostFacts model and are not kept. A missing optional sheet leaves its
//! facts unknown ([`Export::missing`]); a present sheet without a required
//! column, a file that is not an xlsx workbook, or one without vHost is an
//! error; a vHost row whose `ESX Version` has no build is an error row of
//! its own ([`HostRow::result`]).

use crate::vim::{mask_key, tools_status};
use calamine::{Data, Reader};
use esxup_facts::{
    Cpu, Firmware, HostFacts, License, Nic, PowerState, Snapshot, StorageAdapter, ToolsStatus, Vm,
    SCHEMA_VERSION,
};
use esxup_version::Date;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What an RVTools export cannot tell; noted on every host read from one.
pub const RVTOOLS_BLIND: &str = "not in an RVTools export (collect over SSH or from saved outputs): \
image profile, installed VIBs, acceptance level, boot device, firmware type (UEFI/BIOS), Secure Boot, TPM, \
loaded modules, altbootbank, slpd, persistent scratch, boot options, CPUID family/model";

/// Largest export read: RVTools workbooks of large vCenters are tens of MiB.
pub const MAX_EXPORT_BYTES: u64 = 512 << 20;

/// Why an export could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum RvToolsError {
    #[error("read RVTools export {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("read RVTools export {path}: {bytes} bytes, larger than the {max} an export can be")]
    TooLarge { path: PathBuf, bytes: u64, max: u64 },
    #[error("read RVTools export {path}: not an xlsx workbook ({reason})")]
    NotXlsx { path: PathBuf, reason: String },
    #[error("read RVTools export {path}: no vHost sheet (sheets found: {found})")]
    NoHostSheet { path: PathBuf, found: String },
    #[error("read RVTools export {path}: sheet {sheet}: {reason}")]
    Sheet { path: PathBuf, sheet: String, reason: String },
    #[error("read RVTools export {path}: sheet {sheet} has no {column:?} column (columns found: {found})")]
    MissingColumn { path: PathBuf, sheet: String, column: String, found: String },
}

/// One vHost row: the host's facts, or why its row could not be read.
#[derive(Debug)]
pub struct HostRow {
    /// The host name (or `vHost row N` when the row names none).
    pub label: String,
    pub result: Result<HostFacts, String>,
}

/// What an export gave.
#[derive(Debug)]
pub struct Export {
    /// One per vHost row, in sheet order.
    pub hosts: Vec<HostRow>,
    /// Optional sheets the export lacks, each with the facts that stay unknown.
    pub missing: Vec<(&'static str, &'static str)>,
    /// Export-wide remarks (VMs of hosts not in vHost, ambiguous licences).
    pub notes: Vec<String>,
}

/// The optional sheets and what stays unknown without them.
const OPTIONAL: &[(&str, &str)] = &[
    ("vInfo", "VMs"),
    ("vTools", "VMware Tools status"),
    ("vSnapshot", "snapshots"),
    ("vLicense", "licence keys and expiry"),
    ("vNIC", "physical NICs"),
    ("vHBA", "storage adapters"),
    ("vMetaData", "the export date"),
];

/// A sheet: its headers (as written) and its rows below the header.
struct Table {
    name: String,
    headers: Vec<String>,
    rows: Vec<Vec<Data>>,
}

fn norm(h: &str) -> String {
    h.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Table {
    /// The index of the first of `names` the sheet has.
    fn col(&self, names: &[&str]) -> Option<usize> {
        let heads: Vec<String> = self.headers.iter().map(|h| norm(h)).collect();
        names.iter().find_map(|n| heads.iter().position(|h| *h == norm(n)))
    }

    fn require(&self, path: &Path, names: &[&str]) -> Result<usize, RvToolsError> {
        self.col(names).ok_or_else(|| RvToolsError::MissingColumn {
            path: path.to_path_buf(),
            sheet: self.name.clone(),
            column: names[0].to_string(),
            found: self.headers.iter().filter(|h| !h.is_empty()).cloned().collect::<Vec<_>>().join(", "),
        })
    }
}

/// The text of a cell; `None` when empty or an error value.
fn text(row: &[Data], col: Option<usize>) -> Option<String> {
    let c = row.get(col?)?;
    let t = match c {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(_) | Data::Empty => return None,
    };
    (!t.is_empty()).then_some(t)
}

fn number(row: &[Data], col: Option<usize>) -> Option<f64> {
    match row.get(col?)? {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        Data::String(s) => s.trim().replace(',', "").parse().ok(),
        _ => None,
    }
    .filter(|v: &f64| v.is_finite() && *v >= 0.0)
}

fn boolean(row: &[Data], col: Option<usize>) -> Option<bool> {
    match row.get(col?)? {
        Data::Bool(b) => Some(*b),
        Data::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A date cell: an Excel serial date (days since 1899-12-30), ISO text, or
/// text starting `YYYY-MM-DD` / `YYYY/MM/DD`.
fn date(row: &[Data], col: Option<usize>) -> Option<Date> {
    let serial =
        |v: f64| (v.is_finite() && v > 0.0 && v < 2_958_466.0).then(|| Date::from_days(v as i64 - 25_569));
    match row.get(col?)? {
        Data::DateTime(d) => serial(d.as_f64()),
        Data::Float(f) => serial(*f),
        Data::Int(i) => serial(*i as f64),
        Data::String(s) | Data::DateTimeIso(s) => s.trim().get(..10).and_then(|d| d.parse().ok()),
        _ => None,
    }
}

/// Reads an RVTools export.
pub fn read(path: &Path) -> Result<Export, RvToolsError> {
    let meta = std::fs::metadata(path).map_err(|source| RvToolsError::Read { path: path.into(), source })?;
    if !meta.is_file() {
        return Err(RvToolsError::NotXlsx { path: path.into(), reason: "not a regular file".into() });
    }
    if meta.len() > MAX_EXPORT_BYTES {
        return Err(RvToolsError::TooLarge { path: path.into(), bytes: meta.len(), max: MAX_EXPORT_BYTES });
    }
    // The workbook parser is third-party code fed an untrusted file: a
    // panic in it is this file's error, not esxup's crash.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_tables(path))) {
        Ok(r) => assemble(path, r?),
        Err(_) => {
            Err(RvToolsError::NotXlsx { path: path.into(), reason: "the workbook parser failed".into() })
        }
    }
}

/// Every sheet esxup reads, by its RVTools name.
fn read_tables(path: &Path) -> Result<HashMap<&'static str, Table>, RvToolsError> {
    let not_xlsx =
        |e: calamine::XlsxError| RvToolsError::NotXlsx { path: path.into(), reason: e.to_string() };
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(not_xlsx)?;
    let names = wb.sheet_names();
    let mut out = HashMap::new();
    for want in std::iter::once("vHost").chain(OPTIONAL.iter().map(|(s, _)| *s)) {
        let Some(real) = names.iter().find(|n| n.trim().eq_ignore_ascii_case(want)) else { continue };
        let range = wb.worksheet_range(real).map_err(|e| RvToolsError::Sheet {
            path: path.into(),
            sheet: want.to_string(),
            reason: e.to_string(),
        })?;
        let mut rows = range.rows();
        let headers: Vec<String> = rows
            .next()
            .map(|r| (0..r.len()).map(|i| text(r, Some(i)).unwrap_or_default()).collect())
            .unwrap_or_default();
        let rows: Vec<Vec<Data>> = rows.map(<[Data]>::to_vec).collect();
        out.insert(want, Table { name: want.to_string(), headers, rows });
    }
    if !out.contains_key("vHost") {
        return Err(RvToolsError::NoHostSheet { path: path.into(), found: names.join(", ") });
    }
    Ok(out)
}

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The VM columns shared by vInfo, vTools and vSnapshot: a VM is matched by
/// its `VM UUID` when both sheets give one, else by name and host.
struct VmKey {
    vm: usize,
    host: Option<usize>,
    uuid: Option<usize>,
}

impl VmKey {
    fn of(t: &Table, path: &Path) -> Result<VmKey, RvToolsError> {
        Ok(VmKey {
            vm: t.require(path, &["VM", "VM Name"])?,
            host: t.col(&["Host"]),
            uuid: t.col(&["VM UUID"]),
        })
    }
    fn keys(&self, row: &[Data]) -> (Option<String>, String) {
        let name = text(row, Some(self.vm)).unwrap_or_default();
        let host = text(row, self.host).unwrap_or_default();
        (text(row, self.uuid).map(|u| key(&u)), format!("{}\u{0}{}", key(&host), name))
    }
}

/// Per-VM rows of vTools or vSnapshot, by UUID and by name+host.
struct ByVm<T> {
    by_uuid: HashMap<String, Vec<T>>,
    by_name: HashMap<String, Vec<T>>,
}

impl<T: Clone> ByVm<T> {
    fn new() -> Self {
        ByVm { by_uuid: HashMap::new(), by_name: HashMap::new() }
    }
    fn add(&mut self, (uuid, name): (Option<String>, String), v: T) {
        if let Some(u) = uuid {
            self.by_uuid.entry(u).or_default().push(v.clone());
        }
        self.by_name.entry(name).or_default().push(v);
    }
    fn get(&self, (uuid, name): &(Option<String>, String)) -> Option<&Vec<T>> {
        uuid.as_ref().and_then(|u| self.by_uuid.get(u)).or_else(|| self.by_name.get(name))
    }
}

fn power_state(s: &str) -> Option<PowerState> {
    match s.to_ascii_lowercase().as_str() {
        "poweredon" => Some(PowerState::PoweredOn),
        "poweredoff" => Some(PowerState::PoweredOff),
        "suspended" => Some(PowerState::Suspended),
        _ => None,
    }
}

/// vTools `Tools`: the API's `guest.toolsStatus` words, or `toolsVersionStatus2`'s.
pub fn rvtools_tools_status(s: &str) -> ToolsStatus {
    match s.trim() {
        "toolsOk" => ToolsStatus::Current,
        "toolsOld" => ToolsStatus::SupportedOld,
        "toolsNotInstalled" => ToolsStatus::NotInstalled,
        t if t.starts_with("guestTools") => tools_status(t),
        _ => ToolsStatus::Unknown,
    }
}

/// `vmx-14`, `14` or 14.0 -> 14.
fn hw_version(s: &str) -> Option<u32> {
    let t = s.trim();
    let t = t.strip_prefix("vmx-").unwrap_or(t);
    t.parse().ok()
}

fn assemble(path: &Path, mut t: HashMap<&'static str, Table>) -> Result<Export, RvToolsError> {
    let missing: Vec<(&'static str, &'static str)> =
        OPTIONAL.iter().filter(|(s, _)| !t.contains_key(s)).copied().collect();
    let mut notes = Vec::new();
    let file = path.display().to_string();

    // vTools: status and version per VM.
    let tools = match t.remove("vTools") {
        Some(s) => {
            let k = VmKey::of(&s, path)?;
            let st = s.require(path, &["Tools", "Tools Status", "ToolsStatus"])?;
            let ver = s.col(&["Tools Version"]);
            let mut m = ByVm::new();
            for r in &s.rows {
                if text(r, Some(k.vm)).is_none() {
                    continue;
                }
                m.add(k.keys(r), (text(r, Some(st)).map(|x| rvtools_tools_status(&x)), text(r, ver)));
            }
            Some(m)
        }
        None => None,
    };
    // vSnapshot: the snapshots per VM.
    let snaps = match t.remove("vSnapshot") {
        Some(s) => {
            let k = VmKey::of(&s, path)?;
            let name = s.require(path, &["Name", "Snapshot", "Snapshot Name"])?;
            let when = s.col(&["Date / time", "Date/time", "Date", "Created"]);
            let size = s.col(&["Size MiB (total)", "Size MB (total)", "Size MiB", "Size MB"]);
            let mut m = ByVm::new();
            for r in &s.rows {
                if text(r, Some(k.vm)).is_none() {
                    continue;
                }
                let snap = Snapshot {
                    name: text(r, Some(name)).unwrap_or_default(),
                    created: date(r, when),
                    size_bytes: number(r, size).map(|mib| (mib * 1_048_576.0) as u64),
                };
                m.add(k.keys(r), snap);
            }
            Some(m)
        }
        None => None,
    };
    // vInfo: the VMs, by host.
    let mut vms: Option<HashMap<String, Vec<Vm>>> = None;
    if let Some(s) = t.remove("vInfo") {
        let k = VmKey::of(&s, path)?;
        let host = s.require(path, &["Host"])?;
        let power = s.col(&["Powerstate", "Power State"]);
        let template = s.col(&["Template"]);
        let hw = s.col(&["HW version", "Hardware Version", "VM Version"]);
        let os = s.col(&["OS according to the configuration file", "Guest OS", "OS"]);
        let id = s.col(&["VM ID"]);
        let vmx = s.col(&["Path"]);
        let mut m: HashMap<String, Vec<Vm>> = HashMap::new();
        for r in &s.rows {
            let Some(name) = text(r, Some(k.vm)) else { continue };
            if boolean(r, template) == Some(true) {
                continue;
            }
            let keys = k.keys(r);
            let (tools_status, tools_version) = match &tools {
                Some(tm) => tm.get(&keys).and_then(|v| v.first().cloned()).unwrap_or((None, None)),
                None => (None, None),
            };
            let vm = Vm {
                name,
                id: text(r, id),
                power_state: text(r, power).and_then(|p| power_state(&p)),
                hardware_version: text(r, hw).and_then(|h| hw_version(&h)),
                guest_os: text(r, os),
                tools_status,
                tools_version,
                datastore: text(r, vmx).and_then(|p| {
                    p.strip_prefix('[').and_then(|x| x.split_once(']')).map(|(d, _)| d.to_string())
                }),
                snapshots: snaps.as_ref().map(|sm| sm.get(&keys).cloned().unwrap_or_default()),
            };
            m.entry(key(&text(r, Some(host)).unwrap_or_default())).or_default().push(vm);
        }
        vms = Some(m);
    }
    // vLicense: keys and expiry by licence name.
    let mut licences: HashMap<String, Vec<(String, Option<Date>)>> = HashMap::new();
    let have_licences = match t.remove("vLicense") {
        Some(s) => {
            let name = s.require(path, &["Name"])?;
            let k = s.require(path, &["Key"])?;
            let exp = s.col(&["Expiration Date"]);
            for r in &s.rows {
                if let (Some(n), Some(key_text)) = (text(r, Some(name)), text(r, Some(k))) {
                    licences.entry(key(&n)).or_default().push((key_text, date(r, exp)));
                }
            }
            true
        }
        None => false,
    };
    let nics = device_rows(&mut t, "vNIC", path, &["Network Device", "Device"])?;
    let hbas = device_rows(&mut t, "vHBA", path, &["Device"])?;
    let exported_on = t.remove("vMetaData").and_then(|s| {
        let c = s.col(&["xlsx creation datetime"]);
        s.rows.first().and_then(|r| date(r, c))
    });

    let h = t
        .remove("vHost")
        .ok_or_else(|| RvToolsError::NoHostSheet { path: path.into(), found: String::new() })?;
    let col_host = h.require(path, &["Host", "Host Name"])?;
    let col_ver = h.require(path, &["ESX Version", "ESXi Version"])?;
    let c = |names: &[&str]| h.col(names);
    let (col_cluster, col_dc, col_cpu, col_sockets, col_cores, col_mem, col_mm) = (
        c(&["Cluster"]),
        c(&["Datacenter"]),
        c(&["CPU Model"]),
        c(&["# CPU"]),
        c(&["# Cores"]),
        c(&["# Memory"]),
        c(&["in Maintenance Mode"]),
    );
    let (col_vendor, col_model, col_bios_vendor, col_bios_version, col_lic, col_sdk) = (
        c(&["Vendor"]),
        c(&["Model"]),
        c(&["BIOS Vendor"]),
        c(&["BIOS Version"]),
        c(&["Assigned License(s)", "Assigned License"]),
        c(&["VI SDK Server"]),
    );
    let mut hosts = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, r) in h.rows.iter().enumerate() {
        let Some(name) = text(r, Some(col_host)) else { continue };
        seen.push(key(&name));
        let row_no = i + 2;
        let ver = text(r, Some(col_ver));
        let product = match ver.as_deref().map(esxup_facts::parse::system::vmware_vl) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                hosts.push(HostRow {
                    label: name.clone(),
                    result: Err(format!(
                        "{file}: vHost row {row_no} ({name}): ESX Version {:?}: {}",
                        ver.unwrap_or_default(),
                        e.message
                    )),
                });
                continue;
            }
            None => {
                hosts.push(HostRow {
                    label: name.clone(),
                    result: Err(format!("{file}: vHost row {row_no} ({name}): no ESX Version")),
                });
                continue;
            }
        };
        let mut f =
            HostFacts { schema_version: SCHEMA_VERSION, hostname: Some(name.clone()), ..Default::default() };
        f.source = Some(match text(r, col_sdk) {
            Some(vc) => format!("rvtools:{file}#{vc}"),
            None => format!("rvtools:{file}"),
        });
        f.collected_on = exported_on.map(|d| d.to_string());
        f.cluster = text(r, col_cluster);
        f.product = Some(product);
        let brand = text(r, col_cpu).map(|b| b.split_whitespace().collect::<Vec<_>>().join(" "));
        let sockets = number(r, col_sockets).map(|v| v as u32);
        let cores = number(r, col_cores).map(|v| v as u32);
        if brand.is_some() || sockets.is_some() || cores.is_some() {
            f.cpu = Some(Cpu { brand, sockets, cores, ..Cpu::default() });
        }
        f.memory_bytes = number(r, col_mem).map(|mib| (mib * 1_048_576.0) as u64);
        f.maintenance_mode = boolean(r, col_mm);
        let fw = Firmware {
            system_vendor: text(r, col_vendor),
            system_model: text(r, col_model),
            bios_vendor: text(r, col_bios_vendor),
            bios_version: text(r, col_bios_version),
            ..Firmware::default()
        };
        if fw != Firmware::default() {
            f.firmware = Some(fw);
        }
        let k = key(&name);
        f.nics = nics.as_ref().map(|m| {
            m.get(&k)
                .map(|rows| {
                    rows.iter()
                        .map(|d| Nic {
                            name: d.name.clone(),
                            pci_address: d.pci.clone(),
                            driver: d.driver.clone(),
                            link_up: None,
                            speed_mbps: d.speed,
                            mac: d.mac.clone(),
                            description: None,
                            management: None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        f.storage_adapters = hbas.as_ref().map(|m| {
            m.get(&k)
                .map(|rows| {
                    rows.iter()
                        .map(|d| StorageAdapter {
                            name: d.name.clone(),
                            driver: d.driver.clone(),
                            pci_address: d.pci.clone(),
                            description: d.model.clone(),
                            boot: None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        if let Some(m) = &mut vms {
            let mut v = m.remove(&k).unwrap_or_default();
            v.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            f.vms = Some(v);
        }
        let notes_f = &mut f.collection_notes;
        notes_f.push(format!("read from the RVTools export {file}"));
        if let Some(dc) = text(r, col_dc) {
            notes_f.push(format!("datacenter: {dc}"));
        }
        match text(r, col_lic) {
            Some(edition) => {
                let found = licences.get(&key(&edition));
                let (key_masked, expires) = match found.map(Vec::as_slice) {
                    Some([(k, exp)]) => (Some(mask_key(k)), *exp),
                    Some([]) | None if have_licences => {
                        notes_f.push(format!("licence key: vLicense has no licence named {edition:?}"));
                        (None, None)
                    }
                    Some(many) if many.len() > 1 => {
                        notes_f.push(format!(
                            "licence key: {} vLicense rows are named {edition:?}; which one is assigned is not in the export",
                            many.len()
                        ));
                        (None, None)
                    }
                    _ => (None, None),
                };
                f.license =
                    Some(License { edition: Some(edition), product_major: None, expires, key_masked });
            }
            None => notes_f.push("licence not collected: vHost gives no Assigned License(s)".to_string()),
        }
        if f.collected_on.is_none() {
            notes_f.push("export date not collected: no vMetaData xlsx creation datetime".to_string());
        }
        notes_f.push(RVTOOLS_BLIND.to_string());
        hosts.push(HostRow { label: name, result: Ok(f) });
    }
    if let Some(m) = vms {
        let orphans: usize = m.iter().filter(|(h, _)| !seen.contains(h)).map(|(_, v)| v.len()).sum();
        if orphans > 0 {
            notes.push(format!(
                "{orphans} VM(s) of vInfo run on hosts vHost does not list; they were not attributed"
            ));
        }
    }
    Ok(Export { hosts, missing, notes })
}

/// One row of vNIC or vHBA.
struct Device {
    name: String,
    driver: Option<String>,
    pci: Option<String>,
    speed: Option<u32>,
    mac: Option<String>,
    model: Option<String>,
}

/// vNIC or vHBA rows by host; `None` when the sheet is missing.
fn device_rows(
    t: &mut HashMap<&'static str, Table>,
    sheet: &str,
    path: &Path,
    device: &[&str],
) -> Result<Option<HashMap<String, Vec<Device>>>, RvToolsError> {
    let Some(s) = t.remove(sheet) else { return Ok(None) };
    let host = s.require(path, &["Host"])?;
    let dev = s.require(path, device)?;
    let (driver, pci, speed, mac, model) =
        (s.col(&["Driver"]), s.col(&["PCI", "Pci"]), s.col(&["Speed"]), s.col(&["MAC"]), s.col(&["Model"]));
    let mut m: HashMap<String, Vec<Device>> = HashMap::new();
    for r in &s.rows {
        let (Some(h), Some(name)) = (text(r, Some(host)), text(r, Some(dev))) else { continue };
        m.entry(key(&h)).or_default().push(Device {
            name,
            driver: text(r, driver),
            pci: text(r, pci),
            speed: number(r, speed).map(|v| v as u32),
            mac: text(r, mac),
            model: text(r, model),
        });
    }
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_tools_words_and_hardware_versions() {
        assert_eq!(rvtools_tools_status("toolsOld"), ToolsStatus::SupportedOld);
        assert_eq!(rvtools_tools_status("toolsOk"), ToolsStatus::Current);
        assert_eq!(rvtools_tools_status("guestToolsTooOld"), ToolsStatus::TooOld);
        assert_eq!(rvtools_tools_status("toolsNotRunning"), ToolsStatus::Unknown);
        assert_eq!(hw_version("vmx-14"), Some(14));
        assert_eq!(hw_version("19"), Some(19));
        assert_eq!(hw_version("vmx-x"), None);
    }

    #[test]
    fn reads_excel_serial_dates() {
        // 45306 is 2024-01-15 in Excel's 1900 date system.
        assert_eq!(date(&[Data::Float(45306.25)], Some(0)), "2024-01-15".parse().ok());
        assert_eq!(date(&[Data::String("2024/01/15 10:22".into())], Some(0)), "2024-01-15".parse().ok());
        assert_eq!(date(&[Data::String("15.01.2024".into())], Some(0)), None);
    }
}
