//! The depot data model: VIBs, bulletins, components, image profiles, base
//! images and add-ons, as read from depot metadata or VIB descriptors.

use esxup_facts::AcceptanceLevel;
use esxup_version::vib::{Constraint, VibVersion};
use serde::Serialize;
use std::fmt;

/// Parses an acceptance level as descriptors (`certified`, `accepted`,
/// `partner`, `community`) or esxcli (`VMwareCertified`, ...) write it.
pub fn parse_acceptance(s: &str) -> Option<AcceptanceLevel> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "certified" | "vmwarecertified" => AcceptanceLevel::VMwareCertified,
        "accepted" | "vmwareaccepted" => AcceptanceLevel::VMwareAccepted,
        "partner" | "partnersupported" => AcceptanceLevel::PartnerSupported,
        "community" | "communitysupported" => AcceptanceLevel::CommunitySupported,
        _ => return None,
    })
}

/// The short form descriptors and esxcli messages use (`community`).
pub fn acceptance_short(a: AcceptanceLevel) -> &'static str {
    match a {
        AcceptanceLevel::VMwareCertified => "certified",
        AcceptanceLevel::VMwareAccepted => "accepted",
        AcceptanceLevel::PartnerSupported => "partner",
        AcceptanceLevel::CommunitySupported => "community",
    }
}

/// A VIB id split into its parts: `<vendor>_<type>_<name>_<version>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VibId {
    pub vendor: String,
    pub kind: String,
    pub name: String,
    pub version: VibVersion,
}

impl VibId {
    /// Builds the id from its parts.
    pub fn new(vendor: &str, kind: &str, name: &str, version: &str) -> VibId {
        VibId {
            vendor: vendor.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            version: VibVersion::parse(version),
        }
    }

    /// Splits an id: vendor up to the first `_`, type up to the second, the
    /// version after the last `_`, the name in between (names may hold `_`).
    pub fn parse(id: &str) -> Option<VibId> {
        let id = id.trim();
        let (vendor, rest) = id.split_once('_')?;
        let (kind, rest) = rest.split_once('_')?;
        let (name, version) = rest.rsplit_once('_')?;
        if vendor.is_empty() || kind.is_empty() || name.is_empty() || version.is_empty() {
            return None;
        }
        Some(VibId::new(vendor, kind, name, version))
    }
}

impl fmt::Display for VibId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}_{}_{}", self.vendor, self.kind, self.name, self.version)
    }
}

/// A checksum as depot metadata and descriptors record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Checksum {
    /// `sha-256` or `sha-1`.
    pub kind: String,
    /// `gunzip` when the checksum is of the decompressed payload.
    pub verify_process: Option<String>,
    pub value: String,
}

/// One payload of a VIB.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Payload {
    pub name: String,
    /// `vgz`, `tgz`, `boot`, ...
    pub kind: String,
    pub size: Option<u64>,
    pub checksums: Vec<Checksum>,
}

/// `<provide name= version=>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Provide {
    pub name: String,
    pub version: Option<VibVersion>,
}

/// `<hwplatform vendor= model=>` of `system-requires`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct HwPlatform {
    pub vendor: String,
    pub model: Option<String>,
}

/// `<softwarePlatform version= productLineID=>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SwPlatform {
    pub product_line: String,
    pub version: String,
}

/// A VIB as depot metadata (`vibs/*.xml`, `vmware.xml`) or its own
/// `descriptor.xml` describes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Vib {
    /// `<vendor>_<type>_<name>_<version>`.
    pub id: String,
    pub vendor: String,
    pub name: String,
    pub version: VibVersion,
    /// `bootbank`, `locker`, `meta`.
    pub kind: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub release_date: Option<String>,
    pub depends: Vec<Constraint>,
    pub conflicts: Vec<Constraint>,
    pub replaces: Vec<Constraint>,
    pub provides: Vec<Provide>,
    pub compatible_with: Vec<Constraint>,
    pub software_tags: Vec<String>,
    pub maintenance_mode: Option<bool>,
    pub hw_platforms: Vec<HwPlatform>,
    pub sw_platforms: Vec<SwPlatform>,
    pub acceptance: Option<AcceptanceLevel>,
    pub live_install_allowed: Option<bool>,
    pub live_remove_allowed: Option<bool>,
    /// `postInstall/rebootRequired` of `vmware.xml`, when given.
    pub reboot_required: Option<bool>,
    pub stateless_ready: Option<bool>,
    pub overlay: Option<bool>,
    /// Where the `.vib` is, relative to the depot root (depot metadata only).
    pub relative_path: Option<String>,
    pub packed_size: Option<u64>,
    /// The whole-VIB checksum (depot metadata only).
    pub checksum: Option<Checksum>,
    pub payloads: Vec<Payload>,
    /// Files the VIB installs (descriptors; depot parsing keeps only the count).
    pub files: Vec<String>,
    pub file_count: usize,
}

impl Vib {
    /// Whether installing or removing this VIB needs a reboot: the
    /// `rebootRequired` flag if known, else not live-installable.
    pub fn needs_reboot(&self) -> bool {
        self.reboot_required.unwrap_or(!self.live_install_allowed.unwrap_or(false))
    }

    /// `PCIID` software tags (without the `PCIID ` prefix).
    pub fn pci_ids(&self) -> impl Iterator<Item = &str> {
        self.software_tags.iter().filter_map(|t| t.strip_prefix("PCIID ")).map(str::trim)
    }

    /// A vmklinux (6.x Linux-compat) driver: depends on `vmkapi_2_2_0_0` or
    /// earlier shims, or on `com.vmware.driverAPI-9.2.x`, none of which 7.0
    /// provides (research README).
    pub fn is_vmklinux(&self) -> bool {
        self.depends.iter().any(|c| is_vmklinux_api(&c.name))
    }
}

impl Vib {
    /// Files this VIB installs outside the paths VMware's extensibility rules
    /// (`vib20-extensibility.rng`) allow for its acceptance level; empty for
    /// VMware-level VIBs or when the file list is unknown. A community VIB
    /// may also not set `overlay` true.
    pub fn extensibility_violations(&self) -> Vec<String> {
        use esxup_facts::AcceptanceLevel::*;
        let partner = match self.acceptance {
            Some(CommunitySupported) => false,
            Some(PartnerSupported) => true,
            _ => return Vec::new(),
        };
        let mut out: Vec<String> =
            self.files.iter().filter(|f| !file_allowed(f, partner)).map(|f| f.to_string()).collect();
        if !partner && self.overlay == Some(true) {
            out.push("<overlay>true</overlay>".to_string());
        }
        out
    }
}

/// `CommunityFile` / `PartnerFile` of vib20-extensibility.rng.
fn file_allowed(f: &str, partner: bool) -> bool {
    const COMMUNITY_PREFIXES: &[&str] = &[
        "etc/vmware/shutdown/shutdown.d/",
        "etc/vmware/pciid/",
        "etc/vmware/vm-support/",
        "etc/vmware/firewall/",
        "etc/vmware/service/",
        "etc/vmware/driver.map.d/",
        "etc/cim/",
        "etc/config/",
        "opt/",
        "usr/lib/cim/",
        "usr/lib/pycim/",
        "usr/lib/hostprofiles/plugins/",
        "usr/lib/hostprofiles/locale/",
        "usr/lib/vmware/",
        "usr/lib/vmware-debug/",
        "usr/libexec/jumpstart/plugins/",
        "usr/share/hwdata/driver.pciids.d/",
        "var/lib/sfcb/registration/",
    ];
    const PARTNER_FILES: &[&str] = &[
        "etc/vmware/vmware.lic",
        "etc/vmware/support",
        "etc/vmware/oem.xml",
        "etc/vmware/backup.conf",
        "usr/lib/vmware/hostd/docroot/client/customLinks.xml",
    ];
    let f = f.trim_start_matches('/');
    // The patterns are `prefix.+`: something must follow the prefix.
    let by_prefix = |p: &str| f.len() > p.len() && f.starts_with(p);
    COMMUNITY_PREFIXES.iter().any(|p| by_prefix(p))
        || (partner && (PARTNER_FILES.contains(&f) || by_prefix("etc/init.d/")))
}

/// Whether a dependency name is one of the vmklinux driver APIs.
pub fn is_vmklinux_api(name: &str) -> bool {
    name.starts_with("com.vmware.driverAPI-9.2")
        || matches!(name, "vmkapi_2_0_0_0" | "vmkapi_2_1_0_0" | "vmkapi_2_2_0_0")
}

/// `componentNameSpec` + `componentVersionSpec` of a 7.0+ bulletin.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ComponentSpec {
    pub name: String,
    pub ui_name: Option<String>,
    pub version: VibVersion,
    pub ui_version: Option<String>,
}

/// A bulletin (`bulletins/*.xml` or a `vmware.xml` entry).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Bulletin {
    pub id: String,
    pub vendor: Option<String>,
    pub summary: Option<String>,
    pub severity: Option<String>,
    pub category: Option<String>,
    pub urgency: Option<String>,
    pub release_type: Option<String>,
    pub release_date: Option<String>,
    pub kb_url: Option<String>,
    pub platforms: Vec<SwPlatform>,
    pub vib_ids: Vec<String>,
    pub component: Option<ComponentSpec>,
}

/// A 7.0+ component: a bulletin with a name and version spec.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Component {
    pub name: String,
    pub version: VibVersion,
    pub ui_name: Option<String>,
    pub ui_version: Option<String>,
    pub vendor: Option<String>,
    pub bulletin_id: String,
    pub release_date: Option<String>,
    pub vib_ids: Vec<String>,
}

/// An image profile (`profiles/*.xml`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ImageProfile {
    pub name: String,
    pub creator: Option<String>,
    pub profile_id: Option<String>,
    pub description: Option<String>,
    pub creation_time: Option<String>,
    pub modified_time: Option<String>,
    pub readonly: Option<bool>,
    pub acceptance: Option<AcceptanceLevel>,
    pub vib_ids: Vec<String>,
    /// 7.0+ profiles: `(name, version)` of their components, when listed.
    pub components: Vec<(String, String)>,
    /// Metadata file it came from (`metadata.zip!profiles/x.xml`).
    pub source: String,
}

/// A 7.0+ base image or vendor add-on (`baseimages/`, `addons/`), as far as
/// its format is public: name, version and component list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ReleaseUnit {
    pub name: Option<String>,
    pub version: Option<String>,
    pub ui_version: Option<String>,
    pub release_date: Option<String>,
    pub components: Vec<(String, String)>,
    pub source: String,
}

/// One `<metadata>` entry of a vendor index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MetadataRef {
    pub product_id: Option<String>,
    pub version: Option<String>,
    pub url: String,
}
