//! Small encoding helpers shared by the PKI submodules.

use data_encoding::HEXLOWER;
use pem::{EncodeConfig, LineEnding, Pem};
use ring::digest;

/// PEM with 64-column base64 and `\n` line ends, the layout OpenSSL and the
/// real service emit, so stored and returned PEM look the same whatever the
/// uploader's line endings were. (The `pem` crate's default line end is CRLF.)
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let config = EncodeConfig::new().set_line_ending(LineEnding::LF);
    pem::encode_config(&Pem::new(label, der), config)
}

pub fn lower_hex(bytes: &[u8]) -> String {
    HEXLOWER.encode(bytes)
}

pub fn sha256_hex(data: &[u8]) -> String {
    lower_hex(digest::digest(&digest::SHA256, data).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input_is_the_known_constant() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn pem_wraps_at_64_columns() {
        let pem = pem_encode("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN CERTIFICATE-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END CERTIFICATE-----"));
        assert!(pem.ends_with('\n') && !pem.contains('\r'));
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        assert_eq!(block.contents, vec![0u8; 100]);
    }
}
