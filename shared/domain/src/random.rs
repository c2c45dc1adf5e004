//! The operating system's randomness (through UUIDv4, which draws from the OS
//! CSPRNG), and secret hashing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::ports::Random;

pub struct OsRandom;

fn bytes32() -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    out
}

impl Random for OsRandom {
    fn code_number(&self) -> u32 {
        let b = bytes32();
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) % 1_000_000_000
    }

    fn secret(&self) -> String {
        URL_SAFE_NO_PAD.encode(bytes32())
    }

    fn id(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut out = String::with_capacity(len);
        while out.len() < len {
            for b in bytes32() {
                // 252 = 7 * 36: rejection sampling keeps the choice uniform.
                if b < 252 && out.len() < len {
                    out.push(ALPHABET[(b % 36) as usize] as char);
                }
            }
        }
        out
    }
}

/// Hex SHA-256 of a secret: what storage keeps instead of the secret.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two hashes in time independent of where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
