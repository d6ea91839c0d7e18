//! The strict lint over every file of the repository's `data/`, and facts the
//! data must hold whatever else it grows to contain.

use esxup_kb::{lint, update_line, Kb, LifecycleStatus, Severity};
use esxup_version::{Branch, Date};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

#[test]
fn kb_lint() {
    let problems = lint(&data_dir());
    for p in &problems {
        eprintln!("{p}");
    }
    let errors: Vec<String> =
        problems.iter().filter(|p| p.severity == Severity::Error).map(ToString::to_string).collect();
    assert!(errors.is_empty(), "data/ has lint errors:\n{}", errors.join("\n"));
}

#[test]
fn embedded_matches_the_folder() {
    let embedded = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    let dir = Kb::load_dir(&data_dir()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(embedded.releases().len(), dir.releases().len(), "rebuild: data/ changed since the build");
    // The built-in copy is read from its build-time JSON form: it must equal the TOML.
    assert_eq!(embedded.releases(), dir.releases());
    assert_eq!(embedded.advisories(), dir.advisories());
    assert_eq!(embedded.lifecycles(), dir.lifecycles());
    assert_eq!(embedded.upgrade_paths(), dir.upgrade_paths());
    assert_eq!(embedded.vm_hardware(), dir.vm_hardware());
    assert_eq!(embedded.notes(), dir.notes());
    assert!(esxup_kb::lint_embedded().iter().all(|p| p.severity != Severity::Error));
}

#[test]
fn seed_facts() {
    // Broadcom KB 316595 row: ESXi 6.7 P05 | ESXi670-202103001 | 2021/03/18 | 17700523.
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    let r = kb.release(17700523).expect("17700523 in data/releases/6.7.toml");
    assert_eq!(r.version.branch(), Branch::new(6, 7));
    assert!(r.name == "ESXi 6.7 Patch 5" || r.name == "ESXi 6.7 P05", "{}", r.name);
    assert_eq!(r.bulletin.as_deref(), Some("ESXi670-202103001"));
    assert_eq!(r.release_date, "2021-03-18".parse::<Date>().unwrap());
    // 6.7 ended general support on 2022-10-15 (research README, lifecycle).
    let late = "2026-11-26".parse().unwrap();
    assert!(matches!(
        kb.status(Branch::new(6, 7), late),
        LifecycleStatus::TechnicalGuidance | LifecycleStatus::EndOfLife
    ));
    // Research README key facts.
    assert_eq!(kb.release(18828794).map(|r| r.bulletin.as_deref()), Some(Some("ESXi670-202111001")));
    assert_eq!(kb.resolve_str("7.0U3g").map(|r| r.release.build).ok(), Some(20328353));
    assert_eq!(kb.resolve_str("7.0 Update 2a").map(|r| r.release.build).ok(), Some(17867351));
    assert!(kb.resolve_str("latest-7.0").is_ok());
    assert!(kb.resolve_str("latest-8.0").is_ok());
}

#[test]
fn withdrawn_releases_are_the_pulled_70_u3_line() {
    // The Register ('VMware recalls full vSphere update over driver dramas')
    // and the 7.0 U3c row: U3, U3a and U3b were pulled and re-released as U3c.
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    let mut pulled: Vec<u32> =
        kb.releases().iter().filter(|r| r.withdrawn.is_some()).map(|r| r.build).collect();
    pulled.sort();
    assert_eq!(pulled, [18644231, 18825058, 18905247]);
    for b in pulled {
        let w = kb.release(b).and_then(|r| r.withdrawn.clone()).unwrap_or_default();
        assert!(w.contains("19193900"), "{b}: withdrawn text names the replacement 7.0 U3c: {w}");
    }
    assert_eq!(kb.release(19193900).map(|r| r.withdrawn.is_some()), Some(false));
}

#[test]
fn every_release_resolves_by_its_own_names() {
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    for r in kb.releases() {
        let got = kb.resolve_str(&r.build.to_string()).map(|x| x.release.build);
        assert_eq!(got, Ok(r.build));
        for p in &r.image_profiles {
            let got = kb.resolve_str(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert!(got.release.image_profiles.contains(p), "{p} resolved to {}", got.release.build);
        }
        let v = format!("VMware ESXi {} build-{}", r.version, r.build);
        let got = kb.resolve_str(&v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert!(got.inconsistencies.is_empty(), "{v}: {:?}", got.inconsistencies);
    }
}

#[test]
fn every_advisory_fix_is_on_its_branch() {
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    for a in kb.advisories() {
        for f in &a.fixes {
            if let Some(r) = f.build.and_then(|b| kb.release(b)) {
                assert_eq!(r.version.branch(), f.branch, "{} fix {}", a.id, r.build);
                // The fixed build itself is not exposed to the advisory.
                assert!(kb.exposures(r.build).iter().all(|e| e.advisory.id != a.id), "{} {}", a.id, r.build);
            }
        }
    }
}

#[test]
fn latest_is_on_the_highest_update_line() {
    // VMware ships back-in-time builds (data/vm-hardware.toml notes 7.0 U1e
    // after 7.0 U3c); the newest of a branch is the top of its highest line.
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    for b in kb.branches() {
        let latest = kb.latest(b).expect("a branch with releases has a latest");
        let top = kb.branch_releases(b).map(update_line).max();
        assert_eq!(Some(update_line(latest)), top, "{b}: {}", latest.name);
    }
}

#[test]
fn back_in_time_builds_keep_their_line_hardware() {
    // data/vm-hardware.toml: 7.0 U1e (19324898) came after 7.0 U3c but is on the
    // 7.0 U1 line, so it supports vmx-18 (7.0 U1), not vmx-19 (7.0 U2).
    let kb = Kb::embedded().unwrap_or_else(|e| panic!("{e}"));
    for r in kb.releases() {
        let line = update_line(r);
        // Every release of one update line supports at most what the line's newest build does,
        // and never less than an older build of the same line.
        for s in
            kb.branch_releases(r.version.branch()).filter(|s| update_line(s) == line && s.build < r.build)
        {
            assert!(s.max_vm_hardware <= r.max_vm_hardware, "{} vs {}", s.build, r.build);
        }
    }
    if let Some(u1e) = kb.release(19324898).filter(|r| r.update.as_deref() == Some("1e")) {
        assert_eq!(u1e.max_vm_hardware, Some(18), "{}", u1e.name);
    }
}
