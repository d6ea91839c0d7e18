//! `esxup collect --rvtools FILE --out-dir DIR`: RVTools exports written
//! here with rust_xlsxwriter, under RVTools' own sheet and column names
//! (crates/esxup-collect/src/rvtools.rs cites them), then read back by
//! `collect`, and the facts folder checked and reported by `check
//! --facts-dir` and `report --facts-dir`.
//!
//! Cases: a full export of three hosts in two clusters (VMs, Tools,
//! snapshots, licences, NICs, HBAs); an export with only vHost and vInfo;
//! one whose vHost lacks ESX Version (renamed); a CSV, random bytes and a
//! truncated workbook; a host row with a bad build.

mod common;

use rust_xlsxwriter::{Format, Workbook};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const TODAY: &str = "2026-11-26";

/// A cell of a test sheet.
#[derive(Clone)]
enum V {
    S(&'static str),
    N(f64),
    /// An Excel date-time serial, written with a date format as RVTools does.
    D(f64),
}
use V::{D, N, S};

fn sheet(wb: &mut Workbook, name: &str, headers: &[&str], rows: &[Vec<V>]) {
    let date = Format::new().set_num_format("yyyy/mm/dd hh:mm:ss");
    let ws = wb.add_worksheet();
    ws.set_name(name).unwrap();
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match v {
                S("") => {}
                S(t) => {
                    ws.write_string(r, c, *t).unwrap();
                }
                N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                D(n) => {
                    ws.write_number_with_format(r, c, *n, &date).unwrap();
                }
            }
        }
    }
}

const VHOST: &[&str] = &[
    "Host",
    "Datacenter",
    "Cluster",
    "in Maintenance Mode",
    "CPU Model",
    "# CPU",
    "# Cores",
    "# Memory",
    "Assigned License(s)",
    "ESX Version",
    "Vendor",
    "Model",
    "Serial number",
    "UUID",
    "VI SDK Server",
];

fn host(name: &'static str, cluster: &'static str, esx: &'static str, lic: &'static str) -> Vec<V> {
    vec![
        S(name),
        S("DC1"),
        S(cluster),
        S("False"),
        S("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz"),
        N(2.0),
        N(28.0),
        N(262_144.0),
        S(lic),
        S(esx),
        S("Cisco Systems Inc"),
        S("UCSC-C240-M4SX"),
        S("FCH1234ABCD"),
        S("4c4c4544-0042-3010-8051-b4c04f4d4e31"),
        S("vc1.lab"),
    ]
}

const ENT: &str = "VMware vSphere 7 Enterprise Plus";
const STD: &str = "VMware vSphere 8 Standard";

fn vhost_rows(bad_build: bool) -> Vec<Vec<V>> {
    vec![
        host("esx01.lab", "ClusterA", "VMware ESXi 6.7.0 build-17700523", ENT),
        host(
            "esx02.lab",
            "ClusterA",
            if bad_build { "VMware ESXi 7.0.3 build-U3g" } else { "VMware ESXi 7.0.3 build-20328353" },
            ENT,
        ),
        host("esx03.lab", "ClusterB", "VMware ESXi 8.0.1 build-21813344", STD),
    ]
}

const VINFO: &[&str] = &[
    "VM",
    "Powerstate",
    "Template",
    "HW version",
    "Path",
    "Host",
    "OS according to the configuration file",
    "VM ID",
    "VM UUID",
];

fn vinfo_rows() -> Vec<Vec<V>> {
    let vm = |n, p, hw, host, id, uuid| {
        vec![
            S(n),
            S(p),
            S("False"),
            S(hw),
            S("[ds1] x/x.vmx"),
            S(host),
            S("Ubuntu Linux (64-bit)"),
            S(id),
            S(uuid),
        ]
    };
    let mut rows = vec![
        vm("web01", "poweredOn", "vmx-14", "esx01.lab", "vm-101", "u-101"),
        vm("db01", "poweredOff", "vmx-13", "esx01.lab", "vm-102", "u-102"),
        vm("app01", "poweredOn", "vmx-14", "esx01.lab", "vm-103", "u-103"),
        vm("web02", "poweredOn", "vmx-19", "esx02.lab", "vm-201", "u-201"),
        vm("mon01", "suspended", "vmx-20", "esx03.lab", "vm-301", "u-301"),
    ];
    // A template is not a VM of the host.
    let mut t = vm("tmpl-ubuntu", "poweredOff", "vmx-14", "esx01.lab", "vm-199", "u-199");
    t[2] = S("True");
    rows.push(t);
    rows
}

fn full_export(path: &Path, bad_build: bool) {
    let mut wb = Workbook::new();
    sheet(&mut wb, "vInfo", VINFO, &vinfo_rows());
    sheet(
        &mut wb,
        "vSnapshot",
        &["VM", "Powerstate", "Name", "Description", "Date / time", "Size MiB (total)", "Host", "VM UUID"],
        &[
            // 45306.43 is 2024-01-15 10:19 in Excel's date system.
            vec![
                S("web01"),
                S("poweredOn"),
                S("before-patch"),
                S(""),
                D(45306.43),
                N(2048.0),
                S("esx01.lab"),
                S("u-101"),
            ],
            vec![
                S("web01"),
                S("poweredOn"),
                S("after-patch"),
                S(""),
                S("2024/02/01 08:00:00"),
                N(512.0),
                S("esx01.lab"),
                S("u-101"),
            ],
            vec![
                S("web02"),
                S("poweredOn"),
                S("pre-upgrade"),
                S(""),
                D(45500.0),
                N(100.0),
                S("esx02.lab"),
                S("u-201"),
            ],
        ],
    );
    sheet(
        &mut wb,
        "vTools",
        &[
            "VM",
            "Powerstate",
            "Template",
            "VM Version",
            "Tools",
            "Tools Version",
            "Upgradeable",
            "Host",
            "VM UUID",
        ],
        &[
            vec![
                S("web01"),
                S("poweredOn"),
                S("False"),
                S("14"),
                S("toolsOld"),
                N(10346.0),
                S("Yes"),
                S("esx01.lab"),
                S("u-101"),
            ],
            vec![
                S("db01"),
                S("poweredOff"),
                S("False"),
                S("13"),
                S("toolsNotInstalled"),
                N(0.0),
                S("No"),
                S("esx01.lab"),
                S("u-102"),
            ],
            vec![
                S("app01"),
                S("poweredOn"),
                S("False"),
                S("14"),
                S("toolsOk"),
                N(11365.0),
                S("No"),
                S("esx01.lab"),
                S("u-103"),
            ],
            vec![
                S("web02"),
                S("poweredOn"),
                S("False"),
                S("19"),
                S("toolsOk"),
                N(12352.0),
                S("No"),
                S("esx02.lab"),
                S("u-201"),
            ],
            vec![
                S("mon01"),
                S("suspended"),
                S("False"),
                S("20"),
                S("toolsOld"),
                N(11365.0),
                S("Yes"),
                S("esx03.lab"),
                S("u-301"),
            ],
        ],
    );
    sheet(&mut wb, "vHost", VHOST, &vhost_rows(bad_build));
    sheet(
        &mut wb,
        "vHBA",
        &[
            "Host",
            "Datacenter",
            "Cluster",
            "Device",
            "Type",
            "Status",
            "Bus",
            "Pci",
            "Driver",
            "Model",
            "WWN",
        ],
        &[vec![
            S("esx01.lab"),
            S("DC1"),
            S("ClusterA"),
            S("vmhba0"),
            S("Block SCSI"),
            S("Unknown"),
            N(2.0),
            S("0000:02:00.0"),
            S("lsi_mr3"),
            S("MegaRAID SAS Invader Controller"),
            S(""),
        ]],
    );
    sheet(
        &mut wb,
        "vNIC",
        &[
            "Host",
            "Datacenter",
            "Cluster",
            "Network Device",
            "Driver",
            "Speed",
            "Duplex",
            "MAC",
            "Switch",
            "PCI",
        ],
        &[
            vec![
                S("esx01.lab"),
                S(""),
                S(""),
                S("vmnic0"),
                S("ixgben"),
                N(10000.0),
                S("Full"),
                S("00:50:56:aa:bb:01"),
                S("vSwitch0"),
                S("0000:01:00.0"),
            ],
            vec![
                S("esx01.lab"),
                S(""),
                S(""),
                S("vmnic1"),
                S("ixgben"),
                N(10000.0),
                S("Full"),
                S("00:50:56:aa:bb:02"),
                S("vSwitch0"),
                S("0000:01:00.1"),
            ],
            vec![
                S("esx03.lab"),
                S(""),
                S(""),
                S("vmnic0"),
                S("ntg3"),
                N(1000.0),
                S("Full"),
                S("00:50:56:aa:cc:01"),
                S("vSwitch0"),
                S("0000:03:00.0"),
            ],
        ],
    );
    sheet(
        &mut wb,
        "vLicense",
        &["Name", "Key", "Labels", "Cost Unit", "Total", "Used", "Expiration Date", "Features"],
        &[
            vec![
                S(ENT),
                S("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"),
                S(""),
                S("cpuPackage"),
                N(8.0),
                N(4.0),
                S(""),
                S(""),
            ],
            vec![
                S(STD),
                S("FFFFF-GGGGG-HHHHH-IIIII-JJJJJ"),
                S(""),
                S("cpuPackage"),
                N(2.0),
                N(2.0),
                D(46387.0),
                S(""),
            ],
        ],
    );
    sheet(
        &mut wb,
        "vMetaData",
        &["RVTools major version", "RVTools version", "xlsx creation datetime", "Server"],
        &[vec![N(4.0), S("4.6.1.1"), D(46340.5), S("vc1.lab")]],
    );
    wb.save(path).unwrap();
}

fn esxup(args: &[&str]) -> Output {
    common::esxup_on(TODAY).args(args).output().expect("run esxup")
}

fn collect(file: &Path, dir: &Path) -> Output {
    common::esxup_on(TODAY)
        .args(["collect", "--rvtools"])
        .arg(file)
        .arg("--out-dir")
        .arg(dir)
        .output()
        .expect("run esxup collect")
}

fn facts(dir: &Path, host: &str) -> Value {
    let p = dir.join(format!("{host}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn vm<'a>(f: &'a Value, name: &str) -> &'a Value {
    f["vms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no VM {name}: {f}"))
}

fn tmp() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let x = t.path().join("export.xlsx");
    let d = t.path().join("facts");
    (t, x, d)
}

#[test]
fn a_full_export_becomes_one_facts_file_per_host_that_check_and_report_read() {
    let (_t, x, d) = tmp();
    full_export(&x, false);
    let out = collect(&x, &d);
    let err = common::stderr(&out);
    assert_eq!(common::code(&out), 0, "{err}");
    let listed = common::stdout(&out);
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(!err.contains("note:"), "no sheet is missing: {err}");
    assert!(err.contains("3 host(s) collected"), "{err}");

    let f1 = facts(&d, "esx01.lab");
    assert_eq!(f1["product"]["build"], 17700523);
    assert_eq!(f1["product"]["version"], "6.7.0");
    assert_eq!(f1["cluster"], "ClusterA");
    assert!(f1["source"].as_str().unwrap().starts_with("rvtools:"), "{}", f1["source"]);
    assert!(f1["source"].as_str().unwrap().ends_with("#vc1.lab"), "{}", f1["source"]);
    assert_eq!(f1["collected_on"], "2026-11-14");
    assert_eq!(f1["memory_bytes"], 262_144u64 << 20);
    assert_eq!(f1["cpu"]["sockets"], 2);
    assert_eq!(f1["cpu"]["cores"], 28);
    assert_eq!(f1["cpu"]["family"], Value::Null, "CPUID is not in an export");
    assert_eq!(f1["firmware"]["system_model"], "UCSC-C240-M4SX");
    assert_eq!(f1["maintenance_mode"], false);
    assert_eq!(f1["license"]["edition"], ENT);
    assert_eq!(f1["license"]["key_masked"], "*****-*****-*****-*****-EEEEE");
    assert!(!f1.to_string().contains("AAAAA"), "the licence key is masked");
    // What an export cannot know stays unknown, with a note.
    for k in ["vibs", "image_profile", "boot_device", "acceptance_level", "modules", "altbootbank", "slpd"] {
        assert_eq!(f1[k], Value::Null, "{k}");
    }
    let notes = f1["collection_notes"].to_string();
    assert!(notes.contains("not in an RVTools export") && notes.contains("Secure Boot"), "{notes}");
    assert!(notes.contains("datacenter: DC1"), "{notes}");
    // VMs: the template is left out; Tools and snapshots joined by VM.
    let vms = f1["vms"].as_array().unwrap();
    assert_eq!(vms.len(), 3, "{vms:?}");
    assert_eq!(vm(&f1, "web01")["tools_status"], "supported-old");
    assert_eq!(vm(&f1, "db01")["tools_status"], "not-installed");
    assert_eq!(vm(&f1, "app01")["tools_status"], "current");
    assert_eq!(vm(&f1, "web01")["hardware_version"], 14);
    assert_eq!(vm(&f1, "db01")["power_state"], "powered-off");
    assert_eq!(vm(&f1, "web01")["datastore"], "ds1");
    let snaps = vm(&f1, "web01")["snapshots"].as_array().unwrap().clone();
    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps[0]["created"], "2024-01-15");
    assert_eq!(snaps[1]["created"], "2024-02-01");
    assert_eq!(snaps[0]["size_bytes"], 2048u64 << 20);
    assert_eq!(vm(&f1, "app01")["snapshots"], serde_json::json!([]), "collected, none");
    let nics = f1["nics"].as_array().unwrap();
    assert_eq!(nics.len(), 2);
    assert_eq!(nics[0]["driver"], "ixgben");
    assert_eq!(nics[0]["speed_mbps"], 10000);
    assert_eq!(f1["storage_adapters"][0]["driver"], "lsi_mr3");
    let f3 = facts(&d, "esx03.lab");
    assert_eq!(f3["cluster"], "ClusterB");
    assert_eq!(f3["license"]["expires"], "2026-12-31");
    assert_eq!(f3["storage_adapters"], serde_json::json!([]), "vHBA read, none for this host");

    // check: every build identified, the Tools and snapshot counts of the export.
    let out = esxup(&["check", "--facts-dir", d.to_str().unwrap(), "--target", "8.0U3e", "--format", "json"]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&out)));
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3, "{v}");
    let row = |n: &str| hosts.iter().find(|h| h["name"] == n).unwrap_or_else(|| panic!("{n}: {v}")).clone();
    assert_eq!(row("esx01.lab")["release"], "ESXi 6.7 Patch 5");
    assert_eq!(row("esx02.lab")["build"], 20328353);
    assert!(row("esx02.lab")["release"].as_str().unwrap().contains("7.0 Update 3g"), "{}", row("esx02.lab"));
    assert!(row("esx03.lab")["release"].is_string(), "{}", row("esx03.lab"));
    assert_eq!(row("esx01.lab")["vms_tools"], 2, "toolsOld + toolsNotInstalled");
    assert_eq!(row("esx02.lab")["vms_tools"], 0);
    assert_eq!(row("esx03.lab")["vms_tools"], 1);
    assert_eq!(row("esx01.lab")["snapshots"], 2);
    assert_eq!(row("esx02.lab")["snapshots"], 1);
    assert_eq!(row("esx01.lab")["license"], ENT);
    assert!(hosts.iter().all(|h| h["error"].is_null()), "{v}");

    // report: the same rows, with their clusters.
    let out = esxup(&["report", "--facts-dir", d.to_str().unwrap(), "--target", "8.0U3e", "--format", "csv"]);
    assert_eq!(common::code(&out), 0, "{}", common::stderr(&out));
    let csv = common::stdout(&out);
    let line = |n: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{n},")))
            .unwrap_or_else(|| panic!("{n}: {csv}"))
            .to_string()
    };
    assert!(line("esx01.lab").starts_with("esx01.lab,ClusterA,17700523,ESXi 6.7 Patch 5,"), "{csv}");
    assert!(line("esx03.lab").starts_with("esx03.lab,ClusterB,21813344,"), "{csv}");
}

#[test]
fn missing_optional_tabs_still_write_the_hosts_and_say_which_tabs() {
    let (_t, x, d) = tmp();
    let mut wb = Workbook::new();
    sheet(&mut wb, "vInfo", VINFO, &vinfo_rows());
    sheet(&mut wb, "vHost", VHOST, &vhost_rows(false));
    wb.save(&x).unwrap();
    let out = collect(&x, &d);
    let err = common::stderr(&out);
    assert_eq!(common::code(&out), 0, "{err}");
    assert!(
        err.contains("note: ")
            && err.contains("no vTools, vSnapshot, vLicense, vNIC, vHBA, vMetaData sheet(s)"),
        "{err}"
    );
    let f = facts(&d, "esx01.lab");
    assert_eq!(f["product"]["build"], 17700523);
    assert_eq!(f["vms"].as_array().unwrap().len(), 3);
    assert_eq!(vm(&f, "web01")["tools_status"], Value::Null, "no vTools: unknown, not current");
    assert_eq!(vm(&f, "web01")["snapshots"], Value::Null, "no vSnapshot: not collected, not none");
    assert_eq!(f["nics"], Value::Null);
    assert_eq!(f["collected_on"], Value::Null);
    // The edition is on vHost; without vLicense the key stays unknown.
    assert_eq!(f["license"]["edition"], ENT);
    assert_eq!(f["license"]["key_masked"], Value::Null);
    // check says the snapshots were not collected rather than "none".
    let out = esxup(&[
        "check",
        "--facts",
        d.join("esx01.lab.json").to_str().unwrap(),
        "--target",
        "8.0U3e",
        "--format",
        "json",
    ]);
    let v: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::stderr(&out)));
    let snap: Vec<&Value> =
        v["findings"].as_array().unwrap().iter().filter(|f| f["id"] == "VM_SNAPSHOTS").collect();
    assert_eq!(snap.len(), 1, "{snap:?}");
    assert_eq!(snap[0]["severity"], "info", "{snap:?}");
    assert_eq!(snap[0]["key"], "check.unknown", "{snap:?}");
    assert_eq!(snap[0]["evidence"][0]["value"], "unknown", "{snap:?}");
}

#[test]
fn a_renamed_required_column_is_an_error_naming_sheet_column_and_columns_found() {
    let (_t, x, d) = tmp();
    let mut wb = Workbook::new();
    let renamed: Vec<&str> = VHOST.iter().map(|h| if *h == "ESX Version" { "Version" } else { *h }).collect();
    sheet(&mut wb, "vHost", &renamed, &vhost_rows(false));
    wb.save(&x).unwrap();
    let out = collect(&x, &d);
    let err = common::stderr(&out);
    assert_eq!(common::code(&out), 2, "{err}");
    assert!(err.contains("sheet vHost has no \"ESX Version\" column"), "{err}");
    assert!(err.contains("columns found: Host, Datacenter, Cluster,"), "{err}");
    assert!(err.contains("Version, Vendor"), "{err}");
    assert!(err.contains("hint: "), "{err}");
    assert!(!d.join("esx01.lab.json").exists());

    // The same for an optional sheet that is present without its VM column.
    let mut wb = Workbook::new();
    sheet(&mut wb, "vHost", VHOST, &vhost_rows(false));
    sheet(&mut wb, "vTools", &["Virtual machine", "Tools"], &[vec![S("web01"), S("toolsOk")]]);
    wb.save(&x).unwrap();
    let out = collect(&x, &d);
    let err = common::stderr(&out);
    assert_eq!(common::code(&out), 2, "{err}");
    assert!(
        err.contains("sheet vTools has no \"VM\" column (columns found: Virtual machine, Tools)"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_an_xlsx_workbook_is_refused() {
    let (t, x, d) = tmp();
    full_export(&x, false);
    let whole = std::fs::read(&x).unwrap();
    let csv = t.path().join("vHost.csv");
    std::fs::write(&csv, "Host,ESX Version\nesx01.lab,VMware ESXi 6.7.0 build-17700523\n").unwrap();
    let noise = t.path().join("noise.xlsx");
    std::fs::write(
        &noise,
        (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    let cut = t.path().join("cut.xlsx");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    for f in [&csv, &noise, &cut] {
        let out = collect(f, &d);
        let err = common::stderr(&out);
        assert_eq!(common::code(&out), 2, "{}: {err}", f.display());
        assert!(err.contains(&format!("read RVTools export {}: not an xlsx workbook", f.display())), "{err}");
        assert!(err.contains("hint: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // --rvtools needs --out-dir.
    let out = esxup(&["collect", "--rvtools", x.to_str().unwrap()]);
    assert_eq!(common::code(&out), 2);
    assert!(common::stderr(&out).contains("give --out-dir DIR"), "{}", common::stderr(&out));
}

#[test]
fn a_bad_build_is_an_error_row_and_the_other_hosts_are_written() {
    let (_t, x, d) = tmp();
    full_export(&x, true);
    let out = collect(&x, &d);
    let err = common::stderr(&out);
    assert_eq!(common::code(&out), 1, "{err}");
    assert!(
        err.contains("FAILED:")
            && err.contains("vHost row 3 (esx02.lab): ESX Version \"VMware ESXi 7.0.3 build-U3g\""),
        "{err}"
    );
    assert!(err.contains("2 host(s) collected"), "{err}");
    assert!(d.join("esx01.lab.json").exists() && d.join("esx03.lab.json").exists());
    assert!(!d.join("esx02.lab.json").exists());
    let out = esxup(&["check", "--facts-dir", d.to_str().unwrap(), "--target", "8.0U3e", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hosts"].as_array().unwrap().len(), 2, "{v}");
}
