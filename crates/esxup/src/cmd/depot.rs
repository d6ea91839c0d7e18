//! `esxup depot ...` and `esxup vib ...`: read depots and VIBs, and explain
//! `esxcli software profile update|install --dry-run` before it happens.
//!
//! Exit codes: 0 ok; 1 the simulated transaction would fail, a management
//! NIC / boot HBA would lose its driver, or a VIB fails verification;
//! 2 the input could not be read.

use crate::cli::Global;
use crate::cmd::build::Format;
use crate::cmd::{hinted, EXIT_FINDINGS, EXIT_OK};
use anyhow::Context;
use esxup_depot::{
    acceptance_short, backwards_vibs, diff_profiles, driver_readiness, simulate, Depot, DeviceReadiness,
    HostImage, ImageProfile, Mode, OpenOptions, Readiness, Transaction, TxOptions, VibCheckStatus, VibFile,
    VibSignature,
};
use esxup_facts::AcceptanceLevel;
use esxup_facts::HostFacts;
use serde_json::json;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum DepotCommand {
    /// List bulletins, components and profiles of a depot.
    Ls {
        /// Offline bundle zip, extracted depot folder, or http(s) URL.
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the image profiles of a depot.
    Profiles {
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Simulate `esxcli software profile update --dry-run` (or `install`) and say why.
    DryRun(DryRunArgs),
    /// Compare two image profiles (like Compare-EsxImageProfile).
    Diff {
        depot: String,
        profile_a: String,
        profile_b: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Verify the VIB files a depot holds against its metadata checksums, and
    /// each VIB's signature against its descriptor (trust not checked).
    Verify {
        depot: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("host").required(true).args(["facts", "vib_list", "host_profile"])))]
pub struct DryRunArgs {
    /// Offline bundle zip, extracted depot folder, or http(s) URL.
    #[arg(long)]
    pub depot: String,
    /// Target image profile.
    #[arg(long)]
    pub profile: String,
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
    let opts = OpenOptions { snapshots: location.starts_with("http"), ..OpenOptions::default() };
    let d = Depot::open_with(location, &opts).map_err(|e| {
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

fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Left-aligned columns, two spaces apart, no trailing spaces.
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<width$}  ", width = w[i]);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(head.iter().map(|s| s.to_string()).collect());
    out += &line(w.iter().map(|n| "-".repeat(*n)).collect());
    for r in rows {
        out += &line(r.clone());
    }
    out
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
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
    if format == Format::Json {
        print_json(&json!({
            "depot": d.location(),
            "metadata": d.metadata(),
            "bulletins": d.bulletins(),
            "components": d.components(),
            "profiles": d.profiles().iter().map(profile_summary).collect::<Vec<_>>(),
            "vibs": d.vibs().iter().map(|v| json!({
                "id": v.id, "name": v.name, "version": v.version, "vendor": v.vendor,
                "acceptance": v.acceptance.map(acceptance_short),
                "in_depot": d.vib_file(&v.id).is_some(),
            })).collect::<Vec<_>>(),
            "base_images": d.base_images(),
            "addons": d.addons(),
            "warnings": d.warnings(),
        }))?;
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Depot {}: {} bulletin(s), {} component(s), {} image profile(s), {} VIB(s)\n",
        d.location(),
        d.bulletins().len(),
        d.components().len(),
        d.profiles().len(),
        d.vibs().len()
    );
    if !d.bulletins().is_empty() {
        out += "Bulletins\n";
        let rows: Vec<Vec<String>> = d
            .bulletins()
            .iter()
            .map(|b| {
                vec![
                    b.id.clone(),
                    opt(&b.vendor),
                    b.release_date
                        .clone()
                        .map(|s| s.chars().take(10).collect())
                        .unwrap_or_else(|| "-".into()),
                    b.vib_ids.len().to_string(),
                    opt(&b.summary),
                ]
            })
            .collect();
        out += &table(&["ID", "Vendor", "Released", "VIBs", "Summary"], &rows);
        out += "\n";
    }
    if !d.components().is_empty() {
        out += "Components\n";
        let rows: Vec<Vec<String>> = d
            .components()
            .iter()
            .map(|c| vec![c.name.clone(), c.version.to_string(), opt(&c.ui_version), opt(&c.vendor)])
            .collect();
        out += &table(&["Name", "Version", "Display version", "Vendor"], &rows);
        out += "\n";
    }
    for (title, units) in [("Base images", d.base_images()), ("Add-ons", d.addons())] {
        if units.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}");
        let rows: Vec<Vec<String>> = units
            .iter()
            .map(|u| vec![opt(&u.name), opt(&u.version), u.components.len().to_string(), u.source.clone()])
            .collect();
        out += &table(&["Name", "Version", "Components", "From"], &rows);
        out += "\n";
    }
    if !d.profiles().is_empty() {
        out += "Image profiles\n";
        out += &profiles_table(&d);
        out += "\n";
    }
    out += "VIBs\n";
    let rows: Vec<Vec<String>> = d
        .vibs()
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.version.to_string(),
                v.vendor.clone(),
                v.acceptance.map(acceptance_short).unwrap_or("-").to_string(),
                if d.vib_file(&v.id).is_some() { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    out += &table(&["Name", "Version", "Vendor", "Acceptance", "File in depot"], &rows);
    print!("{out}");
    Ok(EXIT_OK)
}

fn profile_summary(p: &ImageProfile) -> serde_json::Value {
    json!({
        "name": p.name, "creator": p.creator, "acceptance": p.acceptance.map(acceptance_short),
        "vibs": p.vib_ids.len(), "created": p.creation_time, "description": p.description,
    })
}

fn profiles_table(d: &Depot) -> String {
    let rows: Vec<Vec<String>> = d
        .profiles()
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                opt(&p.creator),
                p.acceptance.map(acceptance_short).unwrap_or("-").to_string(),
                p.vib_ids.len().to_string(),
                p.creation_time.clone().map(|s| s.chars().take(10).collect()).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["Name", "Vendor", "Acceptance", "VIBs", "Created"], &rows)
}

fn profiles(location: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    if format == Format::Json {
        print_json(&json!(d.profiles().iter().map(profile_summary).collect::<Vec<_>>()))?;
    } else if d.profiles().is_empty() {
        println!("Depot {} has no image profiles ({} VIB(s)).", d.location(), d.vibs().len());
    } else {
        print!("{}", profiles_table(&d));
    }
    Ok(EXIT_OK)
}

fn load_facts(path: &PathBuf) -> anyhow::Result<HostFacts> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read facts {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        hinted(
            format!("parse facts {}: {e}", path.display()),
            "give a facts file written by `esxup collect` (JSON)",
        )
    })
}

fn dry_run(a: DryRunArgs) -> anyhow::Result<u8> {
    let facts = match &a.facts {
        Some(p) => Some(load_facts(p)?),
        None => None,
    };
    let d = open_depot(&a.depot)?;
    let profile = find_profile(&d, &a.profile)?;
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
    let tx = simulate(&host, &d, profile, &opts);
    let back = backwards_vibs(&host, profile);
    let readiness = facts.as_ref().map(|f| driver_readiness(f, &d, profile));
    let blockers = readiness.as_ref().map(|r| r.iter().filter(|x| x.blocker).count()).unwrap_or(0);
    let code = if tx.succeeds() && blockers == 0 { EXIT_OK } else { EXIT_FINDINGS };

    if a.format == Format::Json {
        print_json(&json!({
            "depot": d.location(),
            "profile": profile.name,
            "host": { "source": host.source, "vibs": host.vibs.len(),
                      "acceptance_level": host.acceptance.map(acceptance_short) },
            "succeeds": tx.succeeds(),
            "transaction": tx,
            "backwards": back.iter().map(|(i, t)| json!({
                "name": i.name, "installed": i.to_string(), "target": t.to_string(),
                "installed_version": i.version, "target_version": t.version,
            })).collect::<Vec<_>>(),
            "driver_readiness": readiness,
        }))?;
        return Ok(code);
    }

    let mut out = String::new();
    let verb = if a.install { "install" } else { "update" };
    let mut flags = String::new();
    if a.allow_downgrades {
        flags += " --allow-downgrades";
    }
    if a.ok_to_remove {
        flags += " --ok-to-remove";
    }
    let _ = writeln!(out, "Simulated: esxcli software profile {verb} -p {} --dry-run{flags}", profile.name);
    let _ = writeln!(out, "Depot:     {}", d.location());
    let _ = writeln!(
        out,
        "Host:      {} ({} VIBs), acceptance level {}",
        host.source,
        host.vibs.len(),
        match (host.acceptance, tx.acceptance_level) {
            (Some(h), _) => acceptance_short(h).to_string(),
            (None, Some(p)) => format!("unknown (checked against the profile's: {})", acceptance_short(p)),
            (None, None) => "unknown".to_string(),
        }
    );
    out += "\n";
    out += &esxcli_result(&tx);
    out += "\n";
    out += &why(&tx);
    if !back.is_empty() {
        let _ = writeln!(
            out,
            "\nBack in time: {} installed VIB(s) sort newer than the profile's (esximage version order):",
            back.len()
        );
        let rows: Vec<Vec<String>> = back
            .iter()
            .map(|(i, t)| vec![i.name.clone(), i.version.to_string(), t.version.to_string()])
            .collect();
        out += &indent(&table(&["Name", "Installed", "In profile"], &rows));
    }
    if let Some(r) = &readiness {
        out += "\n";
        out += &readiness_text(r);
    }
    if !tx.notes.is_empty() {
        out += "\nNotes:\n";
        for n in &tx.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    let _ = writeln!(
        out,
        "\nResult: {}",
        if code == EXIT_OK {
            "the image change would apply".to_string()
        } else if !tx.succeeds() {
            format!(
                "esxcli would refuse this image change ({} problem(s))",
                tx.problems.iter().filter(|p| p.kind.fails()).count()
            )
        } else {
            format!("{blockers} device(s) would lose their driver (see Driver readiness)")
        }
    );
    print!("{out}");
    Ok(code)
}

fn indent(s: &str) -> String {
    s.lines().map(|l| if l.is_empty() { "\n".to_string() } else { format!("  {l}\n") }).collect()
}

/// The `Installation Result` block as esxcli prints it, or its error.
fn esxcli_result(tx: &Transaction) -> String {
    let mut out = String::new();
    if !tx.succeeds() {
        let mut kinds: Vec<&str> = Vec::new();
        for p in tx.problems.iter().filter(|p| p.kind.fails()) {
            if !kinds.contains(&p.kind.tag()) {
                kinds.push(p.kind.tag());
            }
        }
        for k in kinds {
            let _ = writeln!(out, " [{k}]");
            for p in tx.problems.iter().filter(|p| p.kind.tag() == k) {
                let _ = writeln!(out, " {}", p.message);
            }
        }
        for p in tx.problems.iter().filter(|p| !p.kind.fails()) {
            let _ = writeln!(out, " Warning [{}]: {}", p.kind.tag(), p.message);
        }
        return out;
    }
    let mut installers = Vec::new();
    let ids = tx.installed.iter().chain(tx.removed.iter()).map(|d| d.vib.as_str());
    let kinds: Vec<&str> = ids.filter_map(|id| id.split('_').nth(1)).collect();
    if kinds.contains(&"bootbank") {
        installers.push("BootBankInstaller");
    }
    if kinds.contains(&"locker") {
        installers.push("LockerInstaller");
    }
    let list = |v: &[esxup_depot::Decision]| v.iter().map(|d| d.vib.as_str()).collect::<Vec<_>>().join(", ");
    out += "Installation Result\n";
    let _ = writeln!(
        out,
        "   Message: Dryrun only, host not changed. The following installers will be applied: [{}]",
        installers.join(", ")
    );
    let _ = writeln!(out, "   Reboot Required: {}", tx.reboot_required);
    let _ = writeln!(out, "   VIBs Installed: {}", list(&tx.installed));
    let _ = writeln!(out, "   VIBs Removed: {}", list(&tx.removed));
    let _ = writeln!(out, "   VIBs Skipped: {}", list(&tx.skipped));
    for p in tx.problems.iter().filter(|p| !p.kind.fails()) {
        let _ = writeln!(out, "   Warning [{}]: {}", p.kind.tag(), p.message);
    }
    out
}

fn why(tx: &Transaction) -> String {
    let mut rows = Vec::new();
    for (what, list) in
        [("install", &tx.installed), ("remove", &tx.removed), ("skip", &tx.skipped), ("keep", &tx.kept)]
    {
        for d in list.iter() {
            rows.push(vec![what.to_string(), d.vib.clone(), d.reason.clone()]);
        }
    }
    let mut out = format!(
        "Why ({} installed, {} removed, {} skipped, {} kept):\n",
        tx.installed.len(),
        tx.removed.len(),
        tx.skipped.len(),
        tx.kept.len()
    );
    out += &indent(&table(&["Action", "VIB", "Reason"], &rows));
    let _ = writeln!(
        out,
        "\nReboot required: {}{}",
        if tx.reboot_required { "yes" } else { "no" },
        tx.reboot_reasons
            .first()
            .map(|r| format!(" ({r}{})", more(tx.reboot_reasons.len())))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "Maintenance mode required: {}{}",
        if tx.maintenance_mode_required { "yes" } else { "no" },
        tx.maintenance_mode_reasons
            .first()
            .map(|r| format!(" ({r}{})", more(tx.maintenance_mode_reasons.len())))
            .unwrap_or_default()
    );
    out
}

fn more(n: usize) -> String {
    if n > 1 {
        format!(", and {} more", n - 1)
    } else {
        String::new()
    }
}

fn readiness_text(r: &[DeviceReadiness]) -> String {
    let mut out = String::from("Driver readiness (target profile's PCIID tags vs the host's devices):\n");
    if r.is_empty() {
        out += "  no NIC or storage device in the facts\n";
        return out;
    }
    let rows: Vec<Vec<String>> = r
        .iter()
        .map(|x| {
            vec![
                x.vmkernel_name.clone().or(x.address.clone()).unwrap_or_else(|| "-".into()),
                x.pci_id.clone().unwrap_or_else(|| "-".into()),
                format!("{:?}", x.role).to_ascii_lowercase(),
                match x.status {
                    Readiness::Native => "native",
                    Readiness::NativeByClass => "native (class)",
                    Readiness::VmklinuxOnly => "vmklinux only",
                    Readiness::NoDriver => "NO DRIVER",
                    Readiness::Unknown => "unknown",
                }
                .to_string(),
                if x.blocker { "BLOCKER" } else { "" }.to_string(),
                x.reason.clone(),
            ]
        })
        .collect();
    out += &indent(&table(&["Device", "PCI id", "Role", "Target driver", "", "Why"], &rows));
    out
}

fn diff(location: &str, a: &str, b: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    let pa = find_profile(&d, a)?;
    let pb = find_profile(&d, b)?;
    let df = diff_profiles(&d, pa, pb);
    if format == Format::Json {
        print_json(&serde_json::to_value(&df)?)?;
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    let _ = writeln!(out, "Reference:  {} ({} VIBs, acceptance {})", pa.name, pa.vib_ids.len(), acc(pa));
    let _ = writeln!(out, "Comparison: {} ({} VIBs, acceptance {})", pb.name, pb.vib_ids.len(), acc(pb));
    let _ = writeln!(
        out,
        "Packages equal: {}; unchanged {}, upgraded {}, downgraded {}, only in reference {}, only in comparison {}\n",
        df.packages_equal,
        df.unchanged,
        df.upgraded.len(),
        df.downgraded.len(),
        df.only_in_a.len(),
        df.only_in_b.len()
    );
    let mut rows = Vec::new();
    for c in &df.upgraded {
        rows.push(vec!["upgrade".into(), c.name.clone(), c.from.clone(), c.to.clone()]);
    }
    for c in &df.downgraded {
        rows.push(vec!["DOWNGRADE".into(), c.name.clone(), c.from.clone(), c.to.clone()]);
    }
    for id in &df.only_in_a {
        let v = esxup_depot::VibId::parse(id);
        rows.push(vec![
            "only in reference".into(),
            v.as_ref().map(|v| v.name.clone()).unwrap_or_else(|| id.clone()),
            v.map(|v| v.version.to_string()).unwrap_or_default(),
            "-".into(),
        ]);
    }
    for id in &df.only_in_b {
        let v = esxup_depot::VibId::parse(id);
        rows.push(vec![
            "only in comparison".into(),
            v.as_ref().map(|v| v.name.clone()).unwrap_or_else(|| id.clone()),
            "-".into(),
            v.map(|v| v.version.to_string()).unwrap_or_default(),
        ]);
    }
    out += &table(&["Change", "Name", pa.name.as_str(), pb.name.as_str()], &rows);
    if !df.vmklinux_in_b.is_empty() {
        let _ = writeln!(
            out,
            "\nvmklinux drivers in {} (do not load on 7.0+): {}",
            pb.name,
            df.vmklinux_in_b.join(", ")
        );
    }
    print!("{out}");
    Ok(EXIT_OK)
}

fn acc(p: &ImageProfile) -> &'static str {
    p.acceptance.map(acceptance_short).unwrap_or("unknown")
}

fn verify(location: &str, format: Format) -> anyhow::Result<u8> {
    let d = open_depot(location)?;
    let checks = d.verify_vibs();
    let bad = checks
        .iter()
        .filter(|c| matches!(c.status, VibCheckStatus::Mismatch | VibCheckStatus::Unreadable))
        .count();
    if format == Format::Json {
        print_json(&json!({ "depot": d.location(), "checks": checks, "failed": bad }))?;
    } else {
        let rows: Vec<Vec<String>> = checks
            .iter()
            .map(|c| {
                vec![
                    c.vib_id.clone(),
                    format!("{:?}", c.status).to_ascii_lowercase(),
                    c.signature.unwrap_or("-").to_string(),
                    c.message.clone(),
                ]
            })
            .collect();
        print!("{}", table(&["VIB", "Status", "Signature", "Detail"], &rows));
    }
    Ok(if bad > 0 { EXIT_FINDINGS } else { EXIT_OK })
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
    let checks = vib.verify_payloads(&label, &bytes);
    let bad = checks.iter().filter(|c| !c.ok).count();
    let code = if bad > 0 || vib.signature.is_failure() { EXIT_FINDINGS } else { EXIT_OK };
    let today = crate::cmd::input::today()?.to_string();
    let sig = signature_section(&vib, &label, &today);
    for w in &sig.warnings {
        eprintln!("warning: {w}");
    }
    if format == Format::Json {
        print_json(&json!({
            "file": label,
            "vib": vib,
            "payload_checks": checks,
            "signature_warnings": sig.warnings,
            "signature_notes": sig.notes,
        }))?;
        return Ok(code);
    }
    let v = &vib.descriptor;
    let mut out = String::new();
    let mut kv = |k: &str, val: String| kv_line(&mut out, k, &val);
    kv("VIB", v.id.clone());
    kv("Name", v.name.clone());
    kv("Version", v.version.to_string());
    kv("Vendor", v.vendor.clone());
    kv("Type", v.kind.clone());
    kv("Summary", opt(&v.summary));
    kv("Release date", opt(&v.release_date));
    kv("Acceptance level", v.acceptance.map(acceptance_short).unwrap_or("-").to_string());
    kv("Maintenance mode", v.maintenance_mode.map(|b| b.to_string()).unwrap_or_else(|| "-".into()));
    kv("Live install allowed", v.live_install_allowed.map(|b| b.to_string()).unwrap_or_else(|| "-".into()));
    kv("Reboot needed", v.needs_reboot().to_string());
    let cons = |l: &[esxup_depot::Constraint]| {
        if l.is_empty() {
            "-".to_string()
        } else {
            l.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
        }
    };
    kv("Depends", cons(&v.depends));
    kv("Conflicts", cons(&v.conflicts));
    kv("Replaces", cons(&v.replaces));
    kv(
        "Provides",
        if v.provides.is_empty() {
            "-".into()
        } else {
            v.provides
                .iter()
                .map(|p| match &p.version {
                    Some(ver) => format!("{} = {ver}", p.name),
                    None => p.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    kv("Software tags", if v.software_tags.is_empty() { "-".into() } else { v.software_tags.join(", ") });
    if v.is_vmklinux() {
        kv("Driver model", "vmklinux (does not load on ESXi 7.0 and later)".into());
    }
    kv("Files", v.files.len().to_string());
    let bad = v.extensibility_violations();
    if !bad.is_empty() {
        kv(
            "Extensibility rules",
            format!(
                "{} file(s) outside the paths allowed for {} VIBs: {}",
                bad.len(),
                v.acceptance.map(acceptance_short).unwrap_or("-"),
                bad.join(", ")
            ),
        );
    }
    kv("File sha256", vib.sha256.clone());
    out += "\nSignature\n";
    out += &sig.text;
    out += "\nPayloads\n";
    let rows: Vec<Vec<String>> = v
        .payloads
        .iter()
        .map(|p| {
            let ok = checks.iter().filter(|c| c.payload == p.name);
            let (n, bad) = ok.fold((0, 0), |(n, b), c| (n + 1, b + usize::from(!c.ok)));
            vec![
                p.name.clone(),
                p.kind.clone(),
                p.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                if bad > 0 { format!("{bad} of {n} FAILED") } else { format!("{n} ok") },
            ]
        })
        .collect();
    out += &table(&["Name", "Type", "Size", "Checksums"], &rows);
    for c in checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(out, "FAILED: {}", c.message);
    }
    print!("{out}");
    Ok(code)
}

/// One `Key   value` line of `vib show` (keys in a 22-column field, so
/// that the Signature section lines up with the descriptor above it).
fn kv_line(out: &mut String, k: &str, val: &str) {
    let _ = writeln!(out, "{k:<22}{val}");
}

/// The Signature section of `vib show`: text lines, warnings (stderr and
/// JSON) and notes (facts worth knowing that are not problems).
struct SignatureSection {
    text: String,
    warnings: Vec<String>,
    notes: Vec<String>,
}

/// What esxup can and cannot say about a VIB signature.
const TRUST_NOT_CHECKED: &str = "not checked: ESXi checks the signer against its own certificate store";

fn signature_section(vib: &VibFile, label: &str, today: &str) -> SignatureSection {
    let mut text = String::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut kv = |k: &str, val: &str| kv_line(&mut text, k, val);
    let member = format!("{label}!sig.pkcs7");
    let acceptance = vib.descriptor.acceptance;
    let mut unsigned = false;
    match &vib.signature {
        VibSignature::Absent => {
            kv("Status", "unsigned (no sig.pkcs7 member)");
            unsigned = true;
        }
        VibSignature::Unsigned => {
            kv("Status", "unsigned (sig.pkcs7 is empty)");
            unsigned = true;
        }
        VibSignature::Unreadable { message } => {
            kv("Status", "unreadable");
            warnings.push(message.clone());
        }
        VibSignature::Signed(r) => {
            let status = match &r.verification {
                esxup_depot::Verification::Verified => {
                    "verified: descriptor.xml is what the signer signed".to_string()
                }
                esxup_depot::Verification::DescriptorMismatch { message } => {
                    warnings.push(format!(
                        "{member}: the signature does not match descriptor.xml: the descriptor was changed after signing ({message})"
                    ));
                    "DOES NOT MATCH the descriptor".to_string()
                }
                esxup_depot::Verification::SignatureInvalid { message } => {
                    warnings.push(format!("{member}: {message}"));
                    "INVALID: the signature does not verify with the signer certificate".to_string()
                }
                esxup_depot::Verification::NotVerified { message } => format!("not verified: {message}"),
            };
            kv("Status", &status);
            for s in &r.signers {
                match &s.certificate {
                    Some(c) => {
                        let who = match (&c.common_name, &c.organization) {
                            (Some(cn), Some(o)) => format!("{cn} ({o})"),
                            (Some(cn), None) => cn.clone(),
                            _ => c.subject.clone(),
                        };
                        kv("Signer", &who);
                        kv("Subject", &c.subject);
                        kv(
                            "Issuer",
                            &if c.self_issued { "self-issued".to_string() } else { c.issuer.clone() },
                        );
                        kv("Serial", &c.serial);
                        let mut validity = format!("{} to {}", c.not_before, c.not_after);
                        if s.signed_after_certificate_expiry {
                            validity += " (notAfter is before the signing time)";
                        }
                        if c.not_after.as_str() < today {
                            validity += &format!(" (notAfter is before today, {today})");
                        }
                        kv("Certificate valid", &validity);
                    }
                    None => kv("Signer", "- (its certificate is not in sig.pkcs7)"),
                }
                kv(
                    "Signing time",
                    &s.signing_time
                        .as_deref()
                        .map(|t| t.replacen('T', " ", 1).replace('Z', " UTC"))
                        .unwrap_or_else(|| "- (no signingTime attribute)".into()),
                );
                kv("Algorithms", &format!("{}, {}", s.digest_algorithm, s.signature_algorithm));
            }
            kv("Trust", TRUST_NOT_CHECKED);
            notes.push(format!("trust {TRUST_NOT_CHECKED}"));
        }
    }
    if unsigned {
        if let Some(a) = acceptance.filter(|a| *a != AcceptanceLevel::CommunitySupported) {
            warnings.push(format!(
                "{label}: acceptance level is {} but the VIB is unsigned",
                esxup_depot::acceptance_short(a)
            ));
        }
    }
    if acceptance == Some(AcceptanceLevel::CommunitySupported) {
        // Research notes, "Other upgrade facts": CommunitySupported VIBs
        // prevent Secure Boot.
        let n = "Secure Boot hosts cannot use CommunitySupported VIBs";
        kv("Secure Boot", n);
        notes.push(n.to_string());
    }
    SignatureSection { text, warnings, notes }
}
