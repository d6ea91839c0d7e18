//! Text renderers of the depot commands' outputs (`esxup depot ls |
//! profiles | dry-run | diff | verify`, `esxup vib show`), including the
//! esxcli-style `Installation Result` block and the "why" of each VIB; their
//! JSON is [`crate::json::to_json`] of the same types.

use crate::table::{indent, kv_line, table};
use esxup_depot::report::{
    DepotListing, DiffReport, DryRunReport, DryRunResult, ProfileSummary, ProfilesReport, VerifyReport,
    VibReport, SECURE_BOOT_COMMUNITY, TRUST_NOT_CHECKED,
};
use esxup_depot::{acceptance_short, DeviceReadiness, Readiness, Transaction, VibSignature};
use std::fmt::Write as _;

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

fn day(s: &Option<String>) -> String {
    s.clone().map(|s| s.chars().take(10).collect()).unwrap_or_else(|| "-".into())
}

fn profiles_table(profiles: &[ProfileSummary]) -> String {
    let rows: Vec<Vec<String>> = profiles
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                opt(&p.creator),
                p.acceptance.unwrap_or("-").to_string(),
                p.vibs.to_string(),
                day(&p.created),
            ]
        })
        .collect();
    table(&["Name", "Vendor", "Acceptance", "VIBs", "Created"], &rows)
}

/// `esxup depot ls`.
pub fn render_ls(d: &DepotListing) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Depot {}: {} bulletin(s), {} component(s), {} image profile(s), {} VIB(s)\n",
        d.depot,
        d.bulletins.len(),
        d.components.len(),
        d.profiles.len(),
        d.vibs.len()
    );
    if !d.bulletins.is_empty() {
        out += "Bulletins\n";
        let rows: Vec<Vec<String>> = d
            .bulletins
            .iter()
            .map(|b| {
                vec![
                    b.id.clone(),
                    opt(&b.vendor),
                    day(&b.release_date),
                    b.vib_ids.len().to_string(),
                    opt(&b.summary),
                ]
            })
            .collect();
        out += &table(&["ID", "Vendor", "Released", "VIBs", "Summary"], &rows);
        out += "\n";
    }
    if !d.components.is_empty() {
        out += "Components\n";
        let rows: Vec<Vec<String>> = d
            .components
            .iter()
            .map(|c| vec![c.name.clone(), c.version.to_string(), opt(&c.ui_version), opt(&c.vendor)])
            .collect();
        out += &table(&["Name", "Version", "Display version", "Vendor"], &rows);
        out += "\n";
    }
    for (title, units) in [("Base images", &d.base_images), ("Add-ons", &d.addons)] {
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
    if !d.profiles.is_empty() {
        out += "Image profiles\n";
        out += &profiles_table(&d.profiles);
        out += "\n";
    }
    out += "VIBs\n";
    let rows: Vec<Vec<String>> = d
        .vibs
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.version.to_string(),
                v.vendor.clone(),
                v.acceptance.unwrap_or("-").to_string(),
                if v.in_depot { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    out += &table(&["Name", "Version", "Vendor", "Acceptance", "File in depot"], &rows);
    out
}

/// `esxup depot profiles`.
pub fn render_profiles(p: &ProfilesReport) -> String {
    if p.profiles.is_empty() {
        format!("Depot {} has no image profiles ({} VIB(s)).\n", p.depot, p.vibs)
    } else {
        profiles_table(&p.profiles)
    }
}

/// The `Installation Result` block as esxcli prints it, or its error.
pub fn esxcli_result(tx: &Transaction) -> String {
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

fn more(n: usize) -> String {
    if n > 1 {
        format!(", and {} more", n - 1)
    } else {
        String::new()
    }
}

/// Why each VIB is installed, removed, skipped or kept; reboot and
/// maintenance mode.
pub fn why(tx: &Transaction) -> String {
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

/// `esxup depot dry-run`: the simulated command, the esxcli result, why,
/// what would go backwards, driver readiness and the verdict.
pub fn render_dry_run(r: &DryRunReport) -> String {
    let tx = &r.transaction;
    let mut out = String::new();
    let _ = writeln!(out, "Simulated: {}", r.command);
    let _ = writeln!(out, "Depot:     {}", r.depot);
    let _ = writeln!(
        out,
        "Host:      {} ({} VIBs), acceptance level {}",
        r.host.source,
        r.host.vibs,
        match (r.host.acceptance_level, tx.acceptance_level) {
            (Some(h), _) => h.to_string(),
            (None, Some(p)) => format!("unknown (checked against the profile's: {})", acceptance_short(p)),
            (None, None) => "unknown".to_string(),
        }
    );
    out += "\n";
    out += &esxcli_result(tx);
    out += "\n";
    out += &why(tx);
    if !r.backwards.is_empty() {
        let _ = writeln!(
            out,
            "\nBack in time: {} installed VIB(s) sort newer than the profile's (esximage version order):",
            r.backwards.len()
        );
        let rows: Vec<Vec<String>> = r
            .backwards
            .iter()
            .map(|b| vec![b.name.clone(), b.installed_version.to_string(), b.target_version.to_string()])
            .collect();
        out += &indent(&table(&["Name", "Installed", "In profile"], &rows));
    }
    if let Some(x) = &r.driver_readiness {
        out += "\n";
        out += &readiness_text(x);
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
        match r.result {
            DryRunResult::Applies => "the image change would apply".to_string(),
            DryRunResult::Refused => {
                format!("esxcli would refuse this image change ({} problem(s))", r.failing_problems)
            }
            DryRunResult::DriverLoss => {
                format!("{} device(s) would lose their driver (see Driver readiness)", r.driver_blockers)
            }
        }
    );
    out
}

/// `esxup depot diff`.
pub fn render_diff(r: &DiffReport) -> String {
    let (pa, pb, df) = (&r.reference, &r.comparison, &r.diff);
    let acc = |p: &ProfileSummary| p.acceptance.unwrap_or("unknown");
    let mut out = String::new();
    let _ = writeln!(out, "Reference:  {} ({} VIBs, acceptance {})", pa.name, pa.vibs, acc(pa));
    let _ = writeln!(out, "Comparison: {} ({} VIBs, acceptance {})", pb.name, pb.vibs, acc(pb));
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
    out
}

/// `esxup depot verify`.
pub fn render_verify(r: &VerifyReport) -> String {
    let rows: Vec<Vec<String>> = r
        .checks
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
    table(&["VIB", "Status", "Signature", "Detail"], &rows)
}

/// Keys of `vib show` in a 22-column field, so that the Signature section
/// lines up with the descriptor above it.
const KEY_WIDTH: usize = 22;

/// The Signature section of `vib show`.
fn signature_text(r: &VibReport) -> String {
    let mut text = String::new();
    let mut kv = |k: &str, val: &str| kv_line(&mut text, KEY_WIDTH, k, val);
    let today = r.as_of.as_str();
    match &r.vib.signature {
        VibSignature::Absent => kv("Status", "unsigned (no sig.pkcs7 member)"),
        VibSignature::Unsigned => kv("Status", "unsigned (sig.pkcs7 is empty)"),
        VibSignature::Unreadable { .. } => kv("Status", "unreadable"),
        VibSignature::Signed(s) => {
            let status = match &s.verification {
                esxup_depot::Verification::Verified => {
                    "verified: descriptor.xml is what the signer signed".to_string()
                }
                esxup_depot::Verification::DescriptorMismatch { .. } => {
                    "DOES NOT MATCH the descriptor".to_string()
                }
                esxup_depot::Verification::SignatureInvalid { .. } => {
                    "INVALID: the signature does not verify with the signer certificate".to_string()
                }
                esxup_depot::Verification::NotVerified { message } => format!("not verified: {message}"),
            };
            kv("Status", &status);
            for sg in &s.signers {
                match &sg.certificate {
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
                        if sg.signed_after_certificate_expiry {
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
                    &sg.signing_time
                        .as_deref()
                        .map(|t| t.replacen('T', " ", 1).replace('Z', " UTC"))
                        .unwrap_or_else(|| "- (no signingTime attribute)".into()),
                );
                kv("Algorithms", &format!("{}, {}", sg.digest_algorithm, sg.signature_algorithm));
            }
            kv("Trust", TRUST_NOT_CHECKED);
        }
    }
    if r.signature_notes.iter().any(|n| n == SECURE_BOOT_COMMUNITY) {
        kv("Secure Boot", SECURE_BOOT_COMMUNITY);
    }
    text
}

/// `esxup vib show`: descriptor, signature, payloads.
pub fn render_vib(r: &VibReport) -> String {
    let v = &r.vib.descriptor;
    let checks = &r.payload_checks;
    let mut out = String::new();
    let mut kv = |k: &str, val: String| kv_line(&mut out, KEY_WIDTH, k, &val);
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
    kv("File sha256", r.vib.sha256.clone());
    out += "\nSignature\n";
    out += &signature_text(r);
    out += "\nPayloads\n";
    let rows: Vec<Vec<String>> = v
        .payloads
        .iter()
        .map(|p| {
            let mine = checks.iter().filter(|c| c.payload == p.name);
            let (n, bad) = mine.fold((0, 0), |(n, b), c| (n + 1, b + usize::from(!c.ok)));
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
    out
}
