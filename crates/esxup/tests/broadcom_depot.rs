//! `--depot broadcom:` and Broadcom's download-token URLs, against a local
//! HTTPS server playing dl.broadcom.com: Python's http.server wrapped in
//! ssl, with a certificate of a CA made here with openssl (trusted through
//! `SSL_CERT_FILE`), serving the small synthetic depot
//! (`scripts/gen-synthetic-depot.py --small`) under
//! `/<token>/PROD/COMP/ESX_HOST/main/`. It answers 401 for the "expired"
//! token and 403 for any other token or a path outside the entitlement
//! (Broadcom KB 395322's codes). `ESXUP_BROADCOM_BASE_URL` points
//! `broadcom:` at it.
//!
//! Every run asserts that the token is in no output, no message and no
//! name or file of the depot cache.

mod common;

use common::{code, esxup_on, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD: &str = "esxupGoodTok3n-0123456789abcdef";
const EXPIRED: &str = "esxupExpiredTok3n-0123456789ab";
const WRONG: &str = "esxupWrongTok3n-0123456789abcd";
const PROFILE: &str = "ESXi-7.0U2a-17867351-standard";

/// The local dl.broadcom.com: its base URL, the CA file, the cache folder.
struct Site {
    _server: common::Server,
    _tmp: tempfile::TempDir,
    base: String,
    ca: PathBuf,
    cache: PathBuf,
    dir: PathBuf,
}

impl Site {
    fn start() -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let www = tmp.path().join("www");
        let main = www.join(GOOD).join("PROD/COMP/ESX_HOST/main");
        common::write_synthetic_depot(&main);
        // Broadcom's depot index is vmw-depot-index.xml, beside the vendor folders.
        std::fs::copy(main.join("index.xml"), main.join("vmw-depot-index.xml")).unwrap();
        let (ca, cert, key) = common::make_test_certs(tmp.path());
        let (server, port) = serve_https(&www, &cert, &key);
        Site {
            _server: server,
            base: format!("https://127.0.0.1:{port}"),
            ca,
            cache: tmp.path().join("cache"),
            dir: tmp.path().to_path_buf(),
            _tmp: tmp,
        }
    }

    /// esxup with the site as Broadcom's base URL, its CA trusted, a fresh
    /// environment (no token unless `token` is given).
    fn esxup(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut c = esxup_on("2026-01-15");
        c.env("ESXUP_CACHE_DIR", &self.cache)
            .env("ESXUP_BROADCOM_BASE_URL", &self.base)
            .env("SSL_CERT_FILE", &self.ca)
            .env_remove("ESXUP_BROADCOM_TOKEN")
            .env_remove("ESXUP_BROADCOM_TOKEN_FILE")
            .args(args);
        if let Some(t) = token {
            c.env("ESXUP_BROADCOM_TOKEN", t);
        }
        let o = c.output().unwrap();
        assert_no_token(&o, &self.cache);
        o
    }

    fn index(&self, token: &str) -> String {
        format!("{}/{token}/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml", self.base)
    }
}

/// No token in stdout, stderr, the names of the cache's files and folders,
/// or the cache's files.
fn assert_no_token(o: &Output, cache: &Path) {
    for t in [GOOD, EXPIRED, WRONG] {
        assert!(!stdout(o).contains(t), "token in stdout:\n{}", stdout(o));
        assert!(!stderr(o).contains(t), "token in stderr:\n{}", stderr(o));
    }
    let mut stack = vec![cache.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd {
            let p = e.unwrap().path();
            let name = p.display().to_string();
            for t in [GOOD, EXPIRED, WRONG] {
                assert!(!name.contains(t), "token in a cache path: {name}");
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                for t in [GOOD, EXPIRED, WRONG] {
                    assert!(
                        !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
                        "token in the cache file {name}"
                    );
                }
            }
        }
    }
}

/// The one `hint:` line of stderr.
fn hint(o: &Output) -> String {
    stderr(o).lines().filter(|l| l.starts_with("hint: ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn broadcom_depot_lists_with_the_token_from_the_environment() {
    let site = Site::start();
    let o = site.esxup(Some(GOOD), &["depot", "ls", "broadcom:"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(PROFILE), "{}", stdout(&o));
    assert!(stdout(&o).contains(&site.index("<token>")), "the masked URL names the depot:\n{}", stdout(&o));
    assert!(site.cache.read_dir().map(|mut d| d.next().is_some()).unwrap_or(false), "cache written");

    // JSON: the depot is the masked URL.
    let o = site.esxup(Some(GOOD), &["depot", "profiles", "broadcom:", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["depot"], site.index("<token>"), "{v}");

    // The token from a file named by ESXUP_BROADCOM_TOKEN_FILE (its first line).
    let file = site.dir.join("token.txt");
    std::fs::write(&file, format!("{GOOD}\n")).unwrap();
    let mut c = esxup_on("2026-01-15");
    let o = c
        .env("ESXUP_CACHE_DIR", &site.cache)
        .env("ESXUP_BROADCOM_BASE_URL", &site.base)
        .env("SSL_CERT_FILE", &site.ca)
        .env_remove("ESXUP_BROADCOM_TOKEN")
        .env("ESXUP_BROADCOM_TOKEN_FILE", &file)
        .args(["depot", "ls", "broadcom:", "--format", "json"])
        .output()
        .unwrap();
    assert_no_token(&o, &site.cache);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn plan_and_dry_run_name_the_masked_depot() {
    let site = Site::start();
    // The seed is blocked by the vmkusb dependency error of the simulation
    // on this depot (the ISO route: its runbook names no depot).
    let o = site.esxup(
        Some(GOOD),
        &["plan", "--example", "seed", "--target", "7.0U2a", "--depot", "broadcom:", "--profile", PROFILE],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stdout(&o).contains("MISSING_DEPENDENCY_VIBS") || stdout(&o).contains("DependencyError"));
    // A host on the esxcli route: the runbook's commands name the masked URL.
    for format in ["md", "json", "html"] {
        let o = site.esxup(
            Some(GOOD),
            &[
                "plan",
                "--example",
                "clean-70u3",
                "--target",
                "7.0U3g",
                "--depot",
                "broadcom:",
                "--format",
                format,
            ],
        );
        assert!(matches!(code(&o), 0 | 1), "{format}: {}", stderr(&o));
        // HTML shows <token> as a placeholder to fill in.
        let want = match format {
            "html" => format!("from the depot {}", site.index("&lt;token&gt;")),
            _ => format!("esxcli software sources profile list -d {}", site.index("<token>")),
        };
        assert!(stdout(&o).contains(&want), "{format}: the runbook names {want}:\n{}", stdout(&o));
    }
    let o = site.esxup(
        Some(GOOD),
        &["check", "--example", "seed", "--target", "7.0U2a", "--depot", "broadcom:", "--format", "json"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = site.esxup(
        Some(GOOD),
        &[
            "depot",
            "dry-run",
            "--depot",
            "broadcom:",
            "--profile",
            PROFILE,
            "--host-profile",
            "ESXi-6.7.0-8169922-standard",
            "--format",
            "json",
        ],
    );
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["depot"], site.index("<token>"), "{v}");
}

#[test]
fn an_expired_token_is_refused_with_401_and_the_renewal_hint() {
    let site = Site::start();
    let o = site.esxup(Some(EXPIRED), &["depot", "ls", "broadcom:"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("server answered 401 Unauthorized: the download token was refused as expired"), "{e}");
    assert!(hint(&o).contains("generate a new download token in the Broadcom Support Portal"), "{e}");
    // Nothing is cached for a refused fetch.
    assert!(!site.cache.exists() || site.cache.read_dir().unwrap().next().is_none(), "cache stays empty");
}

#[test]
fn a_wrong_token_or_a_path_outside_the_entitlement_is_refused_with_403() {
    let site = Site::start();
    let o = site.esxup(Some(WRONG), &["depot", "ls", "broadcom:"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("server answered 403 Forbidden: the download token or the path was refused"), "{e}");
    assert!(hint(&o).contains("Broadcom KB 395322"), "{e}");

    // The right token, a depot the site is not entitled to: the URL names
    // <token> (filled in from the environment).
    let other = format!("{}/<token>/PROD/COMP/VCENTER/main/vmw-depot-index.xml", site.base);
    let o = site.esxup(Some(GOOD), &["check", "--example", "seed", "--target", "7.0U2a", "--depot", &other]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("server answered 403 Forbidden"), "{}", stderr(&o));
    assert!(hint(&o).contains("Broadcom KB 395322"), "{}", stderr(&o));
}

#[test]
fn no_token_says_where_to_put_it() {
    let site = Site::start();
    let o = site.esxup(None, &["plan", "--example", "seed", "--target", "7.0U2a", "--depot", "broadcom:"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("no download token given"), "{}", stderr(&o));
    assert!(hint(&o).contains("ESXUP_BROADCOM_TOKEN"), "{}", stderr(&o));
}

#[test]
fn a_token_in_the_command_line_works_with_a_warning() {
    let site = Site::start();
    let url = site.index(GOOD);
    // esxup's own assertion on outputs is in Site::esxup; the URL with the
    // token is only in argv.
    let o = site.esxup(None, &["depot", "ls", &url, "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning: the Broadcom download token is in the command line, where the shell history and `ps` keep it"),
        "{e}"
    );
    assert!(hint(&o).contains("ESXUP_BROADCOM_TOKEN") && hint(&o).contains("`broadcom:`"), "{e}");
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["depot"], site.index("<token>"));
}

/// VMware's retired update servers: whatever the network does with them
/// here (no name resolution in a sandbox, a refusal or an HTTP error on
/// the internet), the hint is the new form. The hint for each error shape
/// is also unit-tested in `cmd::broadcom`.
#[test]
fn an_old_hostupdate_url_points_to_broadcom() {
    for url in [
        "https://hostupdate.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml",
        "https://hostupdate-p01.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml",
    ] {
        let o = esxup_on("2026-01-15")
            .env("ESXUP_CACHE_DIR", std::env::temp_dir().join("esxup-hostupdate-test-cache"))
            .args(["depot", "ls", url])
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{url}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("error: open depot {url}")), "{}", stderr(&o));
        let h = hint(&o);
        assert!(
            h.contains("--depot broadcom:") && h.contains("ESXUP_BROADCOM_TOKEN"),
            "{url}: {}",
            stderr(&o)
        );
    }
}

/// Serves `dir` over TLS: paths under `/<GOOD>/PROD/COMP/ESX_HOST/` as
/// files, 401 under `/<EXPIRED>/`, 403 for everything else.
fn serve_https(dir: &Path, cert: &Path, key: &Path) -> (common::Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = "import functools,http.server,ssl,sys\n\
        good,expired=sys.argv[5],sys.argv[6]\n\
        class H(http.server.SimpleHTTPRequestHandler):\n\
        \x20   def do_GET(self):\n\
        \x20       if self.path.startswith('/'+expired+'/'):\n\
        \x20           return self.send_error(401)\n\
        \x20       if not self.path.startswith('/'+good+'/PROD/COMP/ESX_HOST/'):\n\
        \x20           return self.send_error(403)\n\
        \x20       return super().do_GET()\n\
        \x20   def log_message(self,*a):\n\
        \x20       pass\n\
        h=functools.partial(H,directory=sys.argv[2])\n\
        s=http.server.ThreadingHTTPServer(('127.0.0.1',int(sys.argv[1])),h)\n\
        c=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER);c.load_cert_chain(sys.argv[3],sys.argv[4])\n\
        s.socket=c.wrap_socket(s.socket,server_side=True)\n\
        s.serve_forever()\n";
    let child = Command::new("python3")
        .args(["-c", script, &port.to_string()])
        .args([dir, cert, key])
        .args([GOOD, EXPIRED])
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
