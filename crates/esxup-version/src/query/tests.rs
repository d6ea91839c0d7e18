//! Parser tests on real strings; each names where the string was published.

use super::*;

fn p(s: &str) -> ParsedQuery {
    parse_query(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// A captured output with its `# source:` line(s) removed.
fn fixture(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n")
}

fn v(s: &str) -> Option<Version> {
    Some(s.parse().unwrap())
}

#[test]
fn bare_build() {
    // Broadcom KB 316595 (ex-KB 2143832) row "ESXi 6.7 P05 | ESXi670-202103001 | 2021/03/18 | 17700523".
    let q = p("17700523");
    assert_eq!(q.build, Some(17700523));
    assert_eq!(q.version, None);
    assert!(q.conflicts.is_empty());
    assert_eq!(p("  17700523\n").build, Some(17700523));
}

#[test]
fn compact_update_names() {
    // "7.0U3g" and the image profile below: VMware ESXi 7.0 Update 3g release notes
    // (research README, key facts; KB 316595 copy row "ESXi 7.0 Update 3g,2022/09/01,20328353").
    let q = p("7.0U3g");
    assert_eq!(q.version, v("7.0.3"));
    assert_eq!(q.update.as_deref(), Some("3g"));
    assert_eq!(q.build, None);
    assert_eq!(q.branch, Some(Branch::new(7, 0)));
    let q = p("7.0u3g");
    assert_eq!(q.update.as_deref(), Some("3g"));
    // "8.0U3e": Broadcom KB 395110 ("8.0U3e = 8.0.3-0.70.24674464").
    let q = p("8.0U3e");
    assert_eq!(q.version, v("8.0.3"));
    assert_eq!(q.update.as_deref(), Some("3e"));
}

#[test]
fn spelled_out_update_names() {
    // KB 316595 copy: "ESXi 7.0 Update 3g"; vmware -vl prints "VMware ESXi 8.0 Update 1".
    for s in
        ["7.0 Update 3g", "ESXi 7.0 Update 3g", "VMware ESXi 7.0 Update 3g", "ESXi 7.0 U3g", "7.0 update3g"]
    {
        let q = p(s);
        assert_eq!(q.version, v("7.0.3"), "{s}");
        assert_eq!(q.update.as_deref(), Some("3g"), "{s}");
        assert!(q.conflicts.is_empty(), "{s}: {:?}", q.conflicts);
    }
    // 6.x keeps z = 0 and the update apart (esxcli on 6.7 U3 prints Version: 6.7.0, Update: 3).
    let q = p("ESXi 6.7 Update 3");
    assert_eq!(q.version, v("6.7.0"));
    assert_eq!(q.update.as_deref(), Some("3"));
}

#[test]
fn bare_versions_and_branches() {
    let q = p("7.0.3");
    assert_eq!(q.version, v("7.0.3"));
    assert_eq!(q.update, None);
    assert_eq!(q.build, None);
    let q = p("ESXi 8.0");
    assert_eq!(q.version, None);
    assert_eq!(q.branch, Some(Branch::new(8, 0)));
    // 6.x: the branch fixes the version.
    assert_eq!(p("ESXi 6.7").version, v("6.7.0"));
    // 7.0 GA.
    let q = p("ESXi 7.0 GA");
    assert!(q.ga);
    assert_eq!(q.version, v("7.0.0"));
}

#[test]
fn vmware_v_outputs() {
    // tests/fixtures/vmware-v__1.txt: yoshi0808/new-technology esxi67-patch.md.
    let q = p(&fixture(include_str!("../../tests/fixtures/vmware-v__1.txt")));
    assert_eq!((q.version, q.build), (v("8.0.3"), Some(24414501)));
    // tests/fixtures/vmware-v__2.txt: lamw/ghettoVCB issue 211.
    let q = p(&fixture(include_str!("../../tests/fixtures/vmware-v__2.txt")));
    assert_eq!((q.version, q.build), (v("7.0.1"), Some(17168206)));
    // The form the issue names: KB 316595 build of ESXi 6.7 P05 as `vmware -v` prints it.
    let q = p("VMware ESXi 6.7.0 build-17700523");
    assert_eq!((q.version, q.build), (v("6.7.0"), Some(17700523)));
}

#[test]
fn vmware_vl_output() {
    // tests/fixtures/vmware-vl__1.txt: central-x/central-x.github.io docs/blogs/vmware/esxi/upgrade.md.
    let q = p(&fixture(include_str!("../../tests/fixtures/vmware-vl__1.txt")));
    assert_eq!(q.version, v("8.0.1"));
    assert_eq!(q.build, Some(21813344));
    assert_eq!(q.update.as_deref(), Some("1"));
    assert!(q.conflicts.is_empty(), "{:?}", q.conflicts);
}

#[test]
fn esxcli_system_version_get() {
    // tests/fixtures/esxcli-system-version-get__1.txt: yoshi0808/new-technology esxi-upgrade8.md.
    let q = p(&fixture(include_str!("../../tests/fixtures/esxcli-system-version-get__1.txt")));
    assert_eq!(q.version, v("8.0.1"));
    assert_eq!(q.build, Some(21495797));
    assert_eq!(q.update.as_deref(), Some("1"));
    assert_eq!(q.esxcli_patch, Some(0));
    assert!(q.conflicts.is_empty());
}

#[test]
fn esxcli_inconsistent_paste_is_read_as_given() {
    // The issue's example: Version 7.0.2 with the build of 7.0 U3g. The parser keeps
    // both; the knowledge base reports the mismatch.
    let q = p("   Product: VMware ESXi\n   Version: 7.0.2\n   Build: Releasebuild-20328353\n   Update: 2\n   Patch: 0\n");
    assert_eq!(q.version, v("7.0.2"));
    assert_eq!(q.build, Some(20328353));
    // Inside the text itself, Version and Update must agree on 7.0+.
    let q = p("Version: 7.0.2\nBuild: Releasebuild-20328353\nUpdate: 3\n");
    assert_eq!(q.conflicts.len(), 1, "{:?}", q.conflicts);
}

#[test]
fn esxcli_output_pasted_on_one_line() {
    // `esxup build $(esxcli system version get)` joins the lines with spaces
    // (values of tests/fixtures/esxcli-system-version-get__1.txt).
    let q = p("Product: VMware ESXi Version: 8.0.1 Build: Releasebuild-21495797 Update: 1 Patch: 0");
    assert_eq!((q.version, q.build, q.update.as_deref()), (v("8.0.1"), Some(21495797), Some("1")));
    assert_eq!((q.patch, q.esxcli_patch), (None, Some(0)));
    assert!(q.conflicts.is_empty(), "{:?}", q.conflicts);
}

#[test]
fn esxcli_formatter_json_and_xml() {
    // No captured sample exists in the research outputs: these follow esxcli's
    // documented --formatter layouts (field names as the plain output prints
    // them), with the values of ESXi 6.7 P05 from KB 316595.
    let json = r#"{"Build": "Releasebuild-17700523", "Patch": 89, "Product": "VMware ESXi", "Update": 3, "Version": "6.7.0"}"#;
    let q = p(json);
    assert_eq!((q.version, q.build, q.update.as_deref()), (v("6.7.0"), Some(17700523), Some("3")));
    assert_eq!((q.patch, q.esxcli_patch), (None, Some(89)));
    let xml = r#"<?xml version="1.0" ?>
<output xmlns="http://www.vmware.com/Products/ESX/5.0/esxcli">
<root>
   <structure typeName="VersionGet">
      <field name="Build">
         <string>Releasebuild-17700523</string>
      </field>
      <field name="Patch">
         <integer>89</integer>
      </field>
      <field name="Product">
         <string>VMware ESXi</string>
      </field>
      <field name="Update">
         <integer>3</integer>
      </field>
      <field name="Version">
         <string>6.7.0</string>
      </field>
   </structure>
</root>
</output>"#;
    let q = p(xml);
    assert_eq!((q.version, q.build, q.update.as_deref()), (v("6.7.0"), Some(17700523), Some("3")));
    assert_eq!((q.patch, q.esxcli_patch), (None, Some(89)));
    assert!(q.conflicts.is_empty(), "{:?}", q.conflicts);
}

#[test]
fn releasebuild_alone() {
    let q = p("Releasebuild-20328353");
    assert_eq!(q.build, Some(20328353));
    assert_eq!(p("Build: Releasebuild-20328353").build, Some(20328353));
}

#[test]
fn image_profiles() {
    // 7.0+: the build is in the profile name (research README key facts, 7.0 U3g).
    let q = p("ESXi-7.0U3g-20328353-standard");
    assert_eq!(q.profile.as_deref(), Some("ESXi-7.0U3g-20328353-standard"));
    assert_eq!((q.version, q.build), (v("7.0.3"), Some(20328353)));
    assert_eq!(q.update.as_deref(), Some("3g"));
    // 6.x: a dated patch id, not a build (KB 316595 copy / supplement row for 17700523).
    let q = p("ESXi-6.7.0-20210304001-standard");
    assert_eq!(q.profile.as_deref(), Some("ESXi-6.7.0-20210304001-standard"));
    assert_eq!((q.version, q.build), (v("6.7.0"), None));
    assert_eq!(
        p("ESXi-6.7.0-20210304001-no-tools").profile.as_deref(),
        Some("ESXi-6.7.0-20210304001-no-tools")
    );
    // 9.x: `<patch level>.<build>` (ESX 9.0.1.0 release notes name
    // ESXi-9.0.1-0.24957456-standard and -no-tools).
    let q = p("ESXi-9.0.1-0.24957456-standard");
    assert_eq!(q.profile.as_deref(), Some("ESXi-9.0.1-0.24957456-standard"));
    assert_eq!((q.version, q.build), (v("9.0.1"), Some(24957456)));
    assert_eq!(p("ESXi-9.0.1-0.24957456-no-tools").build, Some(24957456));
    // Not a profile: a dot that is not `<digits>.<digits>`.
    assert!(parse_query("ESXi-9.0.1-0.x-standard").is_err());
    // Security-only profile of 8.0 U3e (blog quoting the 8.0U3e release notes, supplement row 62).
    let q = p("ESXi-8.0U3se-24659227-standard");
    assert_eq!((q.version, q.build, q.update.as_deref()), (v("8.0.3"), Some(24659227), Some("3se")));
    // tests/fixtures/esxcli-software-profile-get__1.txt: yoshi0808/new-technology esxi67-patch.md.
    let q = p(&fixture(include_str!("../../tests/fixtures/esxcli-software-profile-get__1.txt")));
    assert_eq!(q.profile.as_deref(), Some("ESXi-8.0U3b-24280767-standard"));
    assert_eq!(q.build, Some(24280767));
    assert!(q.conflicts.is_empty(), "{:?}", q.conflicts);
}

#[test]
fn eight_oh_style_versions() {
    // Broadcom KB 395110: 8.0U3e = 8.0.3-0.70.24674464.
    let q = p("8.0.3-0.70.24674464");
    assert_eq!((q.version, q.build), (v("8.0.3"), Some(24674464)));
    // The same form for 6.5 (supplement row: 6.5.0-3.149.17167537, ESXi 6.5 EP 23).
    let q = p("6.5.0-3.149.17167537");
    assert_eq!((q.version, q.build), (v("6.5.0"), Some(17167537)));
    // 9.0 writes four parts (vmware/vcfcheck Esx.json: 9.0.0.0.24755229).
    let q = p("9.0.0.0.24755229");
    assert_eq!((q.version, q.build), (v("9.0.0"), Some(24755229)));
}

#[test]
fn bulletins() {
    // KB 316595 row: ESXi670-202103001 = 6.7 P05.
    let q = p("ESXi670-202103001");
    assert_eq!(q.bulletin.as_deref(), Some("ESXi670-202103001"));
    assert_eq!(q.version, v("6.7.0"));
    assert_eq!(q.build, None);
    // Research README: the VMSA-2021-0002 fixes ESXi70U1c-17325551 and ESXi650-202102101-SG.
    let q = p("ESXi70U1c-17325551");
    assert_eq!((q.version, q.build, q.update.as_deref()), (v("7.0.1"), Some(17325551), Some("1c")));
    let q = p("ESXi650-202102101-SG");
    assert_eq!(q.bulletin.as_deref(), Some("ESXi650-202102101-SG"));
    assert_eq!(q.version, v("6.5.0"));
    // VMware's own table has a stray space: "ESXi 670-202011002" (KB 316595 row for 6.7 P04).
    let q = p("ESXi 670-202011002");
    assert_eq!(q.version, v("6.7.0"));
    assert!(q.bulletin.is_some());
}

#[test]
fn patch_names() {
    // KB 316595 rows "ESXi 6.7 P05" and "ESXi 6.7 EP 23".
    let q = p("ESXi 6.7 P05");
    assert_eq!(q.patch, Some(PatchRef { express: false, number: 5 }));
    assert_eq!(q.version, v("6.7.0"));
    let q = p("6.7 EP 23");
    assert_eq!(q.patch, Some(PatchRef { express: true, number: 23 }));
    assert_eq!(p("6.7 Patch 5").patch, Some(PatchRef { express: false, number: 5 }));
    assert_eq!(p("6.7 Express Patch 23").patch, Some(PatchRef { express: true, number: 23 }));
    assert_eq!(p("6.7 EP23").patch.map(|p| p.to_string()).as_deref(), Some("EP 23"));
    assert_eq!(patch_ref_in("ESXi 6.7 P05").map(|p| p.to_string()).as_deref(), Some("P05"));
    assert_eq!(patch_ref_in("ESXi 6.7 Patch 5"), Some(PatchRef { express: false, number: 5 }));
    assert_eq!(patch_ref_in("ESXi 7.0 Update 3g"), None);
}

#[test]
fn latest_names() {
    for s in ["latest-7.0", "latest 7.0", "LATEST-7.0"] {
        let q = p(s);
        assert!(q.latest, "{s}");
        assert_eq!(q.branch, Some(Branch::new(7, 0)), "{s}");
    }
}

#[test]
fn update_agreement() {
    assert!(update_agrees("3", Some("3g")));
    assert!(update_agrees("3g", Some("3g")));
    assert!(!update_agrees("3g", Some("3f")));
    assert!(!update_agrees("2", Some("3g")));
    assert!(update_agrees("0", None));
}

#[test]
fn refuses_text_without_a_version() {
    for s in ["", "   ", "hello world", "VMware ESXi", "10.1.2.3 is my host"] {
        assert!(parse_query(s).is_err(), "{s:?} -> {:?}", parse_query(s));
    }
}

#[test]
fn ga_line_letters() {
    // KB 316595 copy: "ESXi 7.0b" (2020-06-23); its security-only profile
    // ESXi-7.0bs-16321839-standard (esxcli profile list dump, data/releases/7.0.toml).
    let q = p("7.0b");
    assert_eq!((q.letter.as_deref(), q.version), (Some("b"), v("7.0.0")));
    let q = p("ESXi-7.0bs-16321839-standard");
    assert_eq!((q.letter.as_deref(), q.build), (Some("bs"), Some(16321839)));
    // 6.x security-only profiles end the dated id with "s" (virten.net snapshot, 6.0b).
    let q = p("ESXi-6.0.0-20150701001s-standard");
    assert_eq!((q.version, q.build), (v("6.0.0"), None));
    assert!(q.profile.is_some());
}

#[test]
fn odd_input_never_panics() {
    // Pastes with non-ASCII, truncated ids and stray punctuation: an answer or an error.
    for s in [
        "ESXiaé-202102101",
        "éVersion: 7.0.3",
        "Build:",
        "Version:Build:",
        "x Patch: 5 Version:",
        "ESXié-1",
        "ESXi-",
        "ESXi--",
        "ESXi-7.0U-1-x",
        "build-",
        "Releasebuild-abc",
        "7.",
        ".7",
        "7..0",
        "latest",
        "latest-",
        "U",
        "Update",
        "P",
        "EP",
        "Express Patch",
        "ESXi 670-",
        "Version:",
        "Build:\nUpdate:\nPatch: x",
        "9999999999",
        "8.0.3-",
        "8.0.3-0.70.",
        "ビルド 17700523",
        "ESXi 7.0 Update 3g（日本語）",
        "\u{feff}17700523",
    ] {
        let _ = parse_query(s);
    }
    assert_eq!(p("ビルド 17700523").build, Some(17700523));
    // A byte-order mark from a Windows clipboard.
    assert_eq!(p("\u{feff}17700523").build, Some(17700523));
}
