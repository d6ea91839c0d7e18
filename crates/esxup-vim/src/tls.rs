//! TLS for the SOAP client: verified by default (system roots, Mozilla roots
//! and an optional CA file), a pinned certificate thumbprint (SHA-256, or
//! SHA-1 as govc's known_hosts may hold), or no verification when asked.
//!
//! Whatever the mode, the verifier records the SHA-256 thumbprint of the
//! certificate it saw, so that a refused certificate can be reported with
//! the exact `--thumbprint` value that would pin it.
//!
//! An RSA key shorter than the TLS library can verify (ring: 2048 bits;
//! ESXi 6.x hosts may still carry 1024-bit certificates) is refused in
//! every mode, `--insecure` included, with [`ShortKey`]: the handshake
//! could not succeed anyway, and "BadSignature" would name the symptom.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How the server certificate is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// Verify the chain and the name against the system and Mozilla roots,
    /// plus the certificates of `ca_file` when given.
    #[default]
    Verify,
    /// Accept exactly the certificate with this thumbprint (no chain or name check).
    Pin(Thumbprint),
    /// Accept any certificate (`--insecure`).
    Insecure,
}

/// A certificate thumbprint: SHA-256 (32 bytes) or the older SHA-1 (20 bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Thumbprint {
    Sha256([u8; 32]),
    Sha1([u8; 20]),
}

impl Thumbprint {
    /// Parses `AA:BB:..`, `aa bb ..` or plain hex; the length tells SHA-1 from SHA-256.
    pub fn parse(s: &str) -> Option<Thumbprint> {
        let hexs: String = s.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect();
        let bytes = hex::decode(hexs.trim()).ok()?;
        match bytes.len() {
            32 => bytes.try_into().ok().map(Thumbprint::Sha256),
            20 => bytes.try_into().ok().map(Thumbprint::Sha1),
            _ => None,
        }
    }

    pub fn is_sha1(&self) -> bool {
        matches!(self, Thumbprint::Sha1(_))
    }

    fn matches(&self, der: &[u8]) -> bool {
        match self {
            Thumbprint::Sha256(t) => sha2::Sha256::digest(der).as_slice() == t.as_slice(),
            Thumbprint::Sha1(t) => sha1::Sha1::digest(der).as_slice() == t.as_slice(),
        }
    }
}

impl std::fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b: &[u8] = match self {
            Thumbprint::Sha256(b) => b,
            Thumbprint::Sha1(b) => b,
        };
        f.write_str(&colon_hex(b))
    }
}

/// `AA:BB:CC` upper-case hex, the form vSphere and govc print.
pub fn colon_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02X}"));
    }
    s
}

/// SHA-256 thumbprint of a DER certificate, colon hex.
pub fn sha256_thumbprint(der: &[u8]) -> String {
    colon_hex(&sha2::Sha256::digest(der))
}

/// TLS settings of one connection.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    pub mode: TlsMode,
    /// Extra trusted CA certificates (PEM), e.g. the vCenter VMCA root.
    pub ca_file: Option<PathBuf>,
}

/// Errors building the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("read CA file {path}: {source}")]
    CaFile { path: PathBuf, source: std::io::Error },
    #[error("read CA file {path}: no usable certificate in it ({detail})")]
    CaFileContent { path: PathBuf, detail: String },
    #[error("build TLS configuration: {0}")]
    Config(String),
}

/// The smallest RSA modulus the TLS library (rustls with ring) verifies.
pub const MIN_RSA_BITS: usize = 2048;

/// The server's certificate has an RSA key the TLS library cannot verify.
/// Carried inside the rustls error (`CertificateError::Other`) so that the
/// client can name the cause.
#[derive(Debug, thiserror::Error)]
#[error("verify the server certificate: {bits}-bit RSA key, at least {min} bits are needed", min = MIN_RSA_BITS)]
pub struct ShortKey {
    pub bits: usize,
}

/// One DER element of `input` with tag `tag`: its content and what follows it.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    let (&l0, rest) = rest.split_first()?;
    let (len, rest) = if l0 < 0x80 {
        (usize::from(l0), rest)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)), &rest[n..])
    };
    if t != tag || rest.len() < len {
        return None;
    }
    Some((&rest[..len], &rest[len..]))
}

/// The first DER element of `input`, whatever its tag: (tag, rest after it).
fn der_any(input: &[u8]) -> Option<(u8, &[u8])> {
    let tag = *input.first()?;
    der(input, tag).map(|(_, rest)| (tag, rest))
}

/// The modulus size in bits of an X.509 certificate's RSA key; `None` when
/// the key is not RSA or the DER cannot be read.
pub fn rsa_key_bits(cert: &[u8]) -> Option<usize> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let (cert, _) = der(cert, 0x30)?;
    let (tbs, _) = der(cert, 0x30)?;
    let mut rest = tbs;
    if let Some((0xa0, r)) = der_any(rest) {
        rest = r; // [0] version
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        rest = der_any(rest)?.1;
    }
    let (spki, _) = der(rest, 0x30)?;
    let (alg, key) = der(spki, 0x30)?;
    let (oid, _) = der(alg, 0x06)?;
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let (bits, _) = der(key, 0x03)?;
    let (rsa, _) = der(bits.strip_prefix(&[0])?, 0x30)?;
    let (n, _) = der(rsa, 0x02)?;
    let start = n.iter().position(|&b| b != 0)?;
    let n = &n[start..];
    Some(n.len() * 8 - n[0].leading_zeros() as usize)
}

/// What the verifier saw: the SHA-256 thumbprint of the last end-entity certificate.
#[derive(Debug, Default)]
pub struct SeenCert(Mutex<Option<String>>);

impl SeenCert {
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
    fn set(&self, t: String) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(t);
        }
    }
}

#[derive(Debug)]
struct Verifier {
    mode: Inner,
    provider: Arc<CryptoProvider>,
    seen: Arc<SeenCert>,
}

#[derive(Debug)]
enum Inner {
    WebPki(Arc<rustls::client::WebPkiServerVerifier>),
    Pin(Thumbprint),
    Insecure,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.seen.set(sha256_thumbprint(end_entity));
        if let Some(bits) = rsa_key_bits(end_entity).filter(|&b| b < MIN_RSA_BITS) {
            return Err(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(
                rustls::OtherError(Arc::new(ShortKey { bits })),
            )));
        }
        match &self.mode {
            Inner::WebPki(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            Inner::Pin(t) => {
                if t.matches(end_entity) {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(rustls::Error::General("certificate thumbprint does not match the pinned one".into()))
                }
            }
            Inner::Insecure => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn load_ca_file(path: &Path, roots: &mut RootCertStore) -> Result<(), TlsError> {
    use rustls::pki_types::pem::PemObject;
    let data = std::fs::read(path).map_err(|source| TlsError::CaFile { path: path.to_path_buf(), source })?;
    let mut added = 0;
    let mut last_err = String::from("no CERTIFICATE block");
    for cert in CertificateDer::pem_slice_iter(&data) {
        match cert {
            Ok(c) => match roots.add(c) {
                Ok(()) => added += 1,
                Err(e) => last_err = e.to_string(),
            },
            Err(e) => last_err = e.to_string(),
        }
    }
    if added == 0 {
        return Err(TlsError::CaFileContent { path: path.to_path_buf(), detail: last_err });
    }
    Ok(())
}

/// Builds the rustls client configuration for `opts`, and the slot where the
/// verifier records the certificate it saw.
pub fn client_config(opts: &TlsOptions) -> Result<(Arc<rustls::ClientConfig>, Arc<SeenCert>), TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let seen = Arc::new(SeenCert::default());
    let inner = match &opts.mode {
        TlsMode::Insecure => Inner::Insecure,
        TlsMode::Pin(t) => Inner::Pin(t.clone()),
        TlsMode::Verify => {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let native = rustls_native_certs::load_native_certs();
            for c in native.certs {
                let _ = roots.add(c);
            }
            if let Some(p) = &opts.ca_file {
                load_ca_file(p, &mut roots)?;
            }
            let v = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
            Inner::WebPki(v)
        }
    };
    let verifier = Arc::new(Verifier { mode: inner, provider: provider.clone(), seen: seen.clone() });
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(cfg), seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_thumbprints() {
        let s256 =
            "F5:B7:44:04:B8:48:B1:A3:9D:CB:7C:2A:1E:E3:B7:A3:33:1B:44:2B:77:61:25:D1:58:34:AE:91:21:FD:27:F2";
        let t = Thumbprint::parse(s256).unwrap();
        assert!(!t.is_sha1());
        assert_eq!(t.to_string(), s256);
        let t = Thumbprint::parse(&s256.to_lowercase().replace(':', "")).unwrap();
        assert_eq!(t.to_string(), s256);
        let s1 = "20:19:E4:63:20:6F:B9:4A:B9:0B:13:08:CD:1B:CE:8C:2D:59:AC:F6";
        assert!(Thumbprint::parse(s1).unwrap().is_sha1());
        assert!(Thumbprint::parse("AB:CD").is_none());
        assert!(Thumbprint::parse("not hex").is_none());
    }
}
