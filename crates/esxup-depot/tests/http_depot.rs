//! Online depots over HTTP, against a real HTTP server started by the test
//! (a small std TcpListener server on 127.0.0.1, random port) serving the
//! extracted real ghettoVCB bundle: index.xml -> vendor-index.xml ->
//! metadata.zip, the on-disk cache, ETag / If-None-Match revalidation (304),
//! and errors for 404s and missing files.

use esxup_depot::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;
type Log = Arc<Mutex<Vec<(String, u16)>>>;

fn etag(b: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", hex::encode(&sha2::Sha256::digest(b)[..8]))
}

/// Serves `files` (path -> body) with ETags; answers If-None-Match with 304.
fn serve(files: Files, log: Log) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut inm = None;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.eq_ignore_ascii_case("if-none-match") {
                        inm = Some(v.trim().to_string());
                    }
                }
            }
            let body = files.lock().unwrap().get(&path).cloned();
            let (status, resp): (u16, Vec<u8>) = match body {
                None => (
                    404,
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                ),
                Some(b) => {
                    let tag = etag(&b);
                    if inm.as_deref() == Some(tag.as_str()) {
                        (
                            304,
                            format!("HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\nConnection: close\r\n\r\n")
                                .into_bytes(),
                        )
                    } else {
                        let mut v = format!(
                            "HTTP/1.1 200 OK\r\nETag: {tag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .into_bytes();
                        v.extend_from_slice(&b);
                        (200, v)
                    }
                }
            };
            log.lock().unwrap().push((path, status));
            let _ = s.write_all(&resp);
            let _ = s.flush();
        }
    });
    port
}

fn ghetto_files() -> HashMap<String, Vec<u8>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ghettovcb/vghetto-ghettoVCB-offline-bundle-2020-12-29-37290df.zip");
    let bytes = std::fs::read(p).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        out.insert(format!("/depot/{}", f.name().unwrap()), v);
    }
    out
}

#[test]
fn online_depot_is_read_cached_and_revalidated() {
    let files: Files = Arc::new(Mutex::new(ghetto_files()));
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let port = serve(files.clone(), log.clone());
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions { cache_dir: Some(cache.path().to_path_buf()), ..OpenOptions::default() };
    let url = format!("http://127.0.0.1:{port}/depot/");

    // First open: everything downloaded along index -> vendor index -> metadata.
    let d = Depot::open_with(&url, &opts).unwrap();
    assert_eq!(d.vibs()[0].id, "virtuallyGhetto_bootbank_ghettoVCB_1.0.0-0.0.0");
    let fetched: Vec<(String, FetchOutcome)> = d.fetch_log();
    assert_eq!(
        fetched,
        vec![
            (format!("{url}index.xml"), FetchOutcome::Downloaded),
            (format!("{url}vendor-index.xml"), FetchOutcome::Downloaded),
            (format!("{url}metadata.zip"), FetchOutcome::Downloaded),
        ]
    );
    // VIB files are not downloaded: verification says so.
    assert_eq!(d.verify_vibs()[0].status, VibCheckStatus::NotInDepot);

    // Second open: conditional requests, answered 304, served from the cache.
    log.lock().unwrap().clear();
    let d2 = Depot::open_with(&format!("{url}index.xml"), &opts).unwrap();
    assert_eq!(d2.vibs().len(), 1);
    assert!(d2.fetch_log().iter().all(|(_, o)| *o == FetchOutcome::NotModified), "{:?}", d2.fetch_log());
    assert_eq!(log.lock().unwrap().iter().map(|(_, s)| *s).collect::<Vec<_>>(), vec![304, 304, 304]);

    // A changed metadata.zip is downloaded again.
    {
        let mut f = files.lock().unwrap();
        let index = f.get("/depot/vendor-index.xml").unwrap().clone();
        let mut idx = String::from_utf8(index).unwrap();
        idx = idx.replace("<channelName>default</channelName>", "<channelName>changed</channelName>");
        f.insert("/depot/vendor-index.xml".into(), idx.into_bytes());
    }
    let d3 = Depot::open_with(&url, &opts).unwrap();
    let outcomes: Vec<FetchOutcome> = d3.fetch_log().into_iter().map(|(_, o)| o).collect();
    assert_eq!(
        outcomes,
        vec![FetchOutcome::NotModified, FetchOutcome::Downloaded, FetchOutcome::NotModified]
    );

    // Only the cache directory was written: a body and a json per URL.
    let n = std::fs::read_dir(cache.path()).unwrap().count();
    assert_eq!(n, 6);
}

#[test]
fn online_depot_errors_name_the_url() {
    let mut f = ghetto_files();
    f.remove("/depot/metadata.zip");
    let files: Files = Arc::new(Mutex::new(f));
    let port = serve(files, Arc::new(Mutex::new(Vec::new())));
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions { cache_dir: Some(cache.path().to_path_buf()), ..OpenOptions::default() };

    let e = Depot::open_with(&format!("http://127.0.0.1:{port}/nothing/index.xml"), &opts)
        .unwrap_err()
        .to_string();
    assert_eq!(e, format!("fetch http://127.0.0.1:{port}/nothing/index.xml: server answered 404 Not Found"));

    let e = Depot::open_with(&format!("http://127.0.0.1:{port}/depot"), &opts).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "read http://127.0.0.1:{port}/depot/vendor-index.xml: it names http://127.0.0.1:{port}/depot/metadata.zip (server answered 404 Not Found), which is not in the depot"
        )
    );
}

#[test]
fn offline_bundle_zip_over_http() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/old-layout/6-updates_net51-r8169-6.011.00-2vft.510.0.0.799733-offline_bundle.zip",
    );
    let mut f = HashMap::new();
    f.insert("/b/r8169.zip".to_string(), std::fs::read(p).unwrap());
    let port = serve(Arc::new(Mutex::new(f)), Arc::new(Mutex::new(Vec::new())));
    let cache = tempfile::tempdir().unwrap();
    let opts = OpenOptions { cache_dir: Some(cache.path().to_path_buf()), ..OpenOptions::default() };
    let d = Depot::open_with(&format!("http://127.0.0.1:{port}/b/r8169.zip"), &opts).unwrap();
    assert_eq!(d.vibs()[0].id, "VFrontDe_bootbank_net51-r8169_6.011.00-2vft.510.0.0.799733");
    assert_eq!(d.verify_vibs()[0].status, VibCheckStatus::Ok);
}
