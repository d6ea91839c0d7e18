//! `esxup depot ...` and `esxup vib ...`: read depots and VIBs, and explain
//! `esxcli software profile update|install --dry-run` before it happens.
//!
//! Exit codes: 0 ok; 1 the simulated transaction would fail, a management
//! NIC / boot HBA would lose its driver, or a VIB fails verification;
//! 2 the input could not be read.

use crate::cli::Global;
use crate::cmd::build::Format;
use crate::cmd::{hinted, out, EXIT_FINDINGS, EXIT_OK};
use anyhow::Context;
use esxup_depot::report::{
    DepotListing, DiffReport, DryRunReport, DryRunResult, ProfilesReport, VerifyReport, VibReport,
};
use esxup_depot::{Depot, HostImage, ImageProfile, Mode, OpenOptions, TxOptions, VibFile};
use esxup_facts::HostFacts;
use esxup_render::depot as render;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum DepotCommand {
    /// List bulletins, components and profiles of a depot.
    Ls {
        /// Offline bundle zip, extracted depot folder, http(s) URL, or
        /// `broadcom:` (Broadcom's ESXi depot, the download token from
        /// ESXUP_BROADCOM_TOKEN or the file ESXUP_BROADCOM_TOKEN_FILE names).
        #[arg(value_parser = super::broadcom::DepotArg)]
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the image profiles of a depot.
    Profiles {
        /// Depot, as for `esxup depot ls`.
        #[arg(value_parser = super::broadcom::DepotArg)]
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Simulate `esxcli software profile update --dry-run` (or `install`) and say why.
    DryRun(DryRunArgs),
    /// Compare two image profiles (like Compare-EsxImageProfile).
    Diff {
        /// Depot, as for `esxup depot ls`.
        #[arg(value_parser = super::broadcom::DepotArg)]
        depot: String,
        profile_a: String,
        profile_b: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Verify the VIB files a depot holds against its metadata checksums, and
    /// each VIB's signature against its descriptor (trust not checked).
    Verify {
        /// Depot, as for `esxup depot ls`.
        #[arg(value_parser = super::broadcom::DepotArg)]
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("host").required(true).args(["facts", "vib_list", "host_profile"])))]
#[command(group(clap::ArgGroup::new("image").required(true).args(["depot", "iso"])))]
pub struct DryRunArgs {
    /// Offline bundle zip, extracted depot folder, http(s) URL, or
    /// `broadcom:` (Broadcom's ESXi depot, the download token from
    /// ESXUP_BROADCOM_TOKEN or the file ESXUP_BROADCOM_TOKEN_FILE names).
    #[arg(long, value_parser = super::broadcom::DepotArg)]
    pub depot: Option<String>,
    /// An ESXi installer ISO: its image profile is the target (read like a depot).
    #[arg(long, value_name = "FILE.iso")]
    pub iso: Option<PathBuf>,
    /// Target image profile [default: the only profile of the depot or ISO].
    #[arg(long)]
    pub profile: Option<String>,
    /// Host facts file (JSON) with the installed VIBs.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// Saved `esxcli software vib list` output (or a list of VIB ids).
    #[arg(long, value_name = "FILE")]
    pub vib_list: Option<PathBuf>,
    /// Start from a profile of the same depot as the host image.
    #[arg(long, value_name = "NAME")]
    pub host_profile: Option<String>,
    /// Simulate `profile install` (replace the image) instead of `profile update`.
    #[arg(long)]
    pub install: bool,
    #[arg(long)]
    pub allow_downgrades: bool,
    /// With --install: allow removing VIBs that are not in the profile.
    #[arg(long)]
    pub ok_to_remove: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, clap::Subcommand)]
pub enum VibCommand {
    /// Show a VIB's descriptor and payloads, verify the payload checksums and
    /// check its signature (sig.pkcs7) against the descriptor.
    ///
    /// The signature check tells whether descriptor.xml is what the signer
    /// signed, and who the signer certificate names. Trust is not checked:
    /// ESXi checks the signer against its own certificate store, which esxup
    /// does not have. Exit 1 when a payload checksum fails or the signature
    /// does not match the descriptor or cannot be read.
    Show {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn open_depot(location: &str) -> anyhow::Result<Depot> {
    // Online depots are cached on disk anyway; keep their parsed metadata too.
    let opts = OpenOptions {
        snapshots: location.starts_with("http"),
        progress: super::out::download_progress(),
        ..OpenOptions::default()
    };
    let d = Depot::open_with(location, &opts).map_err(|e| {
        if let Some(hint) = super::broadcom::open_hint(location, &e) {
            return hinted(format!("open depot {location}: {e}"), hint);
        }
        let hint = if location.starts_with("http") {
            "check the URL and the network; a depot URL names index.xml or its folder"
        } else {
            "give an offline bundle .zip, an extracted depot folder, or an http(s) depot URL"
        };
        hinted(format!("open depot {location}: {e}"), hint)
    })?;
    for w in d.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(d)
}

fn find_profile<'a>(d: &'a Depot, name: &str) -> anyhow::Result<&'a ImageProfile> {
    d.profile(name).ok_or_else(|| {
        let mut close: Vec<&str> = d
            .profiles()
            .iter()
            .map(|p| p.name.as_str())
            .filter(|p| {
                let l = name.to_ascii_lowercase();
                p.to_ascii_lowercase().contains(&l) || l.contains(&p.to_ascii_lowercase())
            })
            .take(3)
            .collect();
        if close.is_empty() {
            close = d.profiles().iter().take(3).map(|p| p.name.as_str()).collect();
        }
        let hint = if close.is_empty() {
            "this depot has no image profiles (a driver or component bundle); use a full ESXi depot"
                .to_string()
        } else {
            format!("list them with `esxup depot profiles {}`; e.g. {}", d.location(), close.join(", "))
        };
        hinted(format!("find image profile {name:?} in {}: no such profile", d.location()), hint)
    })
}

pub fn run_depot(_g: &Global, c: DepotCommand) -> anyhow::Result<u8> {
    match c {
        DepotCommand::Ls { depot, format } => ls(&depot, format),
        DepotCommand::Profiles { depot, format } => profiles(&depot, format),
        DepotCommand::DryRun(a) => dry_run(a),
        DepotCommand::Diff { depot, profile_a, profile_b, format } => {
            diff(&depot, &profile_a, &profile_b, format)
        }
        DepotCommand::Verify { depot, format } => verify(&depot, format),
    }
}

fn ls(location: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    out::emit(format, &DepotListing::new(&d), render::render_ls)?;
    Ok(EXIT_OK)
}

fn profiles(location: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    out::emit(format, &ProfilesReport::new(&d), render::render_profiles)?;
    Ok(EXIT_OK)
}

/// The same reader as `check --facts` (size cap, schema version, field errors).
fn load_facts(path: &std::path::Path) -> anyhow::Result<HostFacts> {
    super::input::read_facts(path)
}

fn dry_run(a: DryRunArgs) -> anyhow::Result<u8> {
    let facts = match &a.facts {
        Some(p) => Some(load_facts(p)?),
        None => None,
    };
    let location = match (&a.depot, &a.iso) {
        (Some(d), _) => d.clone(),
        (None, Some(i)) => i.display().to_string(),
        (None, None) => anyhow::bail!("dry-run needs --depot or --iso"),
    };
    let d = open_depot(&location)?;
    let profile = match &a.profile {
        Some(p) => find_profile(&d, p)?,
        None => match d.profiles() {
            [only] => only,
            ps => {
                return Err(hinted(
                    format!("{location}: {} image profiles, none chosen", ps.len()),
                    "name one with --profile (`esxup depot profiles` lists them)",
                ))
            }
        },
    };
    let host = if let Some(f) = &facts {
        HostImage::from_facts(f).map_err(|e| {
            hinted(
                format!("read host image: {e}"),
                "collect the VIB list (esxcli software vib list) or use --vib-list FILE",
            )
        })?
    } else if let Some(p) = &a.vib_list {
        let text = std::fs::read(p).with_context(|| format!("read vib list {}", p.display()))?;
        let text = String::from_utf8(text).map_err(|e| {
            anyhow::anyhow!(
                "read vib list {}: not UTF-8 text (invalid byte at offset {})",
                p.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let mut h = HostImage::from_vib_list(&text).map_err(|e| {
            hinted(
                format!("read vib list {}: {e}", p.display()),
                "save `esxcli software vib list` output to a file, or list one VIB id per line",
            )
        })?;
        h.source = format!("vib list {}", p.display());
        h
    } else if let Some(n) = &a.host_profile {
        HostImage::from_profile(&d, find_profile(&d, n)?)
    } else {
        anyhow::bail!("dry-run needs --facts, --vib-list or --host-profile")
    };
    for n in &host.notes {
        eprintln!("warning: {n}");
    }
    let opts = TxOptions {
        mode: if a.install { Mode::Install } else { Mode::Update },
        allow_downgrades: a.allow_downgrades,
        ok_to_remove: a.ok_to_remove,
    };
    let report = DryRunReport::new(&d, profile, &host, facts.as_ref(), &opts);
    out::emit(a.format, &report, render::render_dry_run)?;
    Ok(if report.result == DryRunResult::Applies { EXIT_OK } else { EXIT_FINDINGS })
}

fn diff(location: &str, a: &str, b: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    let pa = find_profile(&d, a)?;
    let pb = find_profile(&d, b)?;
    out::emit(format, &DiffReport::new(&d, pa, pb), render::render_diff)?;
    Ok(EXIT_OK)
}

fn verify(location: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    let report = VerifyReport::new(&d);
    out::emit(format, &report, render::render_verify)?;
    Ok(if report.failed > 0 { EXIT_FINDINGS } else { EXIT_OK })
}

pub fn run_vib(_g: &Global, c: VibCommand) -> anyhow::Result<u8> {
    let VibCommand::Show { file, format } = c;
    let (vib, bytes) = VibFile::open(&file).map_err(|e| {
        hinted(
            format!("read VIB {}: {e}", file.display()),
            "give a .vib file (an ar archive with descriptor.xml)",
        )
    })?;
    for w in &vib.warnings {
        eprintln!("warning: {w}");
    }
    let label = file.display().to_string();
    let today = crate::cmd::input::today()?.to_string();
    let report = VibReport::new(vib, &bytes, &label, &today);
    for w in &report.signature_warnings {
        eprintln!("warning: {w}");
    }
    out::emit(format, &report, render::render_vib)?;
    Ok(if report.failed() { EXIT_FINDINGS } else { EXIT_OK })
}
