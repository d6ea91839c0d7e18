//! The seed host's runbook, built from the real pieces: the built-in
//! knowledge base, the built-in `seed` example facts and the real check.
//! The seed (shared/research/README.md): ESXi 6.7 P06 (18828794, 2021-11-23)
//! on UEFI with Secure Boot, altbootbank 17700523 (2021-03-18), asked to go
//! to 7.0 U2a (17867351, 2021-04-29): a back-in-time upgrade (KB 67077).

use esxup_check::TargetSpec;
use esxup_i18n::Lang;
use esxup_plan::{build_plan, from_check::plan_input, Plan, PlanStatus, RunOn};
use esxup_version::Date;

fn kb() -> &'static esxup_kb::Kb {
    esxup_kb::Kb::embedded().expect("built-in KB loads")
}

fn seed_plan(target: &str, lang: Lang) -> Plan {
    let kb = kb();
    let facts = esxup_check::examples::get("seed").expect("seed example");
    let spec: TargetSpec = target.parse().expect("target spec");
    let today = Date::new(2026, 11, 26).expect("date");
    let report = esxup_check::check(kb, &facts, &spec, None, today).expect("check runs");
    let input = plan_input(&report, &facts, kb, None).expect("plan input");
    build_plan(&input, lang)
}

#[test]
fn seed_plan_is_blocked_and_says_why_with_both_dates() {
    let p = seed_plan("7.0U2a", Lang::En);
    assert_eq!(p.status, PlanStatus::Blocked);
    assert!(p.status_text.starts_with("BLOCKED"), "{}", p.status_text);
    assert_eq!(p.requested.build, 17867351);
    assert!(p.blockers.iter().any(|b| b.id == "BACK_IN_TIME"), "{:?}", p.blockers);
    // The steps do not pretend: they follow another target, labelled as such.
    assert!(!p.route.is_requested);
    assert_ne!(p.route.target.build, 17867351);
    assert!(p.route.label.contains("instead of the blocked ESXi 7.0 Update 2a"), "{}", p.route.label);
    // The working target is 7.0 U3c or later (released on or after 2022-01-27).
    assert_eq!(p.route.target.version.split('.').take(2).collect::<Vec<_>>(), ["7", "0"]);
    assert!(p.route.target.release_date.as_str() >= "2022-01-27", "{:?}", p.route.target);
    // The rollback route: Shift+R to 17700523 (2021-03-18), then 7.0 U2a (2021-04-29).
    let rb = p.ways_out.iter().find(|w| w.kind == "rollback").expect("rollback way out");
    for s in ["17700523", "2021-03-18", "17867351", "2021-04-29", "Shift+R"] {
        assert!(rb.text.contains(s), "{s} missing in {}", rb.text);
    }
}

#[test]
fn seed_plan_uses_the_iso_because_of_secure_boot() {
    let p = seed_plan("7.0U2a", Lang::En);
    assert_eq!(p.method.kind, "iso");
    assert!(p.step("media.download-iso").is_some());
    assert!(p.step("media.write-usb").is_some());
    assert!(p.step("upgrade.dry-run").is_none(), "no esxcli upgrade with Secure Boot");
    assert!(p.step("after.secure-boot").is_some());
    let ghetto = p.step("before.backup-vms").expect("backup step");
    assert!(ghetto.notes.iter().any(|n| n.contains("CommunitySupported")), "{:?}", ghetto.notes);
}

#[test]
fn seed_plan_has_every_phase_and_host_specific_commands() {
    let p = seed_plan("7.0U2a", Lang::En);
    let phases: Vec<&str> = p.phases.iter().map(|ph| ph.id.as_str()).collect();
    assert_eq!(phases, ["before", "media", "upgrade", "after", "rollback"]);
    let order: Vec<&str> = p.steps().map(|s| s.id.as_str()).collect();
    let pos =
        |id: &str| order.iter().position(|s| *s == id).unwrap_or_else(|| panic!("{id} missing: {order:?}"));
    assert!(pos("before.backup-config") < pos("upgrade.maintenance"));
    assert!(pos("after.vmware-tools") < pos("after.vm-hardware"), "Tools before hardware");
    assert!(pos("after.verify-version") < pos("after.licence"));
    // Config backup: sync then backup, with the host's name in the download.
    let cfg = p.step("before.backup-config").expect("config backup");
    let lines: Vec<&str> = cfg.commands.iter().map(|c| c.line.as_str()).collect();
    assert_eq!(
        &lines[..2],
        ["vim-cmd hostsvc/firmware/sync_config", "vim-cmd hostsvc/firmware/backup_config"]
    );
    assert!(lines[2].contains("configBundle-esxi-seed-18828794.tgz"), "{}", lines[2]);
    assert_eq!(cfg.commands[2].run_on, RunOn::Workstation);
    // The generated ghettoVCB.conf points at the host's datastore and lists its VMs.
    let b = p.step("before.backup-vms").expect("backup");
    assert!(b.files[0].content.contains("VM_BACKUP_VOLUME=/vmfs/volumes/datastore1/ghettoVCB-backups"));
    assert_eq!(b.files[1].content, "dc01\nweb01\n");
    // The version check names the target build.
    let v = p.step("after.verify-version").expect("verify");
    assert_eq!(
        v.verify.expect.as_deref(),
        Some(format!("Build: Releasebuild-{}", p.route.target.build).as_str())
    );
    // 6.7 -> 7.0: no Shift+R back afterwards (KB 1033604), so the boot device is imaged first.
    assert!(p.step("before.backup-boot-device").is_some());
    let after = p.step("rollback.after-upgrade").expect("rollback after");
    assert!(after.notes.iter().any(|n| n.contains("KB 1033604")));
}

#[test]
fn seed_plan_reads_as_japanese() {
    let p = seed_plan("7.0U2a", Lang::Ja);
    assert!(p.status_text.starts_with("ブロック"), "{}", p.status_text);
    let all: String = p
        .steps()
        .flat_map(|s| [s.title.clone(), s.purpose.clone(), s.on_failure.clone(), s.notes.join("\n")])
        .collect::<Vec<_>>()
        .join("\n");
    for w in [
        "仮想マシン",
        "アップグレード",
        "ビルド番号",
        "ロールバック",
        "メンテナンスモード",
        "スナップショット",
    ] {
        assert!(all.contains(w), "{w} missing");
    }
    // No untranslated plan key leaks through.
    assert!(!all.contains("[plan."), "missing catalog key in:\n{all}");
    // Same step ids in both languages.
    let en = seed_plan("7.0U2a", Lang::En);
    let ids = |p: &Plan| p.steps().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&p), ids(&en));
}

#[test]
fn a_working_target_is_not_labelled_blocked() {
    let p = seed_plan("latest-7.0", Lang::En);
    assert_ne!(p.status, PlanStatus::Blocked, "{:?}", p.blockers);
    assert!(p.route.is_requested);
    assert!(p.ways_out.is_empty());
}
