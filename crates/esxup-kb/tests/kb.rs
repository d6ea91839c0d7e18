//! Loader, query API and lint tests on the fixture knowledge bases under
//! `tests/fixtures/<scenario>/` (values copied from data/ with their sources).

use esxup_kb::{lint, Kb, KbError, LifecycleStatus, ResolveError, Severity};
use esxup_version::{Branch, Date};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn good() -> Kb {
    Kb::load_dir(&fixture("good")).unwrap_or_else(|e| panic!("{e}"))
}

fn b(s: &str) -> Branch {
    s.parse().unwrap()
}

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn loads_and_sorts_releases() {
    let kb = good();
    let builds: Vec<u32> = kb.releases().iter().map(|r| r.build).collect();
    assert_eq!(
        builds,
        [2494585, 17499825, 17700523, 18828794, 16850804, 17325551, 17630552, 17867351, 20328353]
    );
    assert_eq!(kb.branches(), [b("6.0"), b("6.7"), b("7.0")]);
    let p05 = kb.release(17700523).expect("17700523 loaded");
    assert_eq!(p05.name, "ESXi 6.7 Patch 5");
    assert_eq!(p05.bulletin.as_deref(), Some("ESXi670-202103001"));
    assert_eq!(p05.release_date, d("2021-03-18"));
    assert_eq!(kb.latest(b("6.7")).map(|r| r.build), Some(18828794));
    assert_eq!(kb.branch_releases(b("7.0")).count(), 5);
    assert!(kb.release(17700524).is_none());
    assert!(kb.file("lifecycle.toml").is_some_and(|t| t.contains("[[branch]]")));
}

#[test]
fn derives_max_vm_hardware() {
    let kb = good();
    // 6.7 builds only get what 6.0 introduced in this small table (no vmx-13..15 rows).
    assert_eq!(kb.max_vm_hardware(17700523), Some(11));
    assert_eq!(kb.max_vm_hardware(16850804), Some(18));
    assert_eq!(kb.max_vm_hardware(17325551), Some(18));
    assert_eq!(kb.max_vm_hardware(17630552), Some(19));
    assert_eq!(kb.max_vm_hardware(20328353), Some(19));
    assert_eq!(kb.max_vm_hardware(1), None);
}

#[test]
fn lifecycle_status_by_date() {
    let kb = good();
    assert_eq!(kb.status(b("6.7"), d("2022-10-15")), LifecycleStatus::GeneralSupport);
    assert_eq!(kb.status(b("6.7"), d("2022-10-16")), LifecycleStatus::TechnicalGuidance);
    assert_eq!(kb.status(b("6.7"), d("2026-11-26")), LifecycleStatus::EndOfLife);
    assert_eq!(kb.status(b("7.0"), d("2026-11-26")), LifecycleStatus::TechnicalGuidance);
    assert_eq!(kb.status(b("8.0"), d("2026-11-26")), LifecycleStatus::Unknown);
    assert_eq!(kb.notes().len(), 1);
}

#[test]
fn exposures_compare_with_the_first_fixed_build() {
    let kb = good();
    let ids = |build| kb.exposures(build).iter().map(|e| e.advisory.id.clone()).collect::<Vec<_>>();
    // 6.7: fixed in 17499825 (EP 18); P05 and later are not exposed.
    assert!(ids(17700523).is_empty());
    assert!(ids(17499825).is_empty());
    // 7.0 U1c carries the fix; 7.0 U1 before it is exposed.
    assert!(ids(17325551).is_empty());
    assert_eq!(ids(16850804), ["VMSA-2021-0002"]);
    let older = kb.exposures(16850804);
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].fix.and_then(|f| f.build), Some(17325551));
    assert_eq!(older[0].advisory.workaround_kb.as_deref(), Some("KB 76372"));
    // 6.0 is not listed by the advisory: no exposure claimed.
    assert!(ids(2494585).is_empty());
}

#[test]
fn advisory_fixed_in_compares_with_the_fix_of_the_release_branch() {
    let kb = good();
    let a = &kb.advisories()[0];
    let fixed = a.fixes.iter().find(|f| f.build.is_some()).expect("fixture advisory has a fixed build");
    let (branch, first) = (fixed.branch, fixed.build.unwrap_or_default());
    let on_branch: Vec<_> = kb.branch_releases(branch).collect();
    for r in &on_branch {
        assert_eq!(a.fixed_in(r), Some(r.build >= first), "{} vs first fixed {first}", r.build);
    }
    assert!(on_branch.iter().any(|r| r.build < first) && on_branch.iter().any(|r| r.build >= first));
    // A branch the advisory does not list: no claim either way.
    let other =
        kb.releases().iter().find(|r| a.fix_for(r.version.branch()).is_none()).expect("a 6.0 release");
    assert_eq!(a.fixed_in(other), None);
}

#[test]
fn upgrade_paths_and_hops() {
    let kb = good();
    assert!(kb.direct_upgrade_supported(b("6.7"), b("7.0")));
    assert!(!kb.direct_upgrade_supported(b("6.0"), b("7.0")));
    assert!(!kb.direct_upgrade_supported(b("7.0"), b("6.7")));
    assert!(kb.direct_upgrade_supported(b("7.0"), b("7.0")));
    assert_eq!(kb.hops(b("6.0"), b("7.0")), Some(vec![b("6.7"), b("7.0")]));
    assert_eq!(kb.hops(b("6.7"), b("7.0")), Some(vec![b("7.0")]));
    assert_eq!(kb.hops(b("7.0"), b("6.7")), None);
    assert_eq!(kb.hops(b("7.0"), b("7.0")), Some(vec![]));
    assert_eq!(kb.upgrade_targets(b("6.0")), [b("6.7")]);
    assert_eq!(kb.intermediate_hops(b("6.0"), b("7.0")), Some(vec![b("6.7")]));
    assert_eq!(kb.intermediate_hops(b("6.7"), b("7.0")), Some(vec![]));
    assert_eq!(kb.intermediate_hops(b("7.0"), b("7.0")), Some(vec![]));
    assert_eq!(kb.intermediate_hops(b("7.0"), b("6.7")), None);
}

#[test]
fn resolves_every_form_to_17700523() {
    let kb = good();
    for q in [
        "17700523",
        "VMware ESXi 6.7.0 build-17700523",
        "Releasebuild-17700523",
        "ESXi670-202103001",
        "ESXi-6.7.0-20210304001-standard",
        "ESXi 6.7 P05",
        "6.7 Patch 5",
        "ESXi 6.7 Patch 5",
        "   Product: VMware ESXi\n   Version: 6.7.0\n   Build: Releasebuild-17700523\n   Update: 3\n   Patch: 0\n",
    ] {
        let r = kb.resolve_str(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert_eq!(r.release.build, 17700523, "{q:?}");
        assert!(r.inconsistencies.is_empty(), "{q:?}: {:?}", r.inconsistencies);
    }
}

#[test]
fn resolves_7_0_forms() {
    let kb = good();
    for q in ["7.0U3g", "7.0 Update 3g", "ESXi 7.0 Update 3g", "ESXi-7.0U3g-20328353-standard", "latest-7.0"]
    {
        let r = kb.resolve_str(q).unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert_eq!(r.release.build, 20328353, "{q:?}");
    }
    // 7.0.2 is Update 2 and its 2a: the update release is preferred, 2a listed.
    let r = kb.resolve_str("7.0.2").unwrap();
    assert_eq!(r.release.build, 17630552);
    assert_eq!(r.candidates.iter().map(|c| c.build).collect::<Vec<_>>(), [17867351]);
    assert_eq!(kb.resolve_str("ESXi70U1c-17325551").unwrap().release.build, 17325551);
    // A component bulletin resolves to the patch of its month (research README:
    // ESXi670-202102401-SG carries the VMSA-2021-0002 fix of 6.7 EP 18).
    assert_eq!(kb.resolve_str("ESXi670-202102401-SG").unwrap().release.build, 17499825);
    assert!(matches!(kb.resolve_str("ESXi670-202001001"), Err(ResolveError::NotFound { .. })));
    // A name quoted in a record's notes: KB 316595's Version column calls
    // 7.0 U3g "ESXi 7.0.3 EP5" (data/releases/7.0.toml keeps it in notes).
    let r = kb.resolve_str("ESXi 7.0.3 EP5").map(|r| r.release.build);
    assert_eq!(r, Ok(20328353));
}

#[test]
fn reports_inconsistent_input() {
    let kb = good();
    let r = kb
        .resolve_str(
            "   Product: VMware ESXi\n   Version: 7.0.2\n   Build: Releasebuild-20328353\n   Update: 2\n",
        )
        .unwrap();
    assert_eq!(r.release.build, 20328353);
    let all = r.inconsistencies.join("\n");
    assert!(all.contains("7.0.2") && all.contains("ESXi 7.0 Update 3g"), "{all}");
    assert!(all.contains("Update 2"), "{all}");
    // A patch name that disagrees with the build.
    let r = kb.resolve_str("ESXi 6.7 P06 build-17700523").unwrap();
    assert_eq!(r.inconsistencies.len(), 1, "{:?}", r.inconsistencies);
}

#[test]
fn unknown_build_names_branch_and_neighbours() {
    let kb = good();
    match kb.resolve_str("17700600") {
        Err(ResolveError::Unknown { build, likely_branch, before, after }) => {
            assert_eq!(build, 17700600);
            assert_eq!(likely_branch, Some(b("6.7")));
            assert_eq!(before.map(|n| n.build), Some(17700523));
            assert_eq!(after.map(|n| n.build), Some(18828794));
        }
        other => panic!("{other:?}"),
    }
    // The version given decides the branch.
    match kb.resolve_str("VMware ESXi 7.0.2 build-17700600") {
        Err(ResolveError::Unknown { likely_branch, before, after, .. }) => {
            assert_eq!(likely_branch, Some(b("7.0")));
            assert_eq!(before.map(|n| n.build), Some(17630552));
            assert_eq!(after.map(|n| n.build), Some(17867351));
        }
        other => panic!("{other:?}"),
    }
    let msg = kb.resolve_str("17700600").unwrap_err().to_string();
    assert!(
        msg.contains("unknown build 17700600") && msg.contains("6.7") && msg.contains("17700523"),
        "{msg}"
    );
}

#[test]
fn ambiguous_and_missing() {
    let kb = good();
    assert!(matches!(kb.resolve_str("6.7"), Err(ResolveError::Ambiguous { .. })));
    assert!(matches!(kb.resolve_str("7.0U3z"), Err(ResolveError::NotFound { .. })));
    assert!(matches!(kb.resolve_str("latest-8.0"), Err(ResolveError::NotFound { .. })));
    assert!(matches!(kb.resolve_str("hello"), Err(ResolveError::Parse(_))));
}

fn errors(dir: &str) -> Vec<(&'static str, String)> {
    lint(&fixture(dir))
        .into_iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| (p.rule, p.message))
        .collect()
}

#[test]
fn lint_passes_the_good_fixture() {
    let problems = lint(&fixture("good"));
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(good().lint().is_empty());
}

#[test]
fn lint_fails_on_unknown_key() {
    let e = errors("unknown-key");
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "parse");
    assert!(e[0].1.contains("codename"), "{e:?}");
    assert!(matches!(Kb::load_dir(&fixture("unknown-key")), Err(KbError::Parse { .. })));
    // Also inside an advisory's [[fix]] table.
    let e = errors("unknown-key-advisory");
    assert!(e.len() == 1 && e[0].1.contains("fixed_in"), "{e:?}");
}

#[test]
fn lint_fails_on_missing_source() {
    let e = errors("missing-source");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].1.contains("missing source"), "{e:?}");
}

#[test]
fn lint_fails_on_duplicate_build() {
    let e = errors("duplicate-build");
    assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), ["duplicate-build"], "{e:?}");
    let err = Kb::load_dir(&fixture("duplicate-build")).unwrap_err().to_string();
    assert!(err.contains("duplicate build 17700523"), "{err}");
}

#[test]
fn lint_fails_on_date_out_of_order() {
    let e = errors("date-order");
    assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), ["date-order"], "{e:?}");
    assert!(e[0].1.contains("17700523"), "{e:?}");
    // The loader sorts, so the data still loads.
    assert_eq!(Kb::load_dir(&fixture("date-order")).unwrap().latest(b("6.7")).unwrap().build, 18828794);
}

#[test]
fn lint_allows_ties_and_explained_exceptions() {
    assert_eq!(errors("date-tie"), []);
    assert!(lint(&fixture("date-tie")).iter().all(|p| p.rule != "build-order"));
    assert_eq!(errors("order-exception"), []);
}

#[test]
fn lint_fails_on_a_profile_of_another_build() {
    let e = errors("profile-mismatch");
    assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), ["profile-mismatch"], "{e:?}");
    assert!(e[0].1.contains("ESXi-7.0U1sc-17325020-standard"), "{e:?}");
}

#[test]
fn lint_and_loader_refuse_invalid_values() {
    let e = errors("wrong-branch");
    assert_eq!(e.iter().map(|x| x.0).collect::<Vec<_>>(), ["branch"], "{e:?}");
    let e = errors("bad-cvss");
    assert!(e.len() == 1 && e[0].1.contains("CVSS 88"), "{e:?}");
    let e = errors("bad-date");
    assert!(e.len() == 1 && e[0].1.contains("2021-02-30"), "{e:?}");
    let err = Kb::load_dir(&fixture("bad-cvss")).unwrap_err().to_string();
    assert!(err.contains("VMSA-2021-0002.toml") && err.contains("outside 0-10"), "{err}");
    let err = Kb::load_dir(&fixture("no-such-dir")).unwrap_err().to_string();
    assert!(err.starts_with("read knowledge base") && err.contains("no-such-dir"), "{err}");
}

#[test]
fn security_only_image_of_the_fixing_patch_carries_its_sg_bulletin() {
    let kb = Kb::embedded().expect("built-in KB");
    let ids = |build| kb.exposures(build).iter().map(|e| e.advisory.id.clone()).collect::<Vec<_>>();
    // 6.7 P06 (ESXi670-202111001): full image 18828794, security-only image
    // 18812553. VMSA-2022-0001/0004 name 18828794 with ESXi670-202111101-SG,
    // a security bulletin both images carry.
    for build in [18828794, 18812553] {
        let e = ids(build);
        assert!(!e.contains(&"VMSA-2022-0001".to_string()), "{build}: {e:?}");
        assert!(!e.contains(&"VMSA-2022-0004".to_string()), "{build}: {e:?}");
        // Later advisories still apply to both.
        assert!(e.contains(&"VMSA-2022-0030".to_string()), "{build}: {e:?}");
    }
    let a = kb.advisory("VMSA-2022-0001").expect("VMSA-2022-0001");
    let fix = a.fix_for("6.7".parse().expect("branch")).expect("6.7 fix");
    assert_eq!(fix.also_in, [18812553]);
    assert_eq!(a.fixed_in(kb.release(18812553).expect("row")), Some(true));
    // The security-only image of the previous bundle (P05, 17700514) does
    // not carry it.
    assert!(ids(17700514).contains(&"VMSA-2022-0001".to_string()));
    assert_eq!(a.fixed_in(kb.release(17700514).expect("row")), Some(false));
    // 6.5 P07 (ESXi650-202110001): security-only 18677441 with ESXi650-202110101-SG.
    assert!(!ids(18677441).contains(&"VMSA-2022-0001".to_string()));
    // A fix that is not a security bulletin (7.0 U3c) gets no siblings.
    assert!(a.fix_for("7.0".parse().expect("branch")).expect("7.0 fix").also_in.is_empty());
}

/// An advisory fixed on two update lines (`[[fix.line]]`): VMSA-2025-0004 is
/// fixed on 8.0 U2 by U2d 24585300 and on 8.0 U3 only by U3d 24585383. The
/// fix named for an 8.0 U3 build is U3d, and an 8.0 U3 build numbered
/// between the two is not fixed (issue 11: "the first fixed build of 8.0 is
/// ESXi80U2d-24585300" was printed for 8.0 U3 targets).
#[test]
fn a_fix_per_update_line_names_and_decides_the_lines_own_build() {
    let kb = Kb::embedded().expect("embedded");
    let a = kb.advisory("VMSA-2025-0004").expect("VMSA-2025-0004");
    let b80: Branch = "8.0".parse().expect("branch");
    let fix = a.fix_for(b80).expect("8.0 fix");
    let u3 = kb.release(24585383).expect("8.0 U3d").version;
    let u2 = kb.release(24585300).expect("8.0 U2d").version;
    assert_eq!(fix.first_fixed_for(Some(&u3)), (Some(24585383), Some("ESXi80U3d-24585383")));
    assert_eq!(fix.first_fixed_for(Some(&u2)), (Some(24585300), Some("ESXi80U2d-24585300")));
    assert_eq!(fix.first_fixed_for(None), (Some(24585300), Some("ESXi80U2d-24585300")));
    assert_eq!(fix.fixed_line_label(Some(&u3)), "8.0 U3");
    assert_eq!(fix.fixed_line_label(Some(&u2)), "8.0");
    // 8.0 U3c (24414501) is older than both; U3d and later are fixed.
    assert!(a.status_of(b80, 24414501).exposed());
    assert!(!a.status_of(b80, 24585383).exposed());

    // A knowledge base with an 8.0 U3 build between U2d and U3d.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let dir = std::env::temp_dir().join(format!("esxup-kb-fix-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&src, &dir);
    let p = dir.join("releases/8.0.toml");
    let mut text = std::fs::read_to_string(&p).expect("8.0.toml");
    text.push_str(
        "\n[[release]]\nbuild = 24585350\nversion = \"8.0.3\"\nupdate = \"3c\"\nname = \"ESXi 8.0 Update 3c (test)\"\nkind = \"patch\"\ndate = \"2025-03-04\"\nsources = [\"test\"]\n",
    );
    std::fs::write(&p, text).expect("write 8.0.toml");
    let kb = Kb::load_dir(&dir).expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    let a = kb.advisory("VMSA-2025-0004").expect("VMSA-2025-0004");
    assert_eq!(a.fix_for(b80).expect("8.0 fix").not_in, [24585350]);
    assert!(a.status_of(b80, 24585350).exposed(), "an 8.0 U3 build below U3d is not fixed");
    assert!(!a.status_of(b80, 24585300).exposed(), "8.0 U2d is fixed");
    assert!(kb.exposures(24585350).iter().any(|e| e.advisory.id == "VMSA-2025-0004"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let t = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}
