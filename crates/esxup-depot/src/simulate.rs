//! Transaction simulation: what `esxcli software profile update` (or
//! `profile install`) would do to a host, decided VIB by VIB with the reason,
//! and the problems esxcli would report, in esxcli's wording.
//!
//! Rules (research README):
//! - every VIB implicitly provides `name = version` and replaces
//!   `name << version`;
//! - `profile update` upgrades installed VIBs, adds new ones, never removes;
//!   target VIBs older than the installed ones are skipped (unless
//!   `--allow-downgrades`), and the kept newer VIBs must still resolve;
//! - `profile install` replaces the image; VIBs not in the profile are
//!   removed only with `--ok-to-remove`;
//! - the result must resolve: dependencies, conflicts, obsoletes, acceptance
//!   level, hardware platform.

use crate::depot::Depot;
use crate::fasthash::NameIndex;
use crate::host::{HostImage, HostVib};
use crate::model::{acceptance_short, ImageProfile, Vib, VibId};
use esxup_facts::AcceptanceLevel;
use esxup_version::vib::{Constraint, VibVersion};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::HashMap;

/// `profile update` or `profile install`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Update,
    Install,
}

/// esxcli options that change the transaction.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    pub mode: Mode,
    pub allow_downgrades: bool,
    pub ok_to_remove: bool,
}

/// One VIB and why it lands where it does.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Decision {
    pub vib: String,
    pub reason: String,
    /// The other VIB the decision is about (replaced, newer, obsoleting...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// Kinds of transaction problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum ProblemKind {
    DependencyError,
    Conflict,
    Obsoleted,
    AcceptanceError,
    HardwarePlatform,
    /// `profile install` would remove VIBs and `--ok-to-remove` was not given.
    RemovalNotAllowed,
    /// The profile names a VIB the depot metadata lacks.
    MissingVib,
    /// A community/partner VIB installs files outside the paths the
    /// extensibility rules allow (esxcli 7.0.1 refused ghettoVCB for this;
    /// reported as a warning: which releases enforce it is not known here).
    Extensibility,
}

impl ProblemKind {
    /// The tag esxcli-style output shows in brackets.
    pub fn tag(self) -> &'static str {
        match self {
            ProblemKind::DependencyError => "DependencyError",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::Obsoleted => "Obsoleted",
            ProblemKind::AcceptanceError => "AcceptanceError",
            ProblemKind::HardwarePlatform => "HardwarePlatform",
            ProblemKind::RemovalNotAllowed => "RemovalNotAllowed",
            ProblemKind::MissingVib => "MissingVib",
            ProblemKind::Extensibility => "Extensibility",
        }
    }

    /// Whether esxcli would refuse the transaction.
    pub fn fails(self) -> bool {
        !matches!(self, ProblemKind::Obsoleted | ProblemKind::Extensibility)
    }
}

/// A problem with the resulting image.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub vibs: Vec<String>,
    /// The constraint involved, if any (`vmkapi_2_2_0_0`, `esx-base >= 7.0.2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
}

/// The simulated outcome of applying an image profile.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Transaction {
    pub profile: String,
    pub mode: Mode,
    pub allow_downgrades: bool,
    pub ok_to_remove: bool,
    pub installed: Vec<Decision>,
    pub removed: Vec<Decision>,
    pub skipped: Vec<Decision>,
    pub kept: Vec<Decision>,
    pub problems: Vec<Problem>,
    pub reboot_required: bool,
    pub reboot_reasons: Vec<String>,
    pub maintenance_mode_required: bool,
    pub maintenance_mode_reasons: Vec<String>,
    /// The acceptance level VIBs were checked against, and where it came from.
    pub acceptance_level: Option<AcceptanceLevel>,
    pub notes: Vec<String>,
}

impl Transaction {
    /// Whether esxcli would carry it out.
    pub fn succeeds(&self) -> bool {
        !self.problems.iter().any(|p| p.kind.fails())
    }
}

/// One VIB of the resulting image (borrowed from the host image or depot).
struct Entry<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a VibVersion,
    meta: Option<&'a Vib>,
    acceptance: Option<AcceptanceLevel>,
}

impl<'a> Entry<'a> {
    fn from_host(h: &'a HostVib, depot: &'a Depot) -> Entry<'a> {
        let meta = depot.find_installed(&h.id, &h.vendor, &h.name, &h.version);
        Entry {
            id: meta.map(|m| m.id.as_str()).unwrap_or(h.id.as_str()),
            name: &h.name,
            version: &h.version,
            acceptance: h.acceptance.or(meta.and_then(|m| m.acceptance)),
            meta,
        }
    }
    fn from_vib(v: &'a Vib) -> Entry<'a> {
        Entry { id: &v.id, name: &v.name, version: &v.version, meta: Some(v), acceptance: v.acceptance }
    }
}

/// Whether `c` is satisfied by a VIB (its implicit `name = version`
/// provide, or an explicit provide).
fn provides(e: &Entry, c: &Constraint) -> bool {
    if e.name == c.name && c.version_matches(Some(e.version)) {
        return true;
    }
    e.meta
        .is_some_and(|m| m.provides.iter().any(|p| p.name == c.name && c.version_matches(p.version.as_ref())))
}

/// Why a VIB lands where it does, kept as references until rendered
/// (formatting every reason of every dry-run costs more than deciding).
#[derive(Clone, Copy, Debug)]
enum Why<'a> {
    AlreadyInstalled { host: &'a str },
    ReplacedByNewer { target: &'a str, tv: &'a VibVersion, hv: &'a VibVersion },
    Upgrades { host: &'a str, tv: &'a VibVersion, hv: &'a VibVersion },
    DowngradedTo { target: &'a str, tv: &'a VibVersion, hv: &'a VibVersion, why: &'static str },
    Downgrades { host: &'a str, tv: &'a VibVersion, hv: &'a VibVersion, why: &'static str },
    SkippedDowngrade { host: &'a str, hv: &'a VibVersion, tv: &'a VibVersion },
    ObsoletedByInstalled { host: &'a str, c: &'a Constraint },
    New,
    ObsoletedBy { target: &'a str, c: &'a Constraint },
    NewerThanProfile { target: &'a str },
    SameVersion,
    NotInProfileUpdate,
    RemovedOkToRemove,
    RemovalBlocked,
}

/// One decision, not yet rendered.
#[derive(Clone, Copy, Debug)]
struct Dec<'a> {
    vib: &'a str,
    why: Why<'a>,
}

/// The pieces joined, allocated once at the final size: rendering every
/// reason of every transaction is mostly string building, and `format!`
/// grows its buffer several times for reasons of this length.
fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

impl Dec<'_> {
    fn render(&self) -> Decision {
        let (reason, related): (String, Option<&str>) = match self.why {
            Why::AlreadyInstalled { host } => (concat(&["already installed (", host, ")"]), Some(host)),
            Why::ReplacedByNewer { target, tv, hv } => (
                concat(&["replaced by newer ", target, " (", tv.as_str(), " >> ", hv.as_str(), ")"]),
                Some(target),
            ),
            Why::Upgrades { host, tv, hv } => {
                (concat(&["upgrades ", host, " (", tv.as_str(), " >> ", hv.as_str(), ")"]), Some(host))
            }
            Why::DowngradedTo { target, tv, hv, why } => {
                (format!("downgraded to {target} ({tv} << {hv}; {why})"), Some(target))
            }
            Why::Downgrades { host, tv, hv, why } => {
                (format!("downgrades {host} ({tv} << {hv}; {why})"), Some(host))
            }
            Why::SkippedDowngrade { host, hv, tv } => (
                format!(
                    "installed {host} is newer ({hv} >> {tv}): a downgrade, skipped without --allow-downgrades"
                ),
                Some(host),
            ),
            Why::ObsoletedByInstalled { host, c } => {
                (format!("obsoleted by installed {host} (replaces {c})"), Some(host))
            }
            Why::New => ("new in the image profile".into(), None),
            Why::ObsoletedBy { target, c } => (format!("obsoleted by {target} (replaces {c})"), Some(target)),
            Why::NewerThanProfile { target } => (concat(&["newer than the profile's ", target]), Some(target)),
            Why::SameVersion => ("same version in the image profile".into(), None),
            Why::NotInProfileUpdate => {
                ("not in the image profile; profile update never removes VIBs".into(), None)
            }
            Why::RemovedOkToRemove => {
                ("not in the image profile; removed by profile install (--ok-to-remove)".into(), None)
            }
            Why::RemovalBlocked => (
                "not in the image profile: profile install would remove it, which needs --ok-to-remove".into(),
                None,
            ),
        };
        Decision { vib: self.vib.to_string(), reason, related: related.map(str::to_string) }
    }
}

/// Why a reboot or maintenance mode is needed, not yet rendered.
#[derive(Clone, Copy, Debug)]
enum Need<'a> {
    NotLiveInstallable(&'a str),
    NotLiveRemovable(&'a str),
    RemovedNotInDepot(&'a str),
    MaintenanceMode(&'a str),
}

impl Need<'_> {
    fn render(&self) -> String {
        match *self {
            Need::NotLiveInstallable(id) => concat(&[id, " is not live-installable"]),
            Need::NotLiveRemovable(id) => concat(&[id, " is not live-removable"]),
            Need::RemovedNotInDepot(id) => {
                format!("{id} is not in the depot; its removal is assumed to need a reboot")
            }
            Need::MaintenanceMode(id) => concat(&[id, " requires maintenance mode"]),
        }
    }
}

/// A simulated transaction whose per-VIB reasons are rendered on demand
/// ([`DryRun::to_transaction`]); what [`simulate`] returns, rendered.
/// Problems and notes are rendered already (they are few).
#[derive(Debug)]
pub struct DryRun<'a> {
    profile: &'a str,
    opts: TxOptions,
    installed: Vec<Dec<'a>>,
    removed: Vec<Dec<'a>>,
    skipped: Vec<Dec<'a>>,
    kept: Vec<Dec<'a>>,
    /// What esxcli would report about the resulting image.
    pub problems: Vec<Problem>,
    reboot: Vec<Need<'a>>,
    maintenance: Vec<Need<'a>>,
    /// The acceptance level VIBs were checked against.
    pub acceptance_level: Option<AcceptanceLevel>,
    pub notes: Vec<String>,
}

impl DryRun<'_> {
    /// Whether esxcli would carry it out.
    pub fn succeeds(&self) -> bool {
        !self.problems.iter().any(|p| p.kind.fails())
    }
    /// Number of VIBs installed, removed, skipped and kept.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (self.installed.len(), self.removed.len(), self.skipped.len(), self.kept.len())
    }
    pub fn reboot_required(&self) -> bool {
        !self.reboot.is_empty()
    }
    pub fn maintenance_mode_required(&self) -> bool {
        !self.maintenance.is_empty()
    }
    /// Renders every decision and reason.
    pub fn to_transaction(&self) -> Transaction {
        let r = |v: &[Dec]| v.iter().map(Dec::render).collect::<Vec<_>>();
        Transaction {
            profile: self.profile.to_string(),
            mode: self.opts.mode,
            allow_downgrades: self.opts.allow_downgrades,
            ok_to_remove: self.opts.ok_to_remove,
            installed: r(&self.installed),
            removed: r(&self.removed),
            skipped: r(&self.skipped),
            kept: r(&self.kept),
            problems: self.problems.clone(),
            reboot_required: !self.reboot.is_empty(),
            reboot_reasons: self.reboot.iter().map(Need::render).collect(),
            maintenance_mode_required: !self.maintenance.is_empty(),
            maintenance_mode_reasons: self.maintenance.iter().map(Need::render).collect(),
            acceptance_level: self.acceptance_level,
            notes: self.notes.clone(),
        }
    }
}

/// Simulates applying `profile` from `depot` to `host`.
pub fn simulate(host: &HostImage, depot: &Depot, profile: &ImageProfile, opts: &TxOptions) -> Transaction {
    dry_run(host, depot, profile, opts).to_transaction()
}

/// [`simulate`] without rendering the reasons: every decision and problem
/// is made; the text of the per-VIB reasons is produced by
/// [`DryRun::to_transaction`] when wanted.
pub fn dry_run<'a>(
    host: &'a HostImage,
    depot: &'a Depot,
    profile: &'a ImageProfile,
    opts: &TxOptions,
) -> DryRun<'a> {
    let mut tx = DryRun {
        profile: &profile.name,
        opts: opts.clone(),
        installed: Vec::new(),
        removed: Vec::new(),
        skipped: Vec::new(),
        kept: Vec::new(),
        problems: Vec::new(),
        reboot: Vec::new(),
        maintenance: Vec::new(),
        acceptance_level: None,
        notes: Vec::new(),
    };

    let mut targets: Vec<&Vib> = Vec::with_capacity(profile.vib_ids.len());
    for id in &profile.vib_ids {
        match depot.vib(id) {
            Some(v) => targets.push(v),
            None => tx.problems.push(Problem {
                kind: ProblemKind::MissingVib,
                message: format!(
                    "VIB {id} is named by image profile {} but is not in the depot.",
                    profile.name
                ),
                vibs: vec![id.clone()],
                constraint: None,
            }),
        }
    }

    let hosts: Vec<Entry> = host.vibs.iter().map(|h| Entry::from_host(h, depot)).collect();
    // What each host VIB provides (for the replaces of the installed VIBs),
    // and per name id the last host VIB of that name (`usize::MAX`: none,
    // the name is only provided).
    let mut host_prov = NameLists::with_capacity(
        hosts.len() + hosts.iter().filter_map(|h| h.meta).map(|m| m.provides.len()).sum::<usize>(),
    );
    let mut host_by_name: Vec<usize> = Vec::with_capacity(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        let id = host_prov.add_entry(h, i);
        if host_by_name.len() < host_prov.heads.len() {
            host_by_name.resize(host_prov.heads.len(), usize::MAX);
        }
        host_by_name[id] = i;
    }
    // Replaces of the host VIBs (the only ones that can obsolete a target),
    // by the name they constrain: (host index, position in its replaces).
    let mut host_replaces = NameLists::with_capacity(0);
    if opts.mode == Mode::Update {
        for (i, h) in hosts.iter().enumerate() {
            for (ci, c) in h.meta.map_or(&[][..], |m| &m.replaces[..]).iter().enumerate() {
                host_replaces.add(c.name.as_str(), i as u32, ci as u32);
            }
        }
    }
    let mut host_removed: Vec<Option<Dec>> = vec![None; hosts.len()];
    let mut host_newer: Vec<Option<&str>> = vec![None; hosts.len()];
    // Whether a target has the same name and version as this host VIB.
    let mut host_same: Vec<bool> = vec![false; hosts.len()];
    let mut install: Vec<Entry> = Vec::with_capacity(targets.len());
    tx.installed.reserve(targets.len());

    for t in &targets {
        let te = Entry::from_vib(t);
        let named = host_prov
            .names
            .get(t.name.as_str())
            .map(|id| host_by_name[id as usize])
            .filter(|&i| i != usize::MAX);
        if let Some(hi) = named {
            let h = &hosts[hi];
            let ord = t.version.cmp(h.version);
            if ord == Ordering::Equal {
                host_same[hi] = true;
            }
            match ord {
                Ordering::Equal => {
                    tx.skipped.push(Dec { vib: &t.id, why: Why::AlreadyInstalled { host: h.id } });
                    continue;
                }
                Ordering::Greater => {
                    host_removed[hi] = Some(Dec {
                        vib: h.id,
                        why: Why::ReplacedByNewer { target: &t.id, tv: &t.version, hv: h.version },
                    });
                    tx.installed.push(Dec {
                        vib: &t.id,
                        why: Why::Upgrades { host: h.id, tv: &t.version, hv: h.version },
                    });
                }
                Ordering::Less => {
                    if opts.allow_downgrades || opts.mode == Mode::Install {
                        let why = if opts.allow_downgrades {
                            "--allow-downgrades"
                        } else {
                            "profile install replaces the image"
                        };
                        host_removed[hi] = Some(Dec {
                            vib: h.id,
                            why: Why::DowngradedTo { target: &t.id, tv: &t.version, hv: h.version, why },
                        });
                        tx.installed.push(Dec {
                            vib: &t.id,
                            why: Why::Downgrades { host: h.id, tv: &t.version, hv: h.version, why },
                        });
                    } else {
                        tx.skipped.push(Dec {
                            vib: &t.id,
                            why: Why::SkippedDowngrade { host: h.id, hv: h.version, tv: &t.version },
                        });
                        host_newer[hi] = Some(&t.id);
                        continue;
                    }
                }
            }
        } else {
            // A host VIB that explicitly replaces the target obsoletes it.
            if !host_replaces.links.is_empty() {
                if let Some((hi, c)) = first_replacing(
                    &host_replaces,
                    &te,
                    |i| host_removed[i].is_none(),
                    |i| hosts[i].meta.map_or(&[][..], |m| &m.replaces[..]),
                ) {
                    tx.skipped
                        .push(Dec { vib: &t.id, why: Why::ObsoletedByInstalled { host: hosts[hi].id, c } });
                    continue;
                }
            }
            tx.installed.push(Dec { vib: &t.id, why: Why::New });
        }
        install.push(te);
    }

    // Explicit replaces of the installed VIBs obsolete further host VIBs:
    // for each host VIB, the first installed VIB (and its first constraint)
    // that replaces it. Walking the constraints in that order and looking up
    // the host VIBs providing each name finds the same first one per host
    // without testing every host against every constraint.
    for t in &install {
        for c in t.meta.map_or(&[][..], |m| &m.replaces[..]) {
            for hi in host_prov.of(c.name.as_str()) {
                if host_removed[hi].is_none() && provides(&hosts[hi], c) {
                    host_removed[hi] =
                        Some(Dec { vib: hosts[hi].id, why: Why::ObsoletedBy { target: t.id, c } });
                }
            }
        }
    }

    // Host VIBs left: kept (update) or removed (install). The resulting
    // image is the kept host VIBs, then the installed ones: positions
    // `0..hosts.len()` are host VIBs, the rest `install`.
    let mut in_image: Vec<bool> = vec![true; hosts.len() + install.len()];
    let mut blocked_removals = Vec::new();
    // The host VIB of each `tx.removed` decision.
    let mut removed_hosts: Vec<usize> = Vec::new();
    tx.kept.reserve(hosts.len());
    for (hi, h) in hosts.iter().enumerate() {
        if let Some(d) = host_removed[hi].take() {
            tx.removed.push(d);
            removed_hosts.push(hi);
            in_image[hi] = false;
            continue;
        }
        if let Some(t) = host_newer[hi] {
            tx.kept.push(Dec { vib: h.id, why: Why::NewerThanProfile { target: t } });
            continue;
        }
        if host_same[hi] {
            tx.kept.push(Dec { vib: h.id, why: Why::SameVersion });
            continue;
        }
        match opts.mode {
            Mode::Update => {
                tx.kept.push(Dec { vib: h.id, why: Why::NotInProfileUpdate });
            }
            Mode::Install if opts.ok_to_remove => {
                tx.removed.push(Dec { vib: h.id, why: Why::RemovedOkToRemove });
                removed_hosts.push(hi);
                in_image[hi] = false;
            }
            Mode::Install => {
                tx.kept.push(Dec { vib: h.id, why: Why::RemovalBlocked });
                blocked_removals.push(h.id.to_string());
            }
        }
    }
    if !blocked_removals.is_empty() {
        tx.problems.push(Problem {
            kind: ProblemKind::RemovalNotAllowed,
            message: format!(
                "Applying image profile {} would remove VIBs ({}). Use profile update to keep them, or --ok-to-remove to allow the removal.",
                profile.name,
                blocked_removals.join(", ")
            ),
            vibs: blocked_removals,
            constraint: None,
        });
    }
    // The host VIBs' provides are indexed already: add the installed VIBs'
    // rather than index the whole image again.
    for (k, e) in install.iter().enumerate() {
        host_prov.add_entry(e, hosts.len() + k);
    }
    let all: Vec<&Entry> = hosts.iter().chain(install.iter()).collect();
    let image = Image { all: &all, in_image: &in_image, providers: &host_prov };
    validate(&image, &install, host, profile, &mut tx);

    // Reboot and maintenance mode, from what changes (most installed VIBs
    // need a reboot: size the list once).
    tx.reboot.reserve(install.len() + removed_hosts.len());
    for e in &install {
        if let Some(m) = e.meta {
            if m.needs_reboot() {
                tx.reboot.push(Need::NotLiveInstallable(e.id));
            }
            if m.maintenance_mode == Some(true) {
                tx.maintenance.push(Need::MaintenanceMode(e.id));
            }
        }
    }
    for &hi in &removed_hosts {
        let h = &hosts[hi];
        match h.meta {
            Some(m) if m.live_remove_allowed == Some(true) => {}
            Some(_) => tx.reboot.push(Need::NotLiveRemovable(h.id)),
            None => tx.reboot.push(Need::RemovedNotInDepot(h.id)),
        }
    }
    tx
}

/// The resulting image of a dry-run: the host VIBs then the installed ones
/// (`all`), those in the image flagged in `in_image` (in that order, the
/// image order), and what each of `all` provides.
struct Image<'i, 'a> {
    all: &'i [&'i Entry<'a>],
    in_image: &'i [bool],
    providers: &'i Providers<'a>,
}

fn validate(img: &Image, install: &[Entry], host: &HostImage, profile: &ImageProfile, tx: &mut DryRun) {
    let image = img.all;
    let in_image = img.in_image;
    let providers = img.providers;
    let unknown: Vec<&str> =
        image.iter().zip(in_image).filter(|(e, &inc)| inc && e.meta.is_none()).map(|(e, _)| e.id).collect();
    if !unknown.is_empty() {
        tx.notes.push(format!(
            "{} kept VIB(s) are not in the depot, so their dependencies and conflicts were not checked: {}",
            unknown.len(),
            unknown.join(", ")
        ));
    }
    for (i, e) in image.iter().enumerate() {
        if !in_image[i] {
            continue;
        }
        let Some(m) = e.meta else { continue };
        for c in &m.depends {
            // Each link is one provide of that name: checking its version
            // alone is `provides`, without comparing the names again.
            let ok = providers.links(c.name.as_str()).any(|(j, k)| {
                let e = image[j];
                if !in_image[j] {
                    return false;
                }
                match (k, e.meta) {
                    (IMPLICIT, _) => c.version_matches(Some(e.version)),
                    (k, Some(m)) => c.version_matches(m.provides[k as usize].version.as_ref()),
                    (_, None) => false,
                }
            });
            if !ok {
                tx.problems.push(Problem {
                    kind: ProblemKind::DependencyError,
                    message: format!(
                        "VIB {} requires {c}, but the requirement cannot be satisfied within the ImageProfile.",
                        e.id
                    ),
                    vibs: vec![e.id.to_string()],
                    constraint: Some(c.to_string()),
                });
            }
        }
        for c in &m.conflicts {
            for j in providers.of(c.name.as_str()) {
                if j != i && in_image[j] && provides(image[j], c) {
                    let (a, b) =
                        if e.id < image[j].id { (&e.id, &image[j].id) } else { (&image[j].id, &e.id) };
                    let msg = format!("VIBs ({a}, {b}) are conflicting with each other.");
                    if !tx.problems.iter().any(|p| p.message == msg) {
                        tx.problems.push(Problem {
                            kind: ProblemKind::Conflict,
                            message: msg,
                            vibs: vec![a.to_string(), b.to_string()],
                            constraint: Some(c.to_string()),
                        });
                    }
                }
            }
        }
        for c in &m.replaces {
            for j in providers.of(c.name.as_str()) {
                if j != i && in_image[j] && provides(image[j], c) {
                    tx.problems.push(Problem {
                        kind: ProblemKind::Obsoleted,
                        message: format!("VIB {} is obsoleted by {}", image[j].id, e.id),
                        vibs: vec![image[j].id.to_string(), e.id.to_string()],
                        constraint: Some(c.to_string()),
                    });
                }
            }
        }
    }

    // Acceptance: the host's level if known, else the profile's.
    let level = host.acceptance.or(profile.acceptance);
    tx.acceptance_level = level;
    match level {
        None => tx.notes.push("host acceptance level unknown: acceptance not checked".into()),
        Some(l) => {
            for e in install {
                if let Some(a) = e.acceptance {
                    if a < l {
                        tx.problems.push(Problem {
                            kind: ProblemKind::AcceptanceError,
                            message: format!(
                                "VIB {}'s acceptance level is {}, which is not compliant with the ImageProfile acceptance level {}",
                                e.id,
                                acceptance_short(a),
                                acceptance_short(l)
                            ),
                            vibs: vec![e.id.to_string()],
                            constraint: None,
                        });
                    }
                }
            }
        }
    }

    // Extensibility rules (vib20-extensibility.rng) for community/partner VIBs.
    for e in install {
        let Some(m) = e.meta else { continue };
        let bad = m.extensibility_violations();
        if let (false, Some(a)) = (bad.is_empty(), m.acceptance) {
            tx.problems.push(Problem {
                kind: ProblemKind::Extensibility,
                message: format!(
                    "VIB ({}) failed a check of extensibility rules for acceptance level '{}': {} file(s) outside the allowed paths ({}{})",
                    e.id,
                    acceptance_short(a),
                    bad.len(),
                    bad.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                    if bad.len() > 3 { ", ..." } else { "" }
                ),
                vibs: vec![e.id.to_string()],
                constraint: None,
            });
        }
    }

    // Hardware platform requirements.
    for e in install {
        let Some(m) = e.meta else { continue };
        if m.hw_platforms.is_empty() {
            continue;
        }
        let Some(vendor) = &host.hw_vendor else {
            tx.notes.push(format!("{} requires a hardware platform; the host's vendor is unknown", e.id));
            continue;
        };
        let ok = m.hw_platforms.iter().any(|p| {
            p.vendor.eq_ignore_ascii_case(vendor)
                && p.model
                    .as_ref()
                    .is_none_or(|pm| host.hw_model.as_ref().is_some_and(|hm| hm.eq_ignore_ascii_case(pm)))
        });
        if !ok {
            let wants: Vec<String> = m
                .hw_platforms
                .iter()
                .map(|p| match &p.model {
                    Some(md) => format!("{} {}", p.vendor, md),
                    None => p.vendor.clone(),
                })
                .collect();
            tx.problems.push(Problem {
                kind: ProblemKind::HardwarePlatform,
                message: format!(
                    "VIB {} requires hardware platform {}, but the host is {} {}",
                    e.id,
                    wants.join(" or "),
                    vendor,
                    host.hw_model.as_deref().unwrap_or("(model unknown)")
                ),
                vibs: vec![e.id.to_string()],
                constraint: None,
            });
        }
    }
}

/// Per name, a list of (u32, u32) in insertion order: linked lists in one
/// vector, no allocation per name. As `Providers`, the entries providing a
/// name (entry index, and `IMPLICIT` or the index of the provide in the
/// entry's `provides`); also the replaces of the host VIBs by name.
struct NameLists<'a> {
    names: NameIndex<'a>,
    /// Per name id: (first, last) link.
    heads: Vec<(u32, u32)>,
    /// (a, b, next link or `u32::MAX`).
    links: Vec<(u32, u32, u32)>,
}

type Providers<'a> = NameLists<'a>;

/// The provide of a link that is the entry's own `name = version`.
const IMPLICIT: u32 = u32::MAX;

impl<'a> NameLists<'a> {
    fn with_capacity(n: usize) -> NameLists<'a> {
        NameLists {
            names: NameIndex::with_capacity(n),
            heads: Vec::with_capacity(n),
            links: Vec::with_capacity(n),
        }
    }

    /// Adds what entry `i` provides; returns the id of its name.
    fn add_entry(&mut self, e: &Entry<'a>, i: usize) -> usize {
        let id = self.add(e.name, i as u32, IMPLICIT);
        if let Some(m) = e.meta {
            for (k, pr) in m.provides.iter().enumerate() {
                self.add(pr.name.as_str(), i as u32, k as u32);
            }
        }
        id
    }

    /// Appends (a, b) to the list of `name`; returns the id of the name.
    fn add(&mut self, name: &'a str, a: u32, b: u32) -> usize {
        let link = self.links.len() as u32;
        self.links.push((a, b, u32::MAX));
        let id = self.names.intern(name) as usize;
        if id == self.heads.len() {
            self.heads.push((link, link));
        } else {
            let last = self.heads[id].1;
            self.links[last as usize].2 = link;
            self.heads[id].1 = link;
        }
        id
    }

    /// The list of `name`, in insertion order.
    fn links(&self, name: &str) -> impl Iterator<Item = (usize, u32)> + '_ {
        let mut next = self.names.get(name).map(|id| self.heads[id as usize].0).unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            if next == u32::MAX {
                return None;
            }
            let (a, b, n) = self.links[next as usize];
            next = n;
            Some((a as usize, b))
        })
    }

    /// The entries providing `name`, in image order (an entry once per
    /// provide of that name).
    fn of(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        self.links(name).map(|(i, _)| i)
    }
}

/// The first (owner, constraint) in `replaces` order (owner, then the
/// constraint's position) that `ok` accepts and whose constraint `b`
/// provides: what a scan of every owner's `replaces` finds first, looking
/// only at the constraints naming one of `b`'s provides.
fn first_replacing<'a>(
    replaces: &NameLists,
    b: &Entry,
    ok: impl Fn(usize) -> bool,
    constraints: impl Fn(usize) -> &'a [Constraint],
) -> Option<(usize, &'a Constraint)> {
    let mut best: Option<(usize, u32)> = None;
    let mut check = |name: &str| {
        for (o, ci) in replaces.links(name) {
            // Each list is in (owner, position) order.
            if best.is_some_and(|x| x <= (o, ci)) {
                break;
            }
            if ok(o) && provides(b, &constraints(o)[ci as usize]) {
                best = Some((o, ci));
                break;
            }
        }
    };
    check(b.name);
    if let Some(m) = b.meta {
        for p in &m.provides {
            check(&p.name);
        }
    }
    best.map(|(o, ci)| (o, &constraints(o)[ci as usize]))
}

/// Installed VIBs that the profile would take back in time: same name, the
/// profile's version sorts lower (esximage order). The seed's vmkusb case.
pub fn backwards_vibs(host: &HostImage, profile: &ImageProfile) -> Vec<(VibId, VibId)> {
    let by_name: HashMap<&str, &HostVib> = host.vibs.iter().map(|h| (h.name.as_str(), h)).collect();
    let mut out = Vec::new();
    for id in &profile.vib_ids {
        let Some(t) = VibId::parse(id) else { continue };
        if let Some(h) = by_name.get(t.name.as_str()) {
            if h.version > t.version {
                out.push((h.vib_id(), t));
            }
        }
    }
    out
}

/// [`simulate`] against many profiles, spread over the available cores
/// (what `dry-run against every profile of a depot` needs). Results are in
/// the order of `profiles`.
pub fn simulate_many(
    host: &HostImage,
    depot: &Depot,
    profiles: &[ImageProfile],
    opts: &TxOptions,
) -> Vec<Transaction> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 16);
    let chunk = profiles.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = profiles
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().map(|p| simulate(host, depot, p, opts)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .zip(profiles.chunks(chunk))
            .flat_map(|(h, part)| {
                // A panicking worker is a bug; redo its part here so the caller
                // still gets one transaction per profile.
                h.join().unwrap_or_else(|_| part.iter().map(|p| simulate(host, depot, p, opts)).collect())
            })
            .collect()
    })
}
