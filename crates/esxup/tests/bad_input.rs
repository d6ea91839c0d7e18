//! The bad-input corpus (tests/bad-input/, see its README): one
//! table-driven test runs every case through the real binary and checks its
//! exit code and messages, that it does not panic, and that it ends (a hang
//! guard, not a timing assertion).

mod common;

use common::{code, stderr, stdout, write_host_a};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A case that takes this long is hung (an ordinary one takes well under a second).
const HANG_GUARD: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    class: String,
    args: Vec<String>,
    #[serde(default)]
    setup: Option<String>,
    /// Placeholder -> file of the case folder, copied into the temp folder.
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    stdin: Option<Stdin>,
    exit: i32,
    #[serde(default)]
    stderr: Vec<String>,
    #[serde(default)]
    stderr_not: Vec<String>,
    #[serde(default)]
    stderr_max_bytes: Option<usize>,
    #[serde(default)]
    stderr_count: BTreeMap<String, usize>,
    /// No raw ESC byte on stdout or stderr.
    #[serde(default)]
    no_raw_escape: bool,
    /// A second command run after the first (same placeholders).
    #[serde(default)]
    then: Vec<String>,
    #[serde(default)]
    then_stdout: Vec<String>,
    /// File (with placeholders) -> texts it must contain.
    #[serde(default)]
    file_contains: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stdin {
    Repeat { repeat: String, times: usize },
    Utf16 { utf16le: String },
}

impl Stdin {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Stdin::Repeat { repeat, times } => repeat.repeat(*times).into_bytes(),
            Stdin::Utf16 { utf16le } => {
                let mut b = vec![0xff, 0xfe];
                b.extend(utf16le.encode_utf16().flat_map(u16::to_le_bytes));
                b
            }
        }
    }
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input")
}

fn sh(cmd: &mut Command) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Builds the named input in `tmp`; returns the path `{in}` stands for.
fn setup(name: &str, tmp: &Path) -> PathBuf {
    let dir = tmp.join("in");
    match name {
        "outputs-with-fifo" => {
            write_host_a(&dir);
            let f = dir.join("esxcli-hardware-cpu-list.txt");
            std::fs::remove_file(&f).unwrap();
            sh(Command::new("mkfifo").arg(&f));
            dir
        }
        "outputs-escape-hostname" => {
            write_host_a(&dir);
            let f = dir.join("esxcli-system-hostname-get.txt");
            let t = std::fs::read_to_string(&f).unwrap().replace("esxi-01", "evil\u{1b}[2Jhost");
            std::fs::write(&f, t).unwrap();
            dir
        }
        "outputs-version-garbage" => {
            write_host_a(&dir);
            std::fs::write(dir.join("esxcli-system-version-get.txt"), "login as: root\nAccess denied\n")
                .unwrap();
            dir
        }
        "outputs-big-file" => {
            write_host_a(&dir);
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(dir.join("esxcli-software-vib-list.txt"))
                .unwrap();
            f.set_len(65 << 20).unwrap();
            dir
        }
        "gzip-not-tar" => {
            let plain = tmp.join("plain.txt");
            std::fs::write(&plain, "this is a text file, gzipped, but no tar archive\n".repeat(20)).unwrap();
            sh(Command::new("gzip").arg("-n").arg(&plain));
            let p = tmp.join("outputs.tgz");
            std::fs::rename(tmp.join("plain.txt.gz"), &p).unwrap();
            p
        }
        "tgz-absolute-only" => {
            let p = tmp.join("outputs.tgz");
            let py = "import io,sys,tarfile\n\
                      t=tarfile.open(sys.argv[1],'w:gz')\n\
                      d=b'   Version: 7.0.3\\n   Build: Releasebuild-20328353\\n'\n\
                      i=tarfile.TarInfo('/etc/esxcli-system-version-get.txt'); i.size=len(d)\n\
                      t.addfile(i,io.BytesIO(d)); t.close()\n";
            sh(Command::new("python3").arg("-c").arg(py).arg(&p));
            p
        }
        "facts-huge" => {
            let p = tmp.join("facts.json");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
            write!(f, "{{\"schema_version\": 1, \"hostname\": \"").unwrap();
            let chunk = vec![b'a'; 1 << 20];
            for _ in 0..70 {
                f.write_all(&chunk).unwrap();
            }
            writeln!(f, "\"}}").unwrap();
            p
        }
        "a-folder" => {
            std::fs::create_dir_all(&dir).unwrap();
            dir
        }
        other => panic!("unknown setup {other:?}"),
    }
}

fn fill(s: &str, input: &Path, tmp: &Path) -> String {
    s.replace("{in}", input.to_str().unwrap()).replace("{tmp}", tmp.to_str().unwrap())
}

/// Runs the binary with a hang guard; returns (output, finished in time).
fn run(args: &[String], stdin: Option<Vec<u8>>) -> std::process::Output {
    let mut c = common::esxup_on("2026-11-26");
    c.args(args).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(b) = stdin {
        let mut w = child.stdin.take().unwrap();
        // A refused (capped) input may close stdin early: that is fine.
        std::thread::spawn(move || {
            let _ = w.write_all(&b);
        });
    }
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("esxup {args:?} did not end within {HANG_GUARD:?} (hung)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn check_case(name: &str, dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("case.toml")).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("case.toml: {e}"))?;
    let classes = ["too-large", "not-regular", "encoding", "malformed", "terminal", "hint"];
    if !classes.contains(&case.class.as_str()) {
        return Err(format!("unknown class {:?}", case.class));
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut input = PathBuf::new();
    if let Some(s) = &case.setup {
        input = setup(s, tmp.path());
    }
    for (k, f) in &case.files {
        let to = tmp.path().join(f);
        std::fs::copy(dir.join(f), &to).map_err(|e| format!("copy {f}: {e}"))?;
        if k == "in" {
            input = to;
        }
    }
    let args: Vec<String> = case.args.iter().map(|a| fill(a, &input, tmp.path())).collect();
    let o = run(&args, case.stdin.as_ref().map(Stdin::bytes));
    let (out, err) = (stdout(&o), stderr(&o));
    let mut bad = Vec::new();
    if err.contains("panicked") {
        bad.push(format!("panicked: {err}"));
    }
    if code(&o) != case.exit {
        bad.push(format!("exit {} (want {})", code(&o), case.exit));
    }
    if case.exit == 2 && !err.starts_with("error: ") && !err.contains("\nerror: ") {
        bad.push("exit 2 without an `error:` line".into());
    }
    for s in &case.stderr {
        if !err.contains(s.as_str()) {
            bad.push(format!("stderr lacks {s:?}"));
        }
    }
    for s in &case.stderr_not {
        if err.contains(s.as_str()) {
            bad.push(format!("stderr has {s:?}"));
        }
    }
    if let Some(m) = case.stderr_max_bytes {
        if err.len() > m {
            bad.push(format!("stderr is {} bytes, more than {m}", err.len()));
        }
    }
    for (s, n) in &case.stderr_count {
        if err.matches(s.as_str()).count() != *n {
            bad.push(format!("stderr has {s:?} {} times, want {n}", err.matches(s.as_str()).count()));
        }
    }
    if case.no_raw_escape && (out.contains('\u{1b}') || err.contains('\u{1b}')) {
        bad.push("a raw ESC reached the terminal".into());
    }
    for (f, wants) in &case.file_contains {
        let t = std::fs::read_to_string(fill(f, &input, tmp.path())).unwrap_or_default();
        for w in wants {
            if !t.contains(w.as_str()) {
                bad.push(format!("{f} lacks {w:?}"));
            }
        }
    }
    if !case.then.is_empty() {
        let args: Vec<String> = case.then.iter().map(|a| fill(a, &input, tmp.path())).collect();
        let o2 = run(&args, None);
        let out2 = stdout(&o2);
        if case.no_raw_escape && (out2.contains('\u{1b}') || stderr(&o2).contains('\u{1b}')) {
            bad.push(format!("{:?}: a raw ESC reached the terminal", case.then));
        }
        for s in &case.then_stdout {
            if !out2.contains(s.as_str()) {
                bad.push(format!("{:?}: stdout lacks {s:?}", case.then));
            }
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        let short: String = err.chars().take(600).collect();
        Err(format!("{name}: {}\n  stderr: {short}", bad.join("; ")))
    }
}

#[test]
fn every_bad_input_case_gets_its_error() {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("case.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    let failures: Vec<String> = names.iter().filter_map(|n| check_case(n, &corpus().join(n)).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// A port that accepts and never answers: the CLI names the timeout, keeps
/// the cause chain and gives the hint for that cause (not "is the host up").
#[test]
fn a_silent_vsphere_port_is_named_as_a_timeout_with_its_hint() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    let url = format!("https://127.0.0.1:{port}");
    let mut c = common::esxup_on("2026-11-26");
    c.args(["collect", "--host", &url, "--user", "root", "--insecure", "--timeout", "1"])
        .env("ESXUP_PASSWORD", "not-used")
        .env_remove("GOVC_URL")
        .stdin(Stdio::null());
    let o = c.output().unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("timed out after 1 s"), "{err}");
    assert!(err.contains("  caused by: "), "the cause chain is kept: {err}");
    assert!(err.contains("hint: the host accepted the connection but did not answer in time"), "{err}");
    assert!(!err.contains("not-used"), "the password never shows");
}
