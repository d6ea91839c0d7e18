//! The typed outputs of `esxup depot ls | profiles | dry-run | diff | verify`
//! and `esxup vib show`: what each command says, computed here from the
//! depot, rendered by `esxup-render` (text: `esxup_render::depot`, or JSON).
//! Each carries `schema_version` ([`OUTPUT_SCHEMA_VERSION`]); its JSON
//! Schema is generated from the type into `schema/` (see `schema/README.md`).

use crate::model::acceptance_short;
use crate::{
    backwards_vibs, diff_profiles, driver_readiness, simulate, Bulletin, Component, Depot, DeviceReadiness,
    HostImage, ImageProfile, MetadataRef, Mode, PayloadCheck, ProfileDiff, ReleaseUnit, Transaction,
    TxOptions, VibCheck, VibCheckStatus, VibFile, VibSignature, VibVersion,
};
use esxup_facts::{AcceptanceLevel, HostFacts};
use schemars::JsonSchema;
use serde::Serialize;

/// Version of the layouts in this module. Bump on an incompatible change
/// (a field removed, renamed or changing type); adding a field is not one.
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// An image profile, summarised.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ProfileSummary {
    pub name: String,
    pub creator: Option<String>,
    /// Short acceptance level (`partner`, `community`, ...).
    pub acceptance: Option<&'static str>,
    /// Number of VIBs.
    pub vibs: usize,
    pub created: Option<String>,
    pub description: Option<String>,
}

impl From<&ImageProfile> for ProfileSummary {
    fn from(p: &ImageProfile) -> ProfileSummary {
        ProfileSummary {
            name: p.name.clone(),
            creator: p.creator.clone(),
            acceptance: p.acceptance.map(acceptance_short),
            vibs: p.vib_ids.len(),
            created: p.creation_time.clone(),
            description: p.description.clone(),
        }
    }
}

/// A VIB of a depot, summarised.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct VibSummary {
    pub id: String,
    pub name: String,
    pub version: VibVersion,
    pub vendor: String,
    pub acceptance: Option<&'static str>,
    /// The `.vib` file itself is in the depot (not only its metadata).
    pub in_depot: bool,
}

/// `esxup depot ls`: everything a depot lists.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DepotListing {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub depot: String,
    pub metadata: Vec<MetadataRef>,
    pub bulletins: Vec<Bulletin>,
    pub components: Vec<Component>,
    pub profiles: Vec<ProfileSummary>,
    pub vibs: Vec<VibSummary>,
    pub base_images: Vec<ReleaseUnit>,
    pub addons: Vec<ReleaseUnit>,
    pub warnings: Vec<String>,
}

impl DepotListing {
    pub fn new(d: &Depot) -> DepotListing {
        DepotListing {
            schema_version: OUTPUT_SCHEMA_VERSION,
            depot: d.location().to_string(),
            metadata: d.metadata().to_vec(),
            bulletins: d.bulletins().to_vec(),
            components: d.components().to_vec(),
            profiles: d.profiles().iter().map(ProfileSummary::from).collect(),
            vibs: d
                .vibs()
                .iter()
                .map(|v| VibSummary {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    version: v.version.clone(),
                    vendor: v.vendor.clone(),
                    acceptance: v.acceptance.map(acceptance_short),
                    in_depot: d.vib_file(&v.id).is_some(),
                })
                .collect(),
            base_images: d.base_images().to_vec(),
            addons: d.addons().to_vec(),
            warnings: d.warnings().to_vec(),
        }
    }
}

/// `esxup depot profiles`: the image profiles of a depot.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct ProfilesReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub depot: String,
    /// VIBs in the depot (a depot without profiles is a driver or component bundle).
    pub vibs: usize,
    pub profiles: Vec<ProfileSummary>,
}

impl ProfilesReport {
    pub fn new(d: &Depot) -> ProfilesReport {
        ProfilesReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            depot: d.location().to_string(),
            vibs: d.vibs().len(),
            profiles: d.profiles().iter().map(ProfileSummary::from).collect(),
        }
    }
}

/// The host image a dry run starts from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DryRunHost {
    /// Where it came from (`facts of esx01`, `vib list FILE`, `profile NAME`).
    pub source: String,
    pub vibs: usize,
    pub acceptance_level: Option<&'static str>,
}

/// An installed VIB that sorts newer than the profile's (esximage order).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct BackwardsVib {
    pub name: String,
    /// Installed VIB id.
    pub installed: String,
    /// The profile's VIB id.
    pub target: String,
    pub installed_version: VibVersion,
    pub target_version: VibVersion,
}

/// The outcome of a dry run in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DryRunResult {
    /// The image change would apply.
    Applies,
    /// esxcli would refuse it (`problems` failing problems).
    Refused,
    /// It would apply, but a management NIC or boot HBA would lose its driver.
    DriverLoss,
}

/// `esxup depot dry-run`: what `esxcli software profile update|install
/// --dry-run` would do, and why.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DryRunReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub depot: String,
    pub profile: String,
    /// The esxcli command simulated.
    pub command: String,
    pub host: DryRunHost,
    pub succeeds: bool,
    pub result: DryRunResult,
    /// Failing problems of the transaction (0 when it succeeds).
    pub failing_problems: usize,
    /// Devices that would lose their driver (with facts).
    pub driver_blockers: usize,
    pub transaction: Transaction,
    pub backwards: Vec<BackwardsVib>,
    /// Driver readiness of the host's devices (with `--facts` only).
    pub driver_readiness: Option<Vec<DeviceReadiness>>,
}

impl DryRunReport {
    /// Simulates `profile` of `d` on `host` (`facts` adds driver readiness).
    pub fn new(
        d: &Depot,
        profile: &ImageProfile,
        host: &HostImage,
        facts: Option<&HostFacts>,
        opts: &TxOptions,
    ) -> DryRunReport {
        let tx = simulate(host, d, profile, opts);
        let backwards = backwards_vibs(host, profile)
            .into_iter()
            .map(|(i, t)| BackwardsVib {
                name: i.name.clone(),
                installed: i.to_string(),
                target: t.to_string(),
                installed_version: i.version.clone(),
                target_version: t.version.clone(),
            })
            .collect();
        let readiness = facts.map(|f| driver_readiness(f, d, profile));
        let driver_blockers = readiness.as_ref().map(|r| r.iter().filter(|x| x.blocker).count()).unwrap_or(0);
        let failing_problems = tx.problems.iter().filter(|p| p.kind.fails()).count();
        let result = if !tx.succeeds() {
            DryRunResult::Refused
        } else if driver_blockers > 0 {
            DryRunResult::DriverLoss
        } else {
            DryRunResult::Applies
        };
        let verb = if opts.mode == Mode::Install { "install" } else { "update" };
        let mut flags = String::new();
        if opts.allow_downgrades {
            flags += " --allow-downgrades";
        }
        if opts.ok_to_remove {
            flags += " --ok-to-remove";
        }
        DryRunReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            depot: d.location().to_string(),
            profile: profile.name.clone(),
            command: format!("esxcli software profile {verb} -p {} --dry-run{flags}", profile.name),
            host: DryRunHost {
                source: host.source.clone(),
                vibs: host.vibs.len(),
                acceptance_level: host.acceptance.map(acceptance_short),
            },
            succeeds: tx.succeeds(),
            result,
            failing_problems,
            driver_blockers,
            transaction: tx,
            backwards,
            driver_readiness: readiness,
        }
    }
}

/// `esxup depot diff`: two image profiles compared (like Compare-EsxImageProfile).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
pub struct DiffReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub depot: String,
    pub reference: ProfileSummary,
    pub comparison: ProfileSummary,
    #[serde(flatten)]
    pub diff: ProfileDiff,
}

impl DiffReport {
    pub fn new(d: &Depot, a: &ImageProfile, b: &ImageProfile) -> DiffReport {
        DiffReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            depot: d.location().to_string(),
            reference: ProfileSummary::from(a),
            comparison: ProfileSummary::from(b),
            diff: diff_profiles(d, a, b),
        }
    }
}

/// `esxup depot verify`: every VIB file of a depot against its metadata.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct VerifyReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub depot: String,
    pub checks: Vec<VibCheck>,
    /// Checks that failed (mismatch or unreadable).
    pub failed: usize,
}

impl VerifyReport {
    pub fn new(d: &Depot) -> VerifyReport {
        let checks = d.verify_vibs();
        let failed = checks
            .iter()
            .filter(|c| matches!(c.status, VibCheckStatus::Mismatch | VibCheckStatus::Unreadable))
            .count();
        VerifyReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            depot: d.location().to_string(),
            checks,
            failed,
        }
    }
}

/// What esxup can and cannot say about a VIB signature.
pub const TRUST_NOT_CHECKED: &str = "not checked: ESXi checks the signer against its own certificate store";

/// What esxup says about a VIB's signature beyond the facts of `sig.pkcs7`:
/// problems (warnings, also on stderr) and remarks that are not problems.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SignatureAssessment {
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

impl SignatureAssessment {
    /// The assessment of `vib` (read from `label`).
    pub fn of(vib: &VibFile, label: &str) -> SignatureAssessment {
        let mut a = SignatureAssessment::default();
        let member = format!("{label}!sig.pkcs7");
        let acceptance = vib.descriptor.acceptance;
        let mut unsigned = false;
        match &vib.signature {
            VibSignature::Absent | VibSignature::Unsigned => unsigned = true,
            VibSignature::Unreadable { message } => a.warnings.push(message.clone()),
            VibSignature::Signed(r) => {
                match &r.verification {
                    crate::Verification::DescriptorMismatch { message } => a.warnings.push(format!(
                        "{member}: the signature does not match descriptor.xml: the descriptor was changed after signing ({message})"
                    )),
                    crate::Verification::SignatureInvalid { message } => a.warnings.push(format!("{member}: {message}")),
                    crate::Verification::Verified | crate::Verification::NotVerified { .. } => {}
                }
                a.notes.push(format!("trust {TRUST_NOT_CHECKED}"));
            }
        }
        if unsigned {
            if let Some(l) = acceptance.filter(|l| *l != AcceptanceLevel::CommunitySupported) {
                a.warnings.push(format!(
                    "{label}: acceptance level is {} but the VIB is unsigned",
                    acceptance_short(l)
                ));
            }
        }
        if acceptance == Some(AcceptanceLevel::CommunitySupported) {
            // Research notes, "Other upgrade facts": CommunitySupported VIBs prevent Secure Boot.
            a.notes.push(SECURE_BOOT_COMMUNITY.to_string());
        }
        a
    }
}

/// The Secure Boot remark of a CommunitySupported VIB.
pub const SECURE_BOOT_COMMUNITY: &str = "Secure Boot hosts cannot use CommunitySupported VIBs";

/// `esxup vib show`: a VIB's descriptor, payload checksums and signature.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct VibReport {
    /// [`OUTPUT_SCHEMA_VERSION`].
    pub schema_version: u32,
    pub file: String,
    /// The day certificate validity is judged against (`YYYY-MM-DD`).
    pub as_of: String,
    pub vib: VibFile,
    pub payload_checks: Vec<PayloadCheck>,
    /// Payload checks that failed.
    pub failed_payloads: usize,
    pub signature_warnings: Vec<String>,
    pub signature_notes: Vec<String>,
}

impl VibReport {
    /// The report of `vib` read from `label` (its `bytes`), on `today`.
    pub fn new(vib: VibFile, bytes: &[u8], label: &str, today: &str) -> VibReport {
        let checks = vib.verify_payloads(label, bytes);
        let sig = SignatureAssessment::of(&vib, label);
        VibReport {
            schema_version: OUTPUT_SCHEMA_VERSION,
            file: label.to_string(),
            as_of: today.to_string(),
            failed_payloads: checks.iter().filter(|c| !c.ok).count(),
            payload_checks: checks,
            vib,
            signature_warnings: sig.warnings,
            signature_notes: sig.notes,
        }
    }

    /// A payload checksum failed, or the signature does not match or cannot be read.
    pub fn failed(&self) -> bool {
        self.failed_payloads > 0 || self.vib.signature.is_failure()
    }
}

/// The JSON Schemas of this module's outputs: (file name in `schema/`, schema).
pub fn json_schemas() -> Vec<(&'static str, String)> {
    fn s<T: JsonSchema>() -> String {
        let mut t = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
        t.push('\n');
        t
    }
    vec![
        ("depot-ls.schema.json", s::<DepotListing>()),
        ("depot-profiles.schema.json", s::<ProfilesReport>()),
        ("depot-dry-run.schema.json", s::<DryRunReport>()),
        ("depot-diff.schema.json", s::<DiffReport>()),
        ("depot-verify.schema.json", s::<VerifyReport>()),
        ("vib-show.schema.json", s::<VibReport>()),
    ]
}
