//! `esxup iso inspect` and `esxup media`: read an ESXi installer ISO, and
//! write a bootable UEFI USB stick (or an image file) from it with a
//! kickstart made from the host's facts.
//!
//! Exit codes: 0 done (the stick was written and read back), 1 refused on
//! findings (the check blocks this ISO for the host, or the kickstart has
//! errors: nothing written), 2 error (bad ISO, unsafe or wrong device,
//! confirmation not given, write or read-back failure).

use super::input::{self, For};
use super::{hinted, EXIT_FINDINGS, EXIT_OK};
use crate::cli::Global;
use anyhow::Context;
use esxup_check::TargetSpec;
use esxup_depot::iso::IsoImage;
use esxup_facts::{BootMedia, HostFacts};
use esxup_media::image::{self, Content, Scheme};
use esxup_media::kickstart::{self, KsDisk, KsMode, KsSpec, LintContext, Severity};
use esxup_media::MediaReport;
use std::io::{BufRead, IsTerminal, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum IsoCommand {
    /// Show what an ESXi installer ISO holds: version, build, image profile,
    /// VIBs (added drivers of a customised ISO), UEFI loader and boot.cfg.
    Inspect {
        /// The ISO file (read without mounting).
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What the kickstart does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KsChoice {
    /// Scripted upgrade of the host's boot disk (keeps VMFS).
    Upgrade,
    /// Trial install onto the stick itself or a spare disk (--ks-disk),
    /// saving the new release's view of the hardware for `esxup collect`.
    Install,
    /// No kickstart: the interactive installer.
    None,
}

/// Write a bootable UEFI USB installer from an ESXi ISO, with a kickstart.
///
/// The stick has a GPT (or MBR with --mbr) and one FAT32 EFI system
/// partition with the ISO's files; BOOT.CFG and EFI/BOOT/BOOT.CFG get
/// `ks=usb:/KS.CFG` when a kickstart is added. Before writing, esxup checks
/// the host against the ISO (as `esxup check --iso`) and refuses an upgrade
/// the check blocks. A --device must be a whole, removable, unmounted disk
/// that is not the running system's; you confirm by typing its serial. After
/// writing, every file is read back and compared by sha256.
///
/// Exit codes: 0 written and verified; 1 refused on findings (blocked
/// upgrade, kickstart errors), nothing written; 2 error (bad ISO, unsafe
/// device, no confirmation, write or verify failure).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("dest").required(true).args(["out", "device", "dry_run"])))]
#[command(group(clap::ArgGroup::new("hostin").args(["facts", "example"])))]
pub struct MediaArgs {
    /// The ESXi installer ISO.
    #[arg(long, value_name = "FILE.iso")]
    pub iso: PathBuf,
    /// Write a disk image file (for `dd`, a VM or a test).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the USB stick itself (Linux: /dev/sdX, a whole disk).
    #[arg(long, value_name = "DEV")]
    pub device: Option<PathBuf>,
    /// Show what would be written (layout, boot.cfg, kickstart); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Size of the --out image, e.g. 2G or 900M [default: the smallest that fits].
    #[arg(long, value_name = "SIZE", requires = "out")]
    pub size: Option<String>,
    /// Host facts (JSON of `esxup collect`): boot disk, firmware, advisories.
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// A built-in example host instead of --facts (e.g. `seed`).
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// Kickstart to add [default: upgrade with --facts/--example, else none].
    #[arg(long, value_enum)]
    pub ks: Option<KsChoice>,
    /// Your own kickstart instead, linted against the facts first.
    #[arg(long, value_name = "KS.CFG", conflicts_with = "ks")]
    pub ks_file: Option<PathBuf>,
    /// The disk the kickstart names (--ks install: the spare disk; default
    /// the first USB disk, i.e. the installer stick).
    #[arg(long, value_name = "DISK")]
    pub ks_disk: Option<String>,
    /// Console keyboard layout for --ks install (e.g. Japanese).
    #[arg(long, value_name = "LAYOUT")]
    pub keyboard: Option<String>,
    /// Read the trial install's root password from the first line of FILE
    /// [default: $ESXUP_ROOT_PASSWORD, else a prompt]. Only its hash is written.
    #[arg(long, value_name = "FILE")]
    pub root_password_file: Option<PathBuf>,
    /// MBR partition table instead of GPT (old UEFI firmware).
    #[arg(long)]
    pub mbr: bool,
    /// Allow a --device that does not report removable media.
    #[arg(long)]
    pub force_non_removable: bool,
    /// The device's serial number (its name when it reports none), instead
    /// of typing it at the prompt.
    #[arg(long, value_name = "SERIAL")]
    pub confirm: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run_iso(_g: &Global, c: IsoCommand) -> anyhow::Result<u8> {
    match c {
        IsoCommand::Inspect { file, format } => {
            let (r, _) = esxup_media::inspect::inspect(&file).map_err(|e| iso_error(e, &file))?;
            let text = match format {
                Format::Json => esxup_render::json::to_json(&r),
                Format::Text => render_inspect(&r),
            };
            super::out::write_stdout(&text)?;
            Ok(EXIT_OK)
        }
    }
}

fn iso_error(e: esxup_media::MediaError, file: &Path) -> anyhow::Error {
    hinted(
        e.to_string(),
        format!(
            "give an ESXi installer ISO (VMware-VMvisor-Installer-*.iso); `file {}` tells what it is",
            file.display()
        ),
    )
}

fn render_inspect(r: &esxup_media::inspect::IsoReport) -> String {
    let mut s = String::new();
    let line = |s: &mut String, k: &str, v: String| s.push_str(&format!("{k:<16} {v}\n"));
    line(&mut s, "ISO", r.path.clone());
    line(&mut s, "Volume", r.volume_id.clone());
    line(
        &mut s,
        "Version",
        match (&r.version, r.build) {
            (Some(v), Some(b)) => format!("{v} build {b}"),
            _ => "unknown (BOOT.CFG has no build= line)".into(),
        },
    );
    for p in &r.profiles {
        line(
            &mut s,
            "Image profile",
            format!("{} ({} VIBs, acceptance {})", p.name, p.vibs, p.acceptance.as_deref().unwrap_or("?")),
        );
        if !p.added_vibs.is_empty() {
            line(&mut s, "Added VIBs", format!("{} not from VMware (a customised ISO):", p.added_vibs.len()));
            for v in &p.added_vibs {
                s.push_str(&format!("{:<16}   {v}\n", ""));
            }
        }
    }
    line(&mut s, "Metadata", r.metadata.clone().unwrap_or_else(|| "none".into()));
    match &r.efi_loader {
        Some(l) => line(&mut s, "UEFI loader", format!("{} ({} bytes, sha256 {})", l.path, l.size, l.sha256)),
        None => line(&mut s, "UEFI loader", "none: BIOS-only image".into()),
    }
    line(&mut s, "kernelopt", r.kernelopt.clone().unwrap_or_default());
    line(
        &mut s,
        "boot.cfg copies",
        if r.boot_cfgs_match {
            "root and EFI/BOOT the same".into()
        } else {
            "root and EFI/BOOT differ".into()
        },
    );
    line(&mut s, "Files", format!("{} ({} bytes)", r.files, r.bytes));
    for w in &r.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}

/// Parses `2G`, `900M`, `1048576` (bytes).
fn parse_size(s: &str) -> anyhow::Result<u64> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().last() {
        Some((i, 'G' | 'g')) => (&t[..i], 1u64 << 30),
        Some((i, 'M' | 'm')) => (&t[..i], 1u64 << 20),
        _ => (t, 1u64),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| hinted(format!("--size {s:?}: not a size"), "e.g. --size 2G or --size 900M"))?;
    Ok(n * mul)
}

pub fn run_media(g: &Global, a: MediaArgs) -> anyhow::Result<u8> {
    let (iso_report, _) = esxup_media::inspect::inspect(&a.iso).map_err(|e| iso_error(e, &a.iso))?;
    let iso = IsoImage::open(&a.iso).map_err(|e| iso_error(e.into(), &a.iso))?;
    let facts: Option<HostFacts> = match (&a.facts, &a.example) {
        (Some(p), _) => Some(input::read_facts(p)?),
        (None, Some(n)) => Some(input::example(n, For::Check)?),
        _ => None,
    };
    let mut warnings: Vec<String> = Vec::new();
    let choice = a.ks.unwrap_or(if facts.is_some() && a.ks_file.is_none() {
        KsChoice::Upgrade
    } else {
        KsChoice::None
    });
    let boot_disk: Vec<String> = facts
        .as_ref()
        .and_then(|f| f.boot_device.as_ref())
        .and_then(|b| b.device.clone())
        .into_iter()
        .collect();
    let secure_boot = facts.as_ref().and_then(|f| f.firmware.as_ref()).and_then(|f| f.secure_boot);
    let boot_class = facts.as_ref().and_then(|f| f.boot_device.as_ref()).and_then(|b| b.media).map(|m| {
        match m {
            BootMedia::Usb | BootMedia::SdCard => "usb",
            BootMedia::San => "remote",
            _ => "local",
        }
        .to_string()
    });
    let lint_ctx = LintContext { boot_disk: boot_disk.clone(), secure_boot, boot_class };

    let ks_text: Option<String> = if let Some(p) = &a.ks_file {
        let bytes = std::fs::read(p).with_context(|| format!("read kickstart {}", p.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            hinted(
                format!(
                    "read kickstart {}: not UTF-8 (invalid byte at offset {})",
                    p.display(),
                    e.utf8_error().valid_up_to()
                ),
                "save it as plain ASCII text",
            )
        })?;
        if facts.is_none() {
            warnings.push("no --facts: the kickstart is not checked against the host's boot disk".into());
        }
        Some(text)
    } else {
        match choice {
            KsChoice::None => None,
            KsChoice::Upgrade => {
                let f = facts.as_ref().ok_or_else(|| {
                    hinted(
                        "--ks upgrade needs the host's facts (its boot disk)",
                        "add --facts FILE (esxup collect) or --example NAME",
                    )
                })?;
                match upgrade_gate(g, &a.iso, f, &iso_report)? {
                    Gate::Blocked(text) => {
                        eprint!("{text}");
                        eprintln!(
                            "error: the check blocks this ISO for the host: an upgrade stick would fail on the host; nothing written"
                        );
                        eprintln!(
                            "hint: see `esxup check --facts <facts> --iso {}`; `esxup plan` shows the way out",
                            a.iso.display()
                        );
                        return Ok(EXIT_FINDINGS);
                    }
                    Gate::Ready(firstboot) => {
                        let disk = match (&a.ks_disk, boot_disk.first()) {
                            (Some(d), _) => KsDisk::Disk(d.clone()),
                            (None, Some(d)) => KsDisk::Disk(d.clone()),
                            (None, None) => {
                                warnings.push(
                                    "the facts name no boot disk: the kickstart upgrades the first disk that holds ESXi (--firstdisk)"
                                        .into(),
                                );
                                KsDisk::FirstDisk(String::new())
                            }
                        };
                        if a.keyboard.is_some() {
                            warnings.push(
                                "--keyboard is for --ks install: an upgrade keeps the host's keyboard setting (the installer ignores `keyboard` on upgrade)"
                                    .into(),
                            );
                        }
                        if !firstboot.is_empty() && secure_boot == Some(true) {
                            warnings.push(
                                "Secure Boot is on: ESXi skips %firstboot, so run its commands by hand after the upgrade".into(),
                            );
                        }
                        Some(kickstart::render(&KsSpec {
                            mode: KsMode::Upgrade,
                            disk,
                            root_hash: None,
                            keyboard: None,
                            header: header(f, &iso_report, "scripted upgrade"),
                            firstboot,
                        }))
                    }
                }
            }
            KsChoice::Install => {
                let disk = match &a.ks_disk {
                    Some(d) => {
                        if boot_disk
                            .iter()
                            .any(|b| b.eq_ignore_ascii_case(d.trim_start_matches("/vmfs/devices/disks/")))
                        {
                            return Err(hinted(
                                format!("--ks install: {d} is the host's boot disk; a trial install there would replace the running ESXi"),
                                "name a spare disk with --ks-disk, or leave it out to install onto the installer stick",
                            ));
                        }
                        KsDisk::Disk(d.clone())
                    }
                    None => {
                        // SD cards (Dell IDSDM, HPE microSD) sit in ESXi's USB class too.
                        let usb_boot = facts
                            .as_ref()
                            .and_then(|f| f.boot_device.as_ref())
                            .map(|b| matches!(b.media, Some(BootMedia::Usb | BootMedia::SdCard)))
                            .unwrap_or(false);
                        if usb_boot || facts.is_none() {
                            return Err(hinted(
                                if facts.is_none() {
                                    "--ks install without --facts: esxup cannot tell whether the host boots from USB".to_string()
                                } else {
                                    format!(
                                        "--ks install: the host boots from USB or SD ({}), so \"the first USB disk\" could be its boot device",
                                        boot_disk.first().map(String::as_str).unwrap_or("?")
                                    )
                                },
                                "name the trial disk with --ks-disk (as the installer lists it), or remove the boot stick during the trial",
                            ));
                        }
                        KsDisk::FirstDisk("usb".into())
                    }
                };
                let pw = root_password(&a)?;
                kickstart::check_password(&pw).map_err(|e| {
                    hinted(e.to_string(), "choose another password; it is hashed, never written")
                })?;
                let hash = kickstart::crypt_password(&pw)?;
                if secure_boot == Some(true) {
                    warnings.push(
                        "Secure Boot is on: ESXi skips %firstboot, so turn Secure Boot off in the firmware for the trial, or the outputs are not saved"
                            .into(),
                    );
                }
                let f_header = match &facts {
                    Some(f) => header(f, &iso_report, "trial install"),
                    None => vec![],
                };
                Some(kickstart::render(&KsSpec {
                    mode: KsMode::Install,
                    disk,
                    root_hash: Some(hash),
                    keyboard: a.keyboard.clone(),
                    header: f_header,
                    firstboot: kickstart::trial_firstboot(),
                }))
            }
        }
    };
    // Every kickstart, ours or the admin's, goes through the same lint.
    if let Some(k) = &ks_text {
        let lints = kickstart::lint(k, &lint_ctx);
        let errors: Vec<_> = lints.iter().filter(|l| l.severity == Severity::Error).collect();
        for l in &lints {
            let at = if l.line == 0 { String::new() } else { format!("line {}: ", l.line) };
            eprintln!(
                "{}: kickstart {at}{}",
                if l.severity == Severity::Error { "error" } else { "warning" },
                l.message
            );
        }
        if !errors.is_empty() {
            eprintln!("error: the kickstart has {} error(s); nothing written", errors.len());
            return Ok(EXIT_FINDINGS);
        }
    }
    let scheme = if a.mbr { Scheme::Mbr } else { Scheme::Gpt };
    let layout = image::layout(&iso, &Content { scheme, kickstart: ks_text.clone() })
        .map_err(|e| iso_error(e, &a.iso))?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    for n in &layout.notes {
        eprintln!("note: {n}");
    }
    if a.dry_run {
        let text = match a.format {
            Format::Json => esxup_render::json::to_json(&MediaReport {
                schema_version: esxup_media::OUTPUT_SCHEMA_VERSION,
                iso: iso_report.clone(),
                layout: layout.clone(),
                kickstart: ks_text.clone(),
                written: None,
                verified: None,
                warnings: warnings.clone(),
            }),
            Format::Text => render_plan(&iso_report, &layout, ks_text.as_deref()),
        };
        super::out::write_stdout(&text)?;
        return Ok(EXIT_OK);
    }
    let (target, mut disk, disk_bytes) = if let Some(dev) = &a.device {
        open_device(dev, &a, &layout)?
    } else {
        let out = a.out.as_ref().expect("clap: --out, --device or --dry-run");
        let size = match &a.size {
            Some(s) => parse_size(s)?,
            None => layout.min_image_bytes,
        };
        if let Ok(m) = std::fs::metadata(out) {
            if !m.is_file() {
                return Err(hinted(
                    format!("--out {}: not a regular file", out.display()),
                    "write a device with --device, which checks it first",
                ));
            }
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(out)
            .with_context(|| format!("create image {}", out.display()))?;
        f.set_len(size).with_context(|| format!("size image {}", out.display()))?;
        (out.clone(), f, size)
    };
    let tty = std::io::stderr().is_terminal();
    let mut last = 0u64;
    let mut progress = |done: u64, total: u64| {
        let pct = (done * 100).checked_div(total).unwrap_or(100);
        if tty && pct >= last + 5 {
            eprint!(
                "\rwriting {target}: {pct}% ({} of {} MiB)",
                done >> 20,
                total >> 20,
                target = target.display()
            );
            last = pct;
        }
    };
    let written = image::write(&iso, &layout, &mut disk, &target, disk_bytes, &mut progress)?;
    if tty {
        eprintln!();
    }
    drop_cache(&disk);
    disk.rewind().ok();
    let verified = image::verify(&iso, &layout, &mut disk, &target)?;
    let text = match a.format {
        Format::Json => esxup_render::json::to_json(&MediaReport {
            schema_version: esxup_media::OUTPUT_SCHEMA_VERSION,
            iso: iso_report.clone(),
            layout: layout.clone(),
            kickstart: ks_text.clone(),
            written: Some(written),
            verified: Some(verified.clone()),
            warnings: warnings.clone(),
        }),
        Format::Text => {
            let mut s = render_plan(&iso_report, &layout, ks_text.as_deref());
            s.push_str(&format!(
                "\nWritten:  {} ({} MiB, {}), {} files read back and matched (content sha256 {})\n",
                target.display(),
                disk_bytes >> 20,
                match scheme {
                    Scheme::Gpt => "GPT",
                    Scheme::Mbr => "MBR",
                },
                verified.files,
                verified.content_sha256
            ));
            s.push_str(&next_steps(choice, ks_text.is_some(), &a.iso));
            s
        }
    };
    super::out::write_stdout(&text)?;
    Ok(EXIT_OK)
}

/// The check's answer for this host and ISO.
enum Gate {
    /// Blocked: the check's table, to show.
    Blocked(String),
    /// Ready: the `%firstboot` commands the plan asks for.
    Ready(Vec<kickstart::FirstbootCommand>),
}

/// Runs the same check and plan input as `esxup check --iso` / `plan --iso`.
fn upgrade_gate(
    g: &Global,
    iso: &Path,
    facts: &HostFacts,
    r: &esxup_media::inspect::IsoReport,
) -> anyhow::Result<Gate> {
    let build = r
        .build
        .ok_or_else(|| hinted("the ISO's BOOT.CFG names no build", "is this an ESXi installer ISO?"))?;
    let (kb, tables) = input::load_kb(g, For::Check)?;
    let today = input::today()?;
    let spec: TargetSpec = build.to_string().parse().map_err(|e| anyhow::anyhow!("target {build}: {e}"))?;
    let loc = iso.display().to_string();
    let image = input::load_image(&loc, None, Some(build), For::Check)?.for_host(facts);
    let report = esxup_check::check_with(kb, tables, facts, &spec, Some(&image), today)
        .map_err(|e| hinted(e.to_string(), "see `esxup check --help`"))?;
    if report.blocked() {
        return Ok(Gate::Blocked(esxup_render::check::render_table(&report, esxup_i18n::Lang::from_env())));
    }
    let plan_input = esxup_plan::from_check::plan_input(&report, facts, kb, None)?;
    let firstboot = esxup_plan::media::upgrade_firstboot(&plan_input)
        .into_iter()
        .map(|(comment, command)| kickstart::FirstbootCommand { comment, command })
        .collect();
    Ok(Gate::Ready(firstboot))
}

fn header(f: &HostFacts, r: &esxup_media::inspect::IsoReport, what: &str) -> Vec<String> {
    let host = f.hostname.clone().unwrap_or_else(|| "the host".into());
    let from = f.product.as_ref().map(|p| format!("build {}", p.build)).unwrap_or_else(|| "?".into());
    let to = match (&r.version, r.build) {
        (Some(v), Some(b)) => format!("{v} build {b}"),
        _ => "?".into(),
    };
    vec![
        format!("esxup media: {what} of {host} ({from} -> {to})"),
        format!("ISO: {}", r.profiles.first().map(|p| p.name.as_str()).unwrap_or(&r.volume_id)),
    ]
}

fn root_password(a: &MediaArgs) -> anyhow::Result<String> {
    if let Some(p) = &a.root_password_file {
        return esxup_collect::ssh::read_password_file(p).map_err(anyhow::Error::new);
    }
    if let Ok(p) = std::env::var("ESXUP_ROOT_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() {
        return Err(hinted(
            "--ks install needs a root password for the trial install",
            "give --root-password-file FILE or ESXUP_ROOT_PASSWORD, or run it in a terminal to be asked",
        ));
    }
    let p1 = esxup_collect::vim::prompt_password("root password for the trial install: ")?;
    let p2 = esxup_collect::vim::prompt_password("again: ")?;
    if p1 != p2 {
        return Err(hinted("the two passwords differ", "run it again"));
    }
    Ok(p1)
}

fn render_plan(r: &esxup_media::inspect::IsoReport, l: &image::Layout, ks: Option<&str>) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "ISO:      {} ({})\n",
        r.profiles.first().map(|p| p.name.as_str()).unwrap_or(&r.volume_id),
        match (&r.version, r.build) {
            (Some(v), Some(b)) => format!("{v} build {b}"),
            _ => "build unknown".into(),
        }
    ));
    s.push_str(&format!(
        "Stick:    {}, one FAT32 EFI system partition labelled {}, {} files, {} MiB (at least {} MiB)\n",
        match l.scheme {
            Scheme::Gpt => "GPT + protective MBR",
            Scheme::Mbr => "MBR",
        },
        l.label,
        l.files.len(),
        l.content_bytes >> 20,
        l.min_image_bytes >> 20
    ));
    let edited: Vec<&str> = l.files.iter().filter(|f| f.source != "iso").map(|f| f.path.as_str()).collect();
    s.push_str(&format!("Edited:   {}\n", edited.join(", ")));
    s.push_str(&format!("Boot:     kernelopt={}\n", l.kernelopt));
    match ks {
        Some(k) => {
            s.push_str("\nKS.CFG:\n");
            for line in k.lines() {
                s.push_str(&format!("  {line}\n"));
            }
        }
        None => s.push_str("KS.CFG:   none (the interactive installer runs)\n"),
    }
    s
}

fn next_steps(choice: KsChoice, ks: bool, iso: &Path) -> String {
    let mut s = String::from("\nNext:\n");
    s.push_str(
        "  1. Boot the host from the stick (UEFI boot menu); the installer reads EFI/BOOT/BOOT.CFG.\n",
    );
    match (choice, ks) {
        (KsChoice::Install, true) => {
            s.push_str("  2. The trial install writes the disk named in KS.CFG and reboots; let the new ESXi boot once.\n");
            s.push_str(&format!(
                "  3. Back on this machine: esxup collect --from-dir /dev/<sdX> -o trial.json, then esxup check --facts trial.json --iso {}\n",
                iso.display()
            ));
        }
        (_, true) => {
            s.push_str("  2. The scripted upgrade runs and reboots the host.\n");
            s.push_str(
                "  3. Then: esxup run --resume (if a run is in progress) or esxup verify --ssh root@<host>\n",
            );
        }
        _ => s.push_str("  2. Choose Upgrade in the installer, keeping the datastores; then esxup verify.\n"),
    }
    s
}

/// Checks and opens a --device: probe, refuse unsafe ones, show it, get the
/// typed confirmation, open exclusively.
fn open_device(
    dev: &Path,
    a: &MediaArgs,
    layout: &image::Layout,
) -> anyhow::Result<(PathBuf, std::fs::File, u64)> {
    let info = esxup_media::device::probe(dev)?;
    esxup_media::device::check(&info, a.force_non_removable)?;
    // Open it now and keep it open through the confirmation, so that the
    // disk written is the disk checked, even if the path is re-pointed (a
    // stick swapped, a /dev/disk/by-id link moved) meanwhile. O_EXCL on a
    // block device fails while anything has it mounted.
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_EXCL)
        .open(dev)
        .with_context(|| format!("open {} exclusively (is it mounted or in use?)", dev.display()))?;
    let opened = f.metadata().with_context(|| format!("inspect {}", dev.display()))?;
    if opened.rdev() != info.rdev {
        return Err(hinted(
            format!("{}: the device changed between the check and the open; nothing written", dev.display()),
            "run the command again",
        ));
    }
    if info.size_bytes < layout.min_image_bytes {
        return Err(hinted(
            format!(
                "{}: {} MiB, too small for this ISO ({} MiB needed)",
                dev.display(),
                info.size_bytes >> 20,
                layout.min_image_bytes >> 20
            ),
            "use a larger stick",
        ));
    }
    eprintln!("esxup will ERASE {}", info.describe());
    let want = info.confirmation().to_string();
    let what = if info.serial.is_some() { "serial number" } else { "device name" };
    let typed = match &a.confirm {
        Some(c) => c.clone(),
        None => {
            eprint!("type its {what} ({want}) to go on: ");
            std::io::stderr().flush().ok();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("read the confirmation")?;
            line.trim().to_string()
        }
    };
    if typed != want {
        return Err(hinted(
            format!("{}: the {what} typed does not match; nothing written", dev.display()),
            format!("type {want} exactly (or pass --confirm {want})"),
        ));
    }
    Ok((dev.to_path_buf(), f, info.size_bytes))
}

/// Drops the written pages from the cache so that the read-back comes from
/// the device, not from memory.
fn drop_cache(f: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain advisory call on a file descriptor we own.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
}
