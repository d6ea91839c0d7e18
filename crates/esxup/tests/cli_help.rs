//! The help lists only what works, and every flag it documents has a test.
//!
//! `every_documented_flag_has_a_test` walks `esxup --help` and the help of
//! every command, and requires each long flag to appear (as `"--flag"`) in
//! some test of this crate; the flags that had none get their tests here.
//! The README's examples use only flags the help offers. Completions and
//! man pages come from the same clap definition.

mod common;
#[path = "../../esxup-collect/tests/vim_sim.rs"]
mod sim;

use common::{code, stderr, stdout};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

fn esxup(args: &[&str]) -> Output {
    common::esxup_on("2026-11-26").args(args).output().expect("run esxup")
}

fn help(path: &[&str]) -> String {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let o = esxup(&args);
    assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// The subcommand names of a help text's `Commands:` section.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_string)
        .collect()
}

/// The long flags an `Options:` section offers (`--format`, not `--dry-run` in prose).
fn flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .flat_map(|l| {
            l.split([' ', ',', '=', '<', '['])
                .map(|w| w.trim_end_matches([':', ';', '.', ')', ']', '`']))
                .filter(|w| w.starts_with("--") && w.len() > 2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|f| f != "--help" && f != "--version")
        .collect()
}

/// Every command path (`["depot", "dry-run"]`) with its help.
fn all_commands() -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = todo.pop() {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let h = help(&refs);
        for s in subcommands(&h) {
            let mut p = path.clone();
            p.push(s);
            todo.push(p);
        }
        out.push((path, h));
    }
    out
}

/// Commands whose tests live with the runner that is being built (`esxup
/// run`, `journal`, `verify`): their flags are covered there, not here.
const COVERED_ELSEWHERE: &[&str] = &["run", "journal", "verify"];

#[test]
fn every_documented_flag_has_a_test() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let tests: String = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut missing = Vec::new();
    let commands = all_commands();
    assert!(commands.len() > 15, "{}", commands.len());
    for (path, h) in &commands {
        if path.first().is_some_and(|c| COVERED_ELSEWHERE.contains(&c.as_str())) {
            continue;
        }
        for f in flags(h) {
            if !tests.contains(&format!("\"{f}\"")) {
                missing.push(format!("esxup {} {f}", path.join(" ")));
            }
        }
    }
    assert!(missing.is_empty(), "flags without a test:\n{}", missing.join("\n"));
}

#[test]
fn the_readme_uses_only_flags_the_help_offers() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    let commands = all_commands();
    let mut bad = Vec::new();
    // Each `esxup CMD [SUB] ... --flag` in backquotes or a code block.
    for line in readme.lines() {
        for (i, _) in line.match_indices("esxup ") {
            let rest = &line[i + 6..];
            let end = rest.find(['`', '|']).unwrap_or(rest.len());
            let words: Vec<&str> = rest[..end].split_whitespace().collect();
            let Some(first) = words.first() else { continue };
            let path: Vec<String> = match commands
                .iter()
                .find(|(p, _)| p.len() == 2 && p[0] == *first && words.get(1) == Some(&p[1].as_str()))
            {
                Some((p, _)) => p.clone(),
                None => vec![first.to_string()],
            };
            let Some((_, h)) = commands.iter().find(|(p, _)| *p == path) else { continue };
            let offered = flags(h);
            for w in words.iter().filter(|w| w.starts_with("--") && w.len() > 2) {
                let f = w.split('=').next().unwrap().trim_end_matches([',', ')', '.', ';']);
                if !offered.contains(f) && f != "--help" && f != "--version" {
                    bad.push(format!("README: esxup {} {f}", path.join(" ")));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    let commands = all_commands();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = esxup(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        for (path, h) in &commands {
            if let Some(last) = path.last() {
                assert!(text.contains(last.as_str()), "{shell} completion lacks {last}");
            }
            if shell == "bash" {
                for f in flags(h) {
                    assert!(text.contains(&f), "bash completion lacks {f} of {path:?}");
                }
            }
        }
    }
    let o = esxup(&["completions", "tcsh"]);
    assert_eq!(code(&o), 2, "an unknown shell is a usage error");

    let page = stdout(&esxup(&["man"]));
    assert!(page.starts_with(".ie") || page.contains(".TH esxup 1"), "{page}");
    assert!(page.contains("check") && page.contains("completions"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let o = esxup(&["man", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for (path, _) in &commands {
        let name =
            if path.is_empty() { "esxup.1".to_string() } else { format!("esxup-{}.1", path.join("-")) };
        let p = out.join(&name);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.contains(".TH"), "{name}");
    }
    let o = esxup(&["man", "-o", dir.path().join("short").to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert!(dir.path().join("short/esxup-plan.1").exists());
}

// --- Tests for the flags that had none --------------------------------------

/// `check --jobs N` gives the same fleet summary as the default.
#[test]
fn check_jobs_does_not_change_the_answer() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let ex = examples.to_str().unwrap();
    let one = esxup(&["check", "--facts-dir", ex, "--target", "latest-8.0", "--jobs", "1"]);
    let four = esxup(&["check", "--facts-dir", ex, "--target", "latest-8.0", "--jobs", "4"]);
    assert_eq!(stdout(&one), stdout(&four));
    assert_eq!(code(&one), code(&four));
    assert_eq!(stdout(&one).lines().count(), 5, "{}", stdout(&one));
}

/// `plan --output FILE` and `collect --output FILE` (the long form of `-o`).
#[test]
fn output_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.html");
    let o = esxup(&[
        "plan",
        "--example",
        "clean-70u3",
        "--target",
        "8.0U3",
        "--format",
        "html",
        "--output",
        plan.to_str().unwrap(),
    ]);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(std::fs::read_to_string(&plan).unwrap().contains("<html"));
    assert!(stderr(&o).contains(plan.to_str().unwrap()), "{}", stderr(&o));

    // Saved outputs of a host (the same fixtures as tests/cli_collect.rs).
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-facts/tests/fixtures");
    let from = dir.path().join("outputs");
    std::fs::create_dir_all(&from).unwrap();
    let list = std::fs::read_to_string(fx.join("host-a.list")).unwrap();
    for l in list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (name, f) = l.split_once(' ').unwrap();
        let text = std::fs::read_to_string(fx.join(f.trim())).unwrap();
        std::fs::write(from.join(name), text.split_once('\n').map(|x| x.1).unwrap_or("")).unwrap();
    }
    let facts = dir.path().join("facts.json");
    let o = esxup(&["collect", "--from-dir", from.to_str().unwrap(), "--output", facts.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&facts).unwrap()).unwrap();
    assert_eq!(v["schema_version"], 1);
}

fn synthetic_depot(dir: &Path) -> PathBuf {
    let root = dir.join("depot");
    common::write_synthetic_depot(&root);
    root
}

/// `depot dry-run --allow-downgrades` installs what `profile update` would
/// skip; `--install --ok-to-remove` lets the image replace the host's.
#[test]
fn dry_run_allow_downgrades_and_ok_to_remove() {
    let dir = tempfile::tempdir().unwrap();
    let root = synthetic_depot(dir.path());
    let run = |extra: &[&str]| {
        let mut args = vec!["depot", "dry-run", "--depot", root.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let o = esxup(&args);
        (
            code(&o),
            serde_json::from_slice::<serde_json::Value>(&o.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", stderr(&o))),
        )
    };
    let host = root.join("hosts/6.7-P06-like.viblist");
    let h = host.to_str().unwrap();
    let (c, v) = run(&["--profile", "ESXi-7.0U2a-17867351-standard", "--vib-list", h]);
    assert_eq!((c, v["succeeds"].clone()), (1, false.into()));
    let (c, v) = run(&["--profile", "ESXi-7.0U2a-17867351-standard", "--vib-list", h, "--allow-downgrades"]);
    assert_eq!((c, v["succeeds"].clone()), (0, true.into()), "{v}");
    assert_eq!(v["transaction"]["allow_downgrades"], true);
    assert!(v["command"].as_str().unwrap().ends_with("--dry-run --allow-downgrades"), "{}", v["command"]);

    let hp = [
        "--profile",
        "ESXi-7.0U3g-20328353-standard",
        "--host-profile",
        "SYNTH-6.7-P06-like-host-HPE-EP23-19195723",
        "--install",
    ];
    let (c, v) = run(&hp);
    assert_eq!((c, v["succeeds"].clone()), (1, false.into()));
    let mut ok = hp.to_vec();
    ok.push("--ok-to-remove");
    let (c, v) = run(&ok);
    assert_eq!((c, v["succeeds"].clone()), (0, true.into()), "{v}");
    assert!(!v["transaction"]["removed"].as_array().unwrap().is_empty());
}

/// `--ca-file` trusts the simulator's CA (no thumbprint pinned) for
/// `check`, `plan` and `collect`; an unreadable file is an error naming it.
#[test]
fn ca_file_trusts_the_server_certificate() {
    let s = sim::Sim::start(&["-mode", "esx", "-product", "6.7.0", "-vms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{}\n", sim::PASSWORD)).unwrap();
    let ca = s.ca_file.to_str().unwrap().to_string();
    let base = |cmd: &str| -> Vec<String> {
        [cmd, "--host", &s.url, "--user", "root", "--ca-file", &ca, "--password-file", pw.to_str().unwrap()]
            .iter()
            .map(|x| x.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        common::esxup_on("2026-01-15")
            .args(&args)
            .env_remove("GOVC_URL")
            .env_remove("ESXUP_PASSWORD")
            .env_remove("GOVC_INSECURE")
            .env_remove("GOVC_TLS_KNOWN_HOSTS")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let mut check = base("check");
    check.extend(["--target", "7.0U3c", "--format", "json"].map(String::from));
    let o = run(check);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["host"]["build"], 17700523);

    let mut plan = base("plan");
    plan.extend(["--target", "7.0U3c", "--format", "json"].map(String::from));
    let o = run(plan);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["current"]["build"], 17700523);

    let facts = dir.path().join("f.json");
    let mut collect = base("collect");
    collect.extend(["-o".to_string(), facts.to_str().unwrap().to_string()]);
    let o = run(collect);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(facts.exists());

    let mut bad = base("check");
    let i = bad.iter().position(|a| a == &ca).unwrap();
    bad[i] = dir.path().join("missing.pem").to_str().unwrap().to_string();
    bad.extend(["--target", "7.0U3c"].map(String::from));
    let o = run(bad);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("read CA file") && stderr(&o).contains("missing.pem"), "{}", stderr(&o));
}
