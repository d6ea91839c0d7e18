//! Where depot files come from: an extracted folder, a zip (offline bundle,
//! possibly a zip inside a zip), or an HTTP(S) depot with an on-disk cache
//! refreshed by conditional requests (ETag / Last-Modified).
//!
//! Every read is bounded (zip bombs), every relative path is normalised and
//! refused if it escapes the depot root (zip-slip), and nothing is written
//! anywhere but the cache directory.
//!
//! HTTP transport errors name their cause, not the symptom the libraries
//! report: `timed out after 3 s` (not EAGAIN, "os error 11"), `the server
//! did not answer TLS (plain http?)` (not rustls' InvalidContentType),
//! `connection refused`, `cannot resolve the host name`. The library's error
//! stays the `source` of [`DepotError::Transport`].

use crate::error::DepotError;
use esxup_vim::transport::{fmt_secs, is_timeout, HttpCause};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Limits and locations for opening a depot.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// HTTP cache directory; default `$ESXUP_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/esxup/depot`, else `~/.cache/esxup/depot`.
    pub cache_dir: Option<PathBuf>,
    /// Largest single file (zip member, download) we expand.
    pub max_file_bytes: u64,
    /// Largest total we expand for one depot.
    pub max_total_bytes: u64,
    /// Largest compression ratio accepted for members over 1 MiB.
    pub max_ratio: u64,
    /// HTTP timeout.
    pub timeout: Duration,
    /// Keep snapshots of parsed metadata zips in `<cache_dir>/parsed/`
    /// (keyed by the zip's sha256) and reuse them.
    pub snapshots: bool,
    /// The Broadcom download token for a location naming `<token>`
    /// [default: the one given in the URL, else `ESXUP_BROADCOM_TOKEN`,
    /// else the file `ESXUP_BROADCOM_TOKEN_FILE` names; see [`crate::broadcom`]].
    pub download_token: Option<crate::broadcom::DownloadToken>,
    /// Told about every HTTP download's bytes as they arrive (the CLI draws
    /// a bar from it); `None`: nothing is told.
    pub progress: Option<Progress>,
}

/// What a download tells its observer; the library draws nothing itself.
pub trait DownloadProgress: Send + Sync {
    /// A download of the (masked) `url` starts; `total` from Content-Length.
    fn start(&self, url: &str, total: Option<u64>);
    /// `n` more bytes arrived.
    fn advance(&self, n: u64);
    /// The download ended (complete or not).
    fn finish(&self);
}

/// A shared [`DownloadProgress`] (cloned with the options).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn DownloadProgress>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// A reader that tells a [`DownloadProgress`] what it read (downloads here,
/// the bundle upload of `esxup run`).
pub struct ProgressReader<R> {
    inner: R,
    progress: Option<Progress>,
}

impl<R> ProgressReader<R> {
    /// Tells `progress` (if any) that a transfer of `label` of `total` bytes starts.
    pub fn new(inner: R, progress: Option<Progress>, label: &str, total: Option<u64>) -> ProgressReader<R> {
        if let Some(p) = &progress {
            p.0.start(label, total);
        }
        ProgressReader { inner, progress }
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        if let Some(p) = &self.progress {
            p.0.finish();
        }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            p.0.advance(n as u64);
        }
        Ok(n)
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            cache_dir: None,
            max_file_bytes: 1 << 30,
            max_total_bytes: 8 << 30,
            max_ratio: 200,
            timeout: Duration::from_secs(30),
            snapshots: false,
            download_token: None,
            progress: None,
        }
    }
}

impl OpenOptions {
    pub(crate) fn cache_dir(&self) -> PathBuf {
        if let Some(d) = &self.cache_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("ESXUP_CACHE_DIR") {
            return PathBuf::from(d);
        }
        if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
            return PathBuf::from(d).join("esxup").join("depot");
        }
        match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".cache").join("esxup").join("depot"),
            None => std::env::temp_dir().join("esxup-depot-cache"),
        }
    }
}

/// Counts expanded bytes against the limits.
pub(crate) struct Budget {
    pub total: AtomicU64,
    pub opts: OpenOptions,
}

impl Budget {
    pub fn new(opts: OpenOptions) -> Budget {
        Budget { total: AtomicU64::new(0), opts }
    }

    pub(crate) fn charge(&self, label: &str, n: u64) -> Result<(), DepotError> {
        let t = self.total.fetch_add(n, Ordering::Relaxed) + n;
        if t > self.opts.max_total_bytes {
            return Err(DepotError::TooLarge {
                path: label.to_string(),
                message: format!("the depot expands to more than {} bytes", self.opts.max_total_bytes),
            });
        }
        Ok(())
    }
}

/// Normalises `rel` against directory `base` (both `/`-separated, relative
/// to the depot root). `..` that would leave the root is refused.
pub fn join_rel(label: &str, base: &str, rel: &str) -> Result<String, DepotError> {
    let unsafe_path = || DepotError::UnsafePath { path: label.to_string(), member: rel.to_string() };
    if rel.starts_with('/') || rel.starts_with('\\') || rel.contains('\\') || rel.contains('\0') {
        return Err(unsafe_path());
    }
    if rel.len() > 1 && rel.as_bytes()[1] == b':' {
        return Err(unsafe_path());
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(unsafe_path());
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Directory part of a relative path (`a/b/c.xml` -> `a/b`).
pub fn dir_of(p: &str) -> &str {
    match p.rfind('/') {
        Some(i) => &p[..i],
        None => "",
    }
}

/// A zip archive over any seekable reader.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

pub(crate) struct ZipStore {
    pub label: String,
    pub zip: zip::ZipArchive<Box<dyn ReadSeek>>,
}

impl ZipStore {
    /// Opens a zip and refuses it if any member path is unsafe.
    pub fn open(label: &str, reader: Box<dyn ReadSeek>) -> Result<ZipStore, DepotError> {
        let zip = zip::ZipArchive::new(reader).map_err(|e| DepotError::Zip {
            path: label.to_string(),
            message: format!("not a readable zip (corrupt or truncated?): {e}"),
        })?;
        for name in zip.file_names() {
            let name = name.map_err(|e| DepotError::Zip {
                path: label.to_string(),
                message: format!("a member has no readable name: {e}"),
            })?;
            join_rel(label, "", &name)?;
        }
        Ok(ZipStore { label: label.to_string(), zip })
    }

    pub fn names(&self) -> Vec<String> {
        // Every name was decoded once in `open`.
        self.zip.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// Reads one member, bounded by the budget.
    pub fn read(&mut self, name: &str, budget: &Budget) -> Result<Vec<u8>, DepotError> {
        let label = format!("{}!{}", self.label, name);
        let idx = self
            .zip
            .index_for_name(name)
            .ok_or_else(|| DepotError::Missing { index: self.label.clone(), missing: name.to_string() })?;
        read_zip_index(&mut self.zip, idx, &label, budget)
    }
}

pub(crate) fn read_zip_index<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    idx: usize,
    label: &str,
    budget: &Budget,
) -> Result<Vec<u8>, DepotError> {
    let mut out = Vec::new();
    Inflater::new().read(zip, idx, label, budget, &mut out)?;
    Ok(out)
}

/// Inflates zip members with one reusable decompressor and input buffer
/// (depots hold tens of thousands of small members).
///
/// libdeflate rather than zlib: a metadata member is one small deflate
/// stream with its own Huffman tables, and building those tables is where
/// zlib-style inflaters spend their time on such members. On the synthetic
/// full-size depot (34,951 members, 64.7 MB) libdeflate inflates in about
/// two thirds of zlib-rs's time, and inflating is the largest single cost
/// of opening a depot. Its whole-buffer API also fits: the output size is
/// declared in the zip, so the stream cannot expand past it.
pub(crate) struct Inflater {
    dec: libdeflater::Decompressor,
    raw: Vec<u8>,
}

impl Inflater {
    pub fn new() -> Inflater {
        Inflater { dec: libdeflater::Decompressor::new(), raw: Vec::new() }
    }

    /// Reads member `idx` into `out` (cleared first), bounded by the budget,
    /// checking size and CRC-32.
    pub fn read<R: Read + Seek>(
        &mut self,
        zip: &mut zip::ZipArchive<R>,
        idx: usize,
        label: &str,
        budget: &Budget,
        out: &mut Vec<u8>,
    ) -> Result<(), DepotError> {
        let zerr = |m: String| DepotError::Zip { path: label.to_string(), message: m };
        let mut file = zip.by_index_raw(idx).map_err(|e| zerr(format!("cannot open member: {e}")))?;
        let opts = &budget.opts;
        let declared = file.size();
        let packed = file.compressed_size().max(1);
        if declared > opts.max_file_bytes {
            return Err(DepotError::TooLarge {
                path: label.to_string(),
                message: format!("declares {declared} bytes, more than the {} allowed", opts.max_file_bytes),
            });
        }
        if declared > (1 << 20) && declared / packed > opts.max_ratio {
            return Err(DepotError::TooLarge {
                path: label.to_string(),
                message: format!(
                    "compression ratio {}:1 is more than {}:1 (zip bomb?)",
                    declared / packed,
                    opts.max_ratio
                ),
            });
        }
        let crc = file.crc32();
        let method = file.compression();
        self.raw.clear();
        (&mut file)
            .take(packed + 1)
            .read_to_end(&mut self.raw)
            .map_err(|e| zerr(format!("corrupt or truncated member: {e}")))?;
        drop(file);
        out.clear();
        match method {
            zip::CompressionMethod::Stored => {
                out.extend_from_slice(&self.raw[..self.raw.len().min(declared as usize)]);
            }
            zip::CompressionMethod::Deflated => {
                // Output is exactly the declared size: a stream that would
                // expand past it is refused by libdeflate (InsufficientSpace).
                out.resize(declared as usize, 0);
                match self.dec.deflate_decompress(&self.raw, out) {
                    Ok(n) => out.truncate(n),
                    Err(libdeflater::DecompressionError::InsufficientSpace) => {
                        return Err(zerr(format!("member expands past the {declared} bytes it declares")));
                    }
                    Err(libdeflater::DecompressionError::BadData) => {
                        out.clear();
                        return Err(zerr(
                            "corrupt or truncated member: invalid or incomplete deflate stream".into(),
                        ));
                    }
                }
            }
            other => return Err(zerr(format!("unsupported compression method {other:?}"))),
        }
        if out.len() as u64 != declared {
            return Err(zerr(format!("member expands to {} bytes but declares {declared}", out.len())));
        }
        if crc32fast::hash(out) != crc {
            return Err(zerr("corrupt member: CRC-32 mismatch".into()));
        }
        budget.charge(label, out.len() as u64)?;
        Ok(())
    }
}

/// Reads a file of an extracted depot folder, bounded.
pub(crate) fn read_dir_file(root: &Path, rel: &str, budget: &Budget) -> Result<Vec<u8>, DepotError> {
    let label = root.join(rel).display().to_string();
    let safe = join_rel(&root.display().to_string(), "", rel)?;
    let path = root.join(safe);
    let f = std::fs::File::open(&path).map_err(|e| DepotError::io(&label, e))?;
    // Sized from the file's length (bounded): no regrowing while reading.
    let hint = f.metadata().map(|m| m.len()).unwrap_or(0).min(budget.opts.max_file_bytes);
    let mut out = Vec::with_capacity(hint as usize + 1);
    f.take(budget.opts.max_file_bytes + 1).read_to_end(&mut out).map_err(|e| DepotError::io(&label, e))?;
    if out.len() as u64 > budget.opts.max_file_bytes {
        return Err(DepotError::TooLarge {
            path: label,
            message: format!("larger than the {} bytes allowed", budget.opts.max_file_bytes),
        });
    }
    budget.charge(&label, out.len() as u64)?;
    Ok(out)
}

/// Joins a relative reference to a base URL (directory of the referring file).
pub fn join_url(base_file_url: &str, rel: &str) -> Result<String, DepotError> {
    if rel.starts_with("http://") || rel.starts_with("https://") {
        return Ok(rel.to_string());
    }
    let (origin, path) = split_origin(base_file_url).ok_or_else(|| DepotError::Http {
        url: base_file_url.to_string(),
        message: "not an http(s) URL".into(),
    })?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    let joined = join_rel(base_file_url, dir_of(path.trim_start_matches('/')), rel)?;
    Ok(format!("{origin}/{joined}"))
}

fn split_origin(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    match url[scheme_end..].find('/') {
        Some(i) => Some((&url[..scheme_end + i], &url[scheme_end + i..])),
        None => Some((url, "/")),
    }
}

/// Metadata stored next to a cached body.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct CacheMeta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// How a cached fetch was answered (for tests and `--verbose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// 200: downloaded and cached.
    Downloaded,
    /// 304: the cached copy is current.
    NotModified,
}

/// An HTTP client with an on-disk cache.
///
/// Every URL it is given is the masked one (a Broadcom URL names `<token>`,
/// [`crate::broadcom`]): the cache is keyed by it, the log and the errors
/// name it, and the token is put in only for the request itself. So the
/// cache of one Broadcom depot is shared by every token: the files are the
/// same whoever downloads them, and sharing leaks nothing, since each use
/// revalidates with the token of that run (an expired or wrong token gets
/// its 401/403, never the cached copy).
pub(crate) struct HttpCache {
    dir: PathBuf,
    agent: ureq::Agent,
    /// The deadline of every request (named in timeout errors).
    timeout: Duration,
    /// `<base>/<token>/` and the token put in there.
    token: Option<(String, crate::broadcom::DownloadToken)>,
    pub log: std::sync::Mutex<Vec<(String, FetchOutcome)>>,
    progress: Option<Progress>,
}

impl HttpCache {
    /// The client for the masked `location` (see [`crate::broadcom::split_token`]):
    /// certificates are verified against the Mozilla roots and the
    /// system's (`SSL_CERT_FILE` / `SSL_CERT_DIR` are honoured, for a
    /// mirror with a private CA); a location naming `<token>` needs a token.
    pub fn new(
        opts: &OpenOptions,
        location: &crate::broadcom::Location,
        given: Option<&crate::broadcom::DownloadToken>,
    ) -> Result<HttpCache, DepotError> {
        let tls_opts = esxup_vim::TlsOptions { mode: esxup_vim::TlsMode::Verify, ca_file: None };
        let (tls, _) = esxup_vim::tls::client_config(&tls_opts).map_err(|e| DepotError::Http {
            url: location.masked.clone(),
            message: format!("cannot set up TLS: {e}"),
        })?;
        let token = match &location.token_prefix {
            Some(prefix) => {
                let t = crate::broadcom::token_for(opts.download_token.as_ref().or(given))?
                    .ok_or_else(|| DepotError::NoToken { url: location.masked.clone() })?;
                Some((prefix.clone(), t))
            }
            None => None,
        };
        Ok(HttpCache {
            dir: opts.cache_dir(),
            agent: ureq::AgentBuilder::new().timeout(opts.timeout).tls_config(tls).build(),
            timeout: opts.timeout,
            token,
            log: std::sync::Mutex::new(Vec::new()),
            progress: opts.progress.clone(),
        })
    }

    /// The URL to request for the masked `url`.
    fn real_url(&self, url: &str) -> String {
        match &self.token {
            Some((prefix, t)) => crate::broadcom::unmask(url, prefix, t),
            None => url.to_string(),
        }
    }

    /// `e` with the token masked in its text and its source chain.
    fn masked(&self, e: DepotError) -> DepotError {
        let Some((_, t)) = &self.token else { return e };
        match e {
            DepotError::Transport { url, message, source } => DepotError::Transport {
                url,
                message: crate::broadcom::mask_text(&message, t),
                source: source.map(|s| {
                    let text = crate::broadcom::mask_text(&s.to_string(), t);
                    Box::new(crate::broadcom::Masked { text, inner: s })
                        as Box<dyn std::error::Error + Send + Sync>
                }),
            },
            e => e,
        }
    }

    fn paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let key = hex::encode(&Sha256::digest(url.as_bytes())[..16]);
        (self.dir.join(format!("{key}.body")), self.dir.join(format!("{key}.json")))
    }

    /// GETs `url`, sending If-None-Match / If-Modified-Since when a cached
    /// copy exists, and returns the body (bounded).
    pub fn get(&self, url: &str, budget: &Budget) -> Result<Vec<u8>, DepotError> {
        self.get_inner(url, budget).map_err(|e| self.masked(e))
    }

    fn get_inner(&self, url: &str, budget: &Budget) -> Result<Vec<u8>, DepotError> {
        let http_err = |m: String| DepotError::Http { url: url.to_string(), message: m };
        let (body_path, meta_path) = self.paths(url);
        let cached_meta: Option<CacheMeta> = std::fs::read(&meta_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .filter(|m: &CacheMeta| m.url == url && body_path.exists());
        let mut req = self.agent.get(&self.real_url(url));
        if let Some(m) = &cached_meta {
            if let Some(e) = &m.etag {
                req = req.set("If-None-Match", e);
            }
            if let Some(l) = &m.last_modified {
                req = req.set("If-Modified-Since", l);
            }
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let names_token =
                    self.token.as_ref().is_some_and(|(prefix, _)| url.starts_with(prefix.as_str()));
                if let Some(m) = crate::broadcom::refusal(code).filter(|_| names_token) {
                    return Err(DepotError::TokenRefused {
                        url: url.to_string(),
                        status: code,
                        message: format!("{}: {m}", r.status_text()),
                    });
                }
                return Err(http_err(format!("server answered {code} {}", r.status_text())));
            }
            Err(ureq::Error::Transport(t)) => return Err(transport_error(url, t, self.timeout)),
        };
        let max = budget.opts.max_file_bytes;
        if resp.status() == 304 {
            let body =
                std::fs::read(&body_path).map_err(|e| DepotError::io(body_path.display().to_string(), e))?;
            budget.charge(url, body.len() as u64)?;
            self.note(url, FetchOutcome::NotModified);
            return Ok(body);
        }
        if resp.status() != 200 {
            return Err(http_err(format!("unexpected status {}", resp.status())));
        }
        if let Some(len) = resp.header("Content-Length").and_then(|l| l.parse::<u64>().ok()) {
            if len > max {
                return Err(DepotError::TooLarge {
                    path: url.to_string(),
                    message: format!("Content-Length {len} is more than the {max} bytes allowed"),
                });
            }
        }
        let meta = CacheMeta {
            url: url.to_string(),
            etag: resp.header("ETag").map(str::to_string),
            last_modified: resp.header("Last-Modified").map(str::to_string),
        };
        let mut body = Vec::new();
        let total = resp.header("Content-Length").and_then(|l| l.parse::<u64>().ok());
        ProgressReader::new(resp.into_reader().take(max + 1), self.progress.clone(), url, total)
            .read_to_end(&mut body)
            .map_err(|e| body_error(url, e, self.timeout))?;
        if body.len() as u64 > max {
            return Err(DepotError::TooLarge {
                path: url.to_string(),
                message: format!("body is more than the {max} bytes allowed"),
            });
        }
        budget.charge(url, body.len() as u64)?;
        self.store(&body_path, &meta_path, &body, &meta)?;
        self.note(url, FetchOutcome::Downloaded);
        Ok(body)
    }

    fn note(&self, url: &str, o: FetchOutcome) {
        if let Ok(mut l) = self.log.lock() {
            l.push((url.to_string(), o));
        }
    }

    fn store(
        &self,
        body_path: &Path,
        meta_path: &Path,
        body: &[u8],
        meta: &CacheMeta,
    ) -> Result<(), DepotError> {
        let io = |p: &Path, e| DepotError::io(format!("write cache {}", p.display()), e);
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
        let tmp = body_path.with_extension("tmp");
        std::fs::write(&tmp, body).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, body_path).map_err(|e| io(body_path, e))?;
        let json = serde_json::to_vec(meta).unwrap_or_default();
        std::fs::write(meta_path, json).map_err(|e| io(meta_path, e))?;
        Ok(())
    }
}

/// GETs one `https://` URL without the depot cache (the knowledge-base
/// bundles of `esxup kb update --from URL`): the server certificate is
/// verified against the system and Mozilla roots plus `ca_file`, the body
/// is bounded by `max_bytes`, and errors name their cause as depot fetches
/// do.
pub fn fetch_https(
    url: &str,
    max_bytes: u64,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<Vec<u8>, DepotError> {
    let http_err = |m: String| DepotError::Http { url: url.to_string(), message: m };
    if !url.starts_with("https://") {
        return Err(http_err("not an https:// URL".into()));
    }
    let opts =
        esxup_vim::TlsOptions { mode: esxup_vim::TlsMode::Verify, ca_file: ca_file.map(Path::to_path_buf) };
    let (tls, _) = esxup_vim::tls::client_config(&opts).map_err(|e| http_err(e.to_string()))?;
    let agent = ureq::AgentBuilder::new().timeout(timeout).tls_config(tls).build();
    let resp = match agent.get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            return Err(http_err(format!("server answered {code} {}", r.status_text())))
        }
        Err(ureq::Error::Transport(t)) => return Err(transport_error(url, t, timeout)),
    };
    if let Some(len) = resp.header("Content-Length").and_then(|l| l.parse::<u64>().ok()) {
        if len > max_bytes {
            return Err(DepotError::TooLarge {
                path: url.to_string(),
                message: format!("Content-Length {len} is more than the {max_bytes} bytes allowed"),
            });
        }
    }
    let mut body = Vec::new();
    resp.into_reader().take(max_bytes + 1).read_to_end(&mut body).map_err(|e| body_error(url, e, timeout))?;
    if body.len() as u64 > max_bytes {
        return Err(DepotError::TooLarge {
            path: url.to_string(),
            message: format!("body is more than the {max_bytes} bytes allowed"),
        });
    }
    Ok(body)
}

/// Maps a transport error of a request whose deadline was `timeout` to one
/// that names its cause; connecting failures start with `unreachable: `.
fn transport_error(url: &str, t: ureq::Transport, timeout: Duration) -> DepotError {
    let connecting = t.kind() == ureq::ErrorKind::ConnectionFailed && t.message() == Some("Connect error");
    let unreachable = |m: &str| format!("unreachable: {m}");
    let message = match classify(&t) {
        Cause::TimedOut if connecting => unreachable(&format!("timed out after {}", fmt_secs(timeout))),
        Cause::TimedOut => format!("timed out after {}", fmt_secs(timeout)),
        Cause::NotTls => "the server did not answer TLS (plain http?)".to_string(),
        Cause::Refused => unreachable("connection refused (is the depot server running? is the port right?)"),
        Cause::Dns => unreachable("cannot resolve the host name"),
        Cause::Closed => "the server closed the connection without answering".to_string(),
        Cause::Other => {
            // ureq prefixes its own URL; ours is named once already.
            let mut msg = t.to_string();
            if let Some(u) = t.url() {
                if let Some(rest) = msg.strip_prefix(&format!("{u}: ")) {
                    msg = rest.to_string();
                }
            }
            unreachable(&msg)
        }
    };
    DepotError::Transport { url: url.to_string(), message, source: Some(Box::new(HttpCause(t))) }
}

/// An error while reading a response body: a timeout is named as one.
fn body_error(url: &str, e: std::io::Error, timeout: Duration) -> DepotError {
    let message = if is_timeout(&e) {
        format!("reading the body failed: timed out after {}", fmt_secs(timeout))
    } else {
        format!("reading the body failed: {e}")
    };
    DepotError::Transport { url: url.to_string(), message, source: Some(Box::new(e)) }
}

/// What is behind a transport error.
enum Cause {
    TimedOut,
    /// The peer's first bytes were not a TLS record.
    NotTls,
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The peer closed (or reset) the connection before answering.
    Closed,
    Other,
}

/// The rustls error of one link of an error chain, directly or inside an `io::Error`.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a ureq::rustls::Error> {
    e.downcast_ref::<ureq::rustls::Error>().or_else(|| {
        e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|i| i.downcast_ref())
    })
}

fn classify(t: &ureq::Transport) -> Cause {
    if t.kind() == ureq::ErrorKind::Dns {
        // Not the TLS server-name check ("parsing '...'"): the lookup itself.
        let m = t.message().unwrap_or("");
        if m.starts_with("resolve dns name") || m.starts_with("No ip address") {
            return Cause::Dns;
        }
        return Cause::Other;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cur {
        if let Some(r) = rustls_error(e) {
            return match r {
                ureq::rustls::Error::InvalidMessage(ureq::rustls::InvalidMessage::InvalidContentType) => {
                    Cause::NotTls
                }
                _ => Cause::Other,
            };
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                _ if is_timeout(io) => return Cause::TimedOut,
                K::ConnectionRefused => return Cause::Refused,
                K::UnexpectedEof | K::ConnectionAborted | K::ConnectionReset | K::BrokenPipe => {
                    return Cause::Closed
                }
                _ => {}
            }
        }
        cur = e.source();
    }
    Cause::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_rel_normalises_and_refuses_escapes() {
        assert_eq!(join_rel("x", "", "metadata.zip").unwrap(), "metadata.zip");
        assert_eq!(join_rel("x", "a/b", "../c.zip").unwrap(), "a/c.zip");
        assert_eq!(join_rel("x", "a", "./b/./c").unwrap(), "a/b/c");
        for bad in ["../../etc/passwd", "/etc/passwd", "a\\..\\b", "C:/x", "a/../../b"] {
            let e = join_rel("index.xml", "", bad).unwrap_err();
            assert!(matches!(e, DepotError::UnsafePath { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn join_url_resolves_relative_refs() {
        assert_eq!(
            join_url("http://h:1/depot/index.xml", "vendor-index.xml").unwrap(),
            "http://h:1/depot/vendor-index.xml"
        );
        assert_eq!(join_url("http://h/a/b/v.xml", "../m.zip").unwrap(), "http://h/a/m.zip");
        assert_eq!(join_url("http://h/a/v.xml", "https://x/y.zip").unwrap(), "https://x/y.zip");
        assert!(join_url("http://h/v.xml", "../../x").is_err());
    }
}
