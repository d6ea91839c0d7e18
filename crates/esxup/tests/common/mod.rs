//! Helpers shared by the CLI test binaries of `esxup` (each includes this
//! module with `mod common;` and uses the parts it needs): the real binary
//! with a fixed day, its output as text, the scenario fixtures.

#![allow(dead_code)]

pub mod cdp;
pub mod sshd;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real `esxup` binary reporting as of `today` (`ESXUP_TODAY`), in the
/// C locale, with the built-in knowledge base (no `ESXUP_KB`, and a user
/// data directory that holds no bundle).
pub fn esxup_on(today: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_esxup"));
    c.env("ESXUP_TODAY", today).env("LC_ALL", "C.UTF-8").env_remove("ESXUP_KB");
    c.env("ESXUP_DATA_DIR", no_user_data());
    c
}

/// A user data directory without a knowledge-base bundle.
pub fn no_user_data() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("esxup-no-user-data")
}

/// Standard output of a run, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error of a run, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code of a run (-1 when it was killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The scenario fixtures of `esxup check` (crates/esxup-check/tests/scenarios).
pub fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-check/tests/scenarios")
}

/// Writes the small synthetic depot (`scripts/gen-synthetic-depot.py
/// --small`) into `root`.
pub fn write_synthetic_depot(root: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-synthetic-depot.py");
    let out =
        Command::new("python3").arg(script).arg(root).arg("--small").output().unwrap_or_else(|e| {
            panic!("python3 is needed for the synthetic depot ({e}): run scripts/test.sh")
        });
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The small synthetic depot as an offline bundle zip (index.xml at the root).
#[allow(dead_code)]
pub fn write_synthetic_bundle(dir: &Path) -> PathBuf {
    let depot = dir.join("depot");
    write_synthetic_depot(&depot);
    let zip_path = dir.join("depot.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut stack = vec![depot.clone()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let rel = p.strip_prefix(&depot).unwrap().to_str().unwrap().to_string();
        if rel.starts_with("hosts/") {
            continue;
        }
        zw.start_file(rel, opts).unwrap();
        std::io::Write::write_all(&mut zw, &std::fs::read(&p).unwrap()).unwrap();
    }
    zw.finish().unwrap();
    zip_path
}

/// Checks `v` against `schema/<schema_file>`; panics naming every error.
pub fn assert_valid(schema_file: &str, v: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema").join(schema_file);
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{schema_file}: {e}"));
    let errs: Vec<String> =
        validator.iter_errors(v).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errs.is_empty(), "{schema_file}:\n{}", errs.join("\n"));
}

/// The HTTP server process, stopped when dropped.
pub struct Server(std::process::Child);

impl Server {
    /// Takes charge of a server process started elsewhere (kb_update.rs's TLS server).
    pub fn new(child: std::process::Child) -> Server {
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `dir` over HTTP on 127.0.0.1 (Python's http.server, a random port).
pub fn serve(dir: &Path) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string(), "--directory"])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m http.server (run scripts/test.sh)");
    let server = Server(child);
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "http.server did not start on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (server, port)
}

/// Waits for `child` (stdout and stderr piped) and returns its output;
/// stderr is echoed line by line with the time since the start, so that a
/// failing test shows where the run spent its time.
pub fn collect_timed(child: &mut std::process::Child) -> Output {
    let t0 = std::time::Instant::now();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).unwrap();
        v
    });
    let mut stderr = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap())) {
        let line = line.unwrap();
        eprintln!("{:>7.2}s {line}", t0.elapsed().as_secs_f64());
        stderr.extend_from_slice(line.as_bytes());
        stderr.push(b'\n');
    }
    let status = child.wait().unwrap();
    Output { status, stdout: reader.join().unwrap(), stderr }
}

/// Writes the saved command outputs of the composite test host host-a
/// (crates/esxup-facts/tests/fixtures/host-a.list, source lines stripped)
/// into `dir`, under the file names of docs/collect-commands.md.
pub fn write_host_a(dir: &Path) -> Vec<String> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../esxup-facts/tests/fixtures");
    let list = std::fs::read_to_string(fx.join("host-a.list")).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let mut names = Vec::new();
    for l in list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (name, f) = l.split_once(' ').unwrap();
        let text = std::fs::read_to_string(fx.join(f.trim())).unwrap();
        std::fs::write(dir.join(name), text.split_once('\n').map(|x| x.1).unwrap_or("")).unwrap();
        names.push(name.to_string());
    }
    names
}

fn openssl(args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed ({e}): run scripts/test.sh"));
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A CA and a server certificate for 127.0.0.1 signed by it (openssl):
/// `(ca.pem, srv.pem, srv.key)` in `dir`, for the local TLS servers of the
/// kb update and Broadcom depot tests.
pub fn make_test_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=esxup test CA",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        &p("srv.key"),
        "-out",
        &p("srv.csr"),
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("srv.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("ext.cnf"),
        "-out",
        &p("srv.pem"),
    ]);
    (dir.join("ca.pem"), dir.join("srv.pem"), dir.join("srv.key"))
}
