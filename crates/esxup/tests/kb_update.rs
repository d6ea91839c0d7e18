//! `esxup kb status|export|update` and the load order of the data (issue
//! 13), run as the real binary with a user data directory of its own
//! (`ESXUP_DATA_DIR`): a good bundle becomes active; a bad checksum, a
//! failing lint, a truncated archive, older data and an update killed
//! before or between its renames each leave the old data active and
//! intact. Also: the https download (a local TLS server with its own CA),
//! the data-age warning (once; not with `-q`), and the two messages for an
//! unknown build (newer than the data; a gap to report).

mod common;

use common::{code, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TODAY: &str = "2026-11-26";

fn esxup(data: &Path, args: &[&str]) -> Output {
    esxup_env(data, args, &[])
}

fn esxup_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = common::esxup_on(TODAY);
    c.env("ESXUP_DATA_DIR", data).env_remove("ESXUP_KB_FAULT").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run esxup")
}

fn status(data: &Path) -> serde_json::Value {
    let o = esxup(data, &["kb", "status", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn repo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

/// A fixture knowledge base of esxup-kb with the repository's CPU/device
/// tables (a bundle needs them), as a folder in `dir`.
fn fixture_with_tables(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-kb/tests/fixtures").join(name);
    let dst = dir.join(name);
    copy_dir(&src, &dst);
    for f in ["cpu.toml", "devices.toml"] {
        std::fs::copy(repo_data().join(f), dst.join(f)).unwrap();
    }
    dst
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

/// `esxup [--kb DIR] kb export -o FILE`.
fn export(data: &Path, kb: Option<&Path>, out: &Path) {
    let mut args: Vec<&str> = Vec::new();
    if let Some(k) = kb {
        args.extend(["--kb", k.to_str().unwrap()]);
    }
    args.extend(["kb", "export", "-o", out.to_str().unwrap()]);
    let o = esxup(data, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote "), "{}", stderr(&o));
}

/// A user data directory holding the fixture `good` as the active data
/// (older than the built-in data, so `--allow-older`), and its status.
fn with_old_data(dir: &Path) -> (PathBuf, serde_json::Value) {
    let data = dir.join("data");
    let good = fixture_with_tables(dir, "good");
    let bundle = dir.join("good.tar.zst");
    export(&data, Some(&good), &bundle);
    let o = esxup(&data, &["kb", "update", "--from", bundle.to_str().unwrap(), "--allow-older"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = status(&data);
    assert_eq!(s["source"], "user-data", "{s}");
    assert_eq!(s["data_date"], "2022-09-01", "{s}");
    (data, s)
}

/// The built-in data as a bundle.
fn builtin_bundle(dir: &Path) -> (PathBuf, serde_json::Value) {
    let empty = dir.join("empty-data");
    let b = dir.join("builtin.tar.zst");
    let o = esxup(&empty, &["kb", "export", "--output", b.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = status(&empty);
    assert_eq!(s["source"], "embedded", "{s}");
    (b, s)
}

fn assert_unchanged(data: &Path, before: &serde_json::Value) {
    let s = status(data);
    assert_eq!(s["source"], "user-data", "{s}");
    assert_eq!(s["digest"], before["digest"], "{s}");
    assert_eq!(s["data_date"], before["data_date"], "{s}");
    // And the files are intact: the active folder still passes its checks.
    let lint = esxup(data, &["kb", "lint", s["path"].as_str().unwrap()]);
    assert_eq!(code(&lint), 0, "{}", stderr(&lint));
}

#[test]
fn good_bundle_export_update_status() {
    let t = tempfile::tempdir().unwrap();
    let (data, old) = with_old_data(t.path());
    let (bundle, builtin) = builtin_bundle(t.path());
    assert_ne!(old["digest"], builtin["digest"]);
    let o = esxup(&data, &["kb", "update", "--from", bundle.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("the data it replaced is kept in"), "{}", stdout(&o));
    let s = status(&data);
    assert_eq!(s["source"], "user-data");
    assert_eq!(s["digest"], builtin["digest"], "same data, same digest, embedded or from a bundle");
    assert_eq!(s["data_date"], builtin["data_date"]);
    assert!(data.join("kb/previous/manifest.json").is_file(), "the replaced data is kept");
    // The text form names the source, date and digest.
    let text = stdout(&esxup(&data, &["kb", "status"]));
    assert!(text.contains("user data directory"), "{text}");
    assert!(text.contains(&format!("sha256:{}", builtin["digest"].as_str().unwrap())), "{text}");
    // The unpacked folder is itself a bundle `kb update` reads.
    let other = t.path().join("other");
    let o = esxup(&other, &["kb", "update", "--from", data.join("kb/current").to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(status(&other)["digest"], builtin["digest"]);
    // The commands use the active data: 9.0 builds are not in the fixture.
    let o = esxup(&data, &["build", "17700523"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn coverage_counts_fields_per_branch() {
    let t = tempfile::tempdir().unwrap();
    let o = esxup(&t.path().join("d"), &["kb", "status", "--coverage", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let cov = v["coverage"].as_array().unwrap();
    let b70 = cov.iter().find(|c| c["branch"] == "7.0").unwrap();
    let n = |k: &str| b70[k].as_u64().unwrap();
    assert_eq!(n("builds"), n("name"));
    assert!(n("bulletin") + n("unsourced_bulletin") <= n("builds"), "{b70}");
    assert!(n("profile_standard") > 0 && n("unsourced_profiles") > 0, "{b70}");
    let text = stdout(&esxup(&t.path().join("d"), &["kb", "status", "--coverage"]));
    assert!(text.contains("Coverage") && text.contains("unsrc-prof"), "{text}");
}

#[test]
fn kb_lint_is_also_kb_lint_subcommand() {
    let t = tempfile::tempdir().unwrap();
    let a = esxup(t.path(), &["kb", "lint", "--format", "json"]);
    let b = esxup(t.path(), &["kb-lint", "--format", "json"]);
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b));
}

#[test]
fn bad_checksum_extra_and_missing_files_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let (data, before) = with_old_data(t.path());
    let (bundle, _) = builtin_bundle(t.path());
    // An unpacked copy of the good bundle, then damaged three ways.
    let donor = t.path().join("donor");
    assert_eq!(code(&esxup(&donor, &["kb", "update", "--from", bundle.to_str().unwrap()])), 0);
    type Damage = (&'static str, fn(&Path));
    let damage: [Damage; 3] = [
        ("has sha256", |d| {
            let p = d.join("lifecycle.toml");
            let mut s = std::fs::read_to_string(&p).unwrap();
            s.push_str("\n# edited\n");
            std::fs::write(p, s).unwrap();
        }),
        ("is not listed in manifest.json", |d| std::fs::write(d.join("extra.toml"), "x = 1\n").unwrap()),
        ("is listed in manifest.json but missing", |d| std::fs::remove_file(d.join("cpu.toml")).unwrap()),
    ];
    for (i, (want, f)) in damage.iter().enumerate() {
        let dir = t.path().join(format!("damaged-{i}"));
        copy_dir(&donor.join("kb/current"), &dir);
        f(&dir);
        let o = esxup(&data, &["kb", "update", "--from", dir.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{want}: {}", stderr(&o));
        assert!(stderr(&o).contains("the active data is unchanged"), "{}", stderr(&o));
        assert_unchanged(&data, &before);
    }
}

#[test]
fn failing_lint_and_older_data_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let (data, before) = with_old_data(t.path());
    // A release dated before the one above it: loads, but the strict linter fails it.
    let bad = fixture_with_tables(t.path(), "date-order");
    let bundle = t.path().join("date-order.tar.zst");
    export(&data, Some(&bad), &bundle);
    let o = esxup(&data, &["kb", "update", "--from", bundle.to_str().unwrap(), "--allow-older"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("strict linter found 1 error(s)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("date-order"), "{}", stderr(&o));
    assert_unchanged(&data, &before);
    // Older than the active data: the built-in data (2026-08-03) active,
    // the fixture (2022-09-01) offered without --allow-older.
    let (builtin, _) = builtin_bundle(t.path());
    let newer = t.path().join("newer");
    assert_eq!(code(&esxup(&newer, &["kb", "update", "--from", builtin.to_str().unwrap()])), 0);
    let active = status(&newer);
    let good = t.path().join("good.tar.zst");
    let o = esxup(&newer, &["kb", "update", "--from", good.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("has data of 2022-09-01, older than the active data of 2026-08-03"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--allow-older"), "{}", stderr(&o));
    assert_unchanged(&newer, &active);
}

#[test]
fn truncated_archive_and_unsafe_entries_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let (data, before) = with_old_data(t.path());
    let (bundle, _) = builtin_bundle(t.path());
    let bytes = std::fs::read(&bundle).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 7, 10] {
        let p = t.path().join(format!("cut-{cut}.tar.zst"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let o = esxup(&data, &["kb", "update", "--from", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "cut at {cut}: {}", stderr(&o));
        assert!(stderr(&o).contains("the active data is unchanged"), "{}", stderr(&o));
        assert_unchanged(&data, &before);
    }
    // A plain tar with `..`, an absolute path and a symlink (written by hand:
    // the tar crate of the tests would refuse to write them).
    for (name, kind, link) in [
        ("../escape.toml", b'0', ""),
        ("/etc/esxup.toml", b'0', ""),
        ("releases/x.toml", b'2', "/etc/passwd"),
    ] {
        let p = t.path().join("evil.tar");
        std::fs::write(&p, tar_one(name, kind, link, b"x = 1\n")).unwrap();
        let o = esxup(&data, &["kb", "update", "--from", p.to_str().unwrap()]);
        assert_eq!(code(&o), 2, "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("refused entry"), "{name}: {}", stderr(&o));
        assert_unchanged(&data, &before);
    }
    let o = esxup(&data, &["kb", "update", "--from", "http://127.0.0.1:9/kb.tar.zst"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("plain http is not accepted"), "{}", stderr(&o));
}

/// A one-entry ustar archive.
fn tar_one(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    let size = if kind == b'0' { data.len() } else { 0 };
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = h.to_vec();
    if size > 0 {
        out.extend_from_slice(data);
        out.resize(512 + size.div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A crash cannot be timed from outside, so `ESXUP_KB_FAULT` aborts the
/// update where a kill would hit it: after unpack and lint, before any
/// rename; and between its two renames.
#[test]
fn update_killed_before_or_between_renames_keeps_the_old_data() {
    let t = tempfile::tempdir().unwrap();
    let (data, before) = with_old_data(t.path());
    let (bundle, builtin) = builtin_bundle(t.path());
    let from = bundle.to_str().unwrap();
    let o = esxup_env(&data, &["kb", "update", "--from", from], &[("ESXUP_KB_FAULT", "before-rename")]);
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    assert!(o.status.code().is_none(), "aborted by a signal");
    assert_unchanged(&data, &before);
    let o = esxup_env(&data, &["kb", "update", "--from", from], &[("ESXUP_KB_FAULT", "between-renames")]);
    assert!(o.status.code().is_none(), "aborted by a signal: {}", stderr(&o));
    assert!(!data.join("kb/current").exists() && data.join("kb/previous").exists());
    // The loader takes previous/ back, and says so.
    let o = esxup(&data, &["kb", "status", "--format", "json"]);
    assert!(stderr(&o).contains("was interrupted"), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["digest"], before["digest"], "{s}");
    // The next update repairs, cleans the leftovers and succeeds.
    let o = esxup(&data, &["kb", "update", "--from", from]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(status(&data)["digest"], builtin["digest"]);
    let left: Vec<String> = std::fs::read_dir(data.join("kb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".update.lock")
        .collect();
    assert!(left.is_empty(), "no staging leftovers (the lock file stays, unlocked): {left:?}");
}

#[test]
fn corrupt_user_data_falls_back_to_builtin() {
    let t = tempfile::tempdir().unwrap();
    let (data, _) = with_old_data(t.path());
    std::fs::write(data.join("kb/current/lifecycle.toml"), "garbage = 1\n").unwrap();
    let o = esxup(&data, &["kb", "status", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("ignoring the knowledge base in") && err.contains("has sha256"), "{err}");
    assert_eq!(err.matches("warning: ").count(), 1, "{err}");
    let s: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(s["source"], "embedded", "{s}");
    // --kb DIR wins over the user data.
    let good = fixture_with_tables(t.path(), "good");
    let s = esxup(&data, &["--kb", good.to_str().unwrap(), "kb", "status", "--format", "json"]);
    let s: serde_json::Value = serde_json::from_str(&stdout(&s)).unwrap();
    assert_eq!(s["source"], "kb-dir", "{s}");
}

#[test]
fn age_warning_once_and_not_with_quiet() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("none");
    let warning = "warning: the knowledge base is";
    // The built-in data (newest record 2026-08-03) on 2026-11-26 is 115 days old: no warning.
    let o = esxup(&data, &["check", "--example", "seed"]);
    assert!(!stderr(&o).contains(warning), "{}", stderr(&o));
    let late = [("ESXUP_TODAY", "2027-03-01")];
    for args in [&["check", "--example", "seed"][..], &["plan", "--example", "seed"], &["build", "17700523"]]
    {
        let o = esxup_env(&data, args, &late);
        let err = stderr(&o);
        assert_eq!(err.matches(warning).count(), 1, "{args:?}: {err}");
        assert!(err.contains("210 days old (data of 2026-08-03)"), "{err}");
        assert!(err.contains("hint: esxup kb update --from "), "{err}");
        let mut q = vec!["-q"];
        q.extend_from_slice(args);
        let o = esxup_env(&data, &q, &late);
        assert!(!stderr(&o).contains(warning), "{q:?}: {}", stderr(&o));
        let o = esxup_env(&data, &[&["--quiet"][..], args].concat(), &late);
        assert!(!stderr(&o).contains(warning), "{}", stderr(&o));
    }
    let s = esxup_env(&data, &["kb", "status", "--format", "json"], &late);
    let s: serde_json::Value = serde_json::from_str(&stdout(&s)).unwrap();
    assert_eq!((s["stale"].as_bool(), s["age_days"].as_i64()), (Some(true), Some(210)), "{s}");
}

#[test]
fn unknown_build_newer_than_the_data_or_missing_from_it() {
    let t = tempfile::tempdir().unwrap();
    let data = t.path().join("none");
    // Above every 8.0 build the data knows.
    let o = esxup(&data, &["build", "29999999"]);
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("kb_unknown_build_newer", stderr(&o));
    // Between two known 6.7 builds.
    let o = esxup(&data, &["build", "17700600"]);
    assert_eq!(code(&o), 2);
    insta::assert_snapshot!("kb_unknown_build_missing", stderr(&o));
    // check and plan say the same (one decision): a host on a newer build.
    let src = common::scenarios().join("unknown-installed-build/facts.json");
    let facts = std::fs::read_to_string(src).unwrap().replace("20999999", "29999999");
    let p = t.path().join("newer.json");
    std::fs::write(&p, facts).unwrap();
    for cmd in ["check", "plan"] {
        let o = esxup(&data, &[cmd, "--facts", p.to_str().unwrap(), "--target", "8.0U3"]);
        let text = stdout(&o);
        assert!(
            text.contains(
                "Build 29999999 is newer than this knowledge base (data of 2026-08-03): run `esxup kb update"
            ),
            "{cmd}: {text}"
        );
    }
}

/// `kb update --from https://...`: a local TLS server (Python's http.server
/// wrapped in ssl) with a certificate of a CA made here with openssl. Trusted
/// with `--ca-file`, refused without, the old data kept.
#[test]
fn https_url_with_and_without_the_ca() {
    let t = tempfile::tempdir().unwrap();
    let (data, before) = with_old_data(t.path());
    let (bundle, builtin) = builtin_bundle(t.path());
    let www = t.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::copy(&bundle, www.join("kb.tar.zst")).unwrap();
    let (ca, cert, key) = common::make_test_certs(t.path());
    let (_server, port) = serve_https(&www, &cert, &key);
    let url = format!("https://127.0.0.1:{port}/kb.tar.zst");
    let o = esxup(&data, &["kb", "update", "--from", &url]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("fetch {url}")), "{}", stderr(&o));
    assert_unchanged(&data, &before);
    let o =
        esxup(&data, &["kb", "update", "--from", &url, "--ca-file", ca.to_str().unwrap(), "--timeout", "20"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(status(&data)["digest"], builtin["digest"]);
}

fn serve_https(dir: &Path, cert: &Path, key: &Path) -> (common::Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = "import functools,http.server,ssl,sys\n\
        h=functools.partial(http.server.SimpleHTTPRequestHandler,directory=sys.argv[2])\n\
        s=http.server.ThreadingHTTPServer(('127.0.0.1',int(sys.argv[1])),h)\n\
        c=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);c.load_cert_chain(sys.argv[3],sys.argv[4])\n\
        s.socket=c.wrap_socket(s.socket,server_side=True)\n\
        s.serve_forever()\n";
    let child = Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .args([dir, cert, key])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 (run scripts/test.sh)");
    let server = common::Server::new(child);
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "https server did not start on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (server, port)
}

#[test]
fn a_second_update_at_the_same_time_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (data, old) = with_old_data(t.path());
    let (bundle, _) = builtin_bundle(t.path());
    // Another update holds the data directory's lock (as a running
    // `esxup kb update` does, until it ends).
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data.join("kb/.update.lock"))
        .unwrap();
    lock.lock().unwrap();
    let o = esxup(&data, &["kb", "update", "--from", bundle.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("another `esxup kb update` is running"), "{}", stderr(&o));
    assert_unchanged(&data, &old);
    // Once it ends, the update goes through.
    drop(lock);
    let o = esxup(&data, &["kb", "update", "--from", bundle.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}
