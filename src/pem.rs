//! DER credentials as the PEM text the modem stores (`AT+SQNSNVW` takes PEM only).
//!
//! MicroPython's `ssl`/`tls` take certificates and keys as DER bytes (its own TLS tests do), and
//! CPython's `cadata` takes DER too; the modem wants PEM. A certificate input may be several DER
//! certificates one after the other (as `cadata` allows); each becomes one PEM block. A key is one
//! DER structure whose label follows its form: PKCS#8 (`PRIVATE KEY`), SEC 1 (`EC PRIVATE KEY`)
//! or PKCS#1 (`RSA PRIVATE KEY`).

use crate::error::Error;

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LINE: usize = 64;

/// One DER element at the start of `der`: `(tag, header length, content length)`.
fn element(der: &[u8]) -> Option<(u8, usize, usize)> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    if first < 0x80 {
        return Some((tag, 2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    if count == 0 || count > 3 {
        return None;
    }
    let len = der.get(2..2 + count)?.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
    Some((tag, 2 + count, len))
}

/// The whole first element of `der` and what follows it.
fn split_element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (tag, header, len) = element(der)?;
    let end = header.checked_add(len)?;
    let whole = der.get(..end)?;
    Some((tag, whole, der.get(end..)?))
}

fn key_label(der: &[u8]) -> Option<&'static [u8]> {
    let (tag, header, _) = element(der)?;
    if tag != 0x30 {
        return None;
    }
    let body = der.get(header..)?;
    let (tag, version, rest) = split_element(body)?;
    if tag != 0x02 {
        return None;
    }
    let (next, _, _) = split_element(rest)?;
    match (version.get(2..)?, next) {
        ([0], 0x30) => Some(b"PRIVATE KEY"),
        ([1], 0x04) => Some(b"EC PRIVATE KEY"),
        ([0], 0x02) => Some(b"RSA PRIVATE KEY"),
        _ => None,
    }
}

/// Writes into `out` (when given) and counts.
struct Writer<'a> {
    out: Option<&'a mut [u8]>,
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.len.checked_add(bytes.len()).ok_or(Error::MessageTooLong)?;
        if let Some(out) = self.out.as_deref_mut() {
            out.get_mut(self.len..end).ok_or(Error::MessageTooLong)?.copy_from_slice(bytes);
        }
        self.len = end;
        Ok(())
    }

    fn block(&mut self, label: &[u8], der: &[u8]) -> Result<(), Error> {
        self.put(b"-----BEGIN ")?;
        self.put(label)?;
        self.put(b"-----\n")?;
        let mut column = 0;
        for chunk in der.chunks(3) {
            let b = [chunk.first().copied().unwrap_or(0), chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let mut quad = [b'='; 4];
            for (i, q) in quad.iter_mut().enumerate().take(chunk.len() + 1) {
                *q = *BASE64.get(((n >> (18 - 6 * i)) & 63) as usize).ok_or(Error::InvalidArgument)?;
            }
            self.put(&quad)?;
            column += 4;
            if column == LINE {
                self.put(b"\n")?;
                column = 0;
            }
        }
        if column > 0 {
            self.put(b"\n")?;
        }
        self.put(b"-----END ")?;
        self.put(label)?;
        self.put(b"-----\n")
    }
}

/// Whether `data` looks like DER (a SEQUENCE) rather than PEM text.
pub fn is_der(data: &[u8]) -> bool {
    data.first() == Some(&0x30) && split_element(data).is_some()
}

/// The PEM text of DER `der`: certificates (one or more, back to back) or one private key.
/// Writes into `out` when given; returns the length (so `None` asks for the size needed).
pub fn der_to_pem(der: &[u8], private_key: bool, out: Option<&mut [u8]>) -> Result<usize, Error> {
    let mut w = Writer { out, len: 0 };
    if private_key {
        let (_, whole, rest) = split_element(der).ok_or(Error::InvalidArgument)?;
        if !rest.is_empty() {
            return Err(Error::InvalidArgument);
        }
        let label = key_label(whole).ok_or(Error::InvalidArgument)?;
        w.block(label, whole)?;
        return Ok(w.len);
    }
    let mut rest = der;
    if rest.is_empty() {
        return Err(Error::InvalidArgument);
    }
    while !rest.is_empty() {
        let (tag, whole, next) = split_element(rest).ok_or(Error::InvalidArgument)?;
        if tag != 0x30 {
            return Err(Error::InvalidArgument);
        }
        w.block(b"CERTIFICATE", whole)?;
        rest = next;
    }
    Ok(w.len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn base64_lines_and_padding() {
        // SEQUENCE of 4 bytes: 30 02 05 00 (six bytes' base64 check by hand).
        let der = [0x30, 0x02, 0x05, 0x00];
        let mut out = vec![0u8; der_to_pem(&der, false, None).unwrap()];
        der_to_pem(&der, false, Some(&mut out)).unwrap();
        assert_eq!(&out[..], b"-----BEGIN CERTIFICATE-----\nMAIFAA==\n-----END CERTIFICATE-----\n");
    }

    #[test]
    fn two_certificates_make_two_blocks_and_long_ones_wrap_at_64() {
        let mut der = vec![0x30, 0x81, 0x60];
        der.extend(std::iter::repeat_n(0xab, 0x60));
        let both = [der.clone(), der.clone()].concat();
        let mut out = vec![0u8; der_to_pem(&both, false, None).unwrap()];
        der_to_pem(&both, false, Some(&mut out)).unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(text.lines().all(|l| l.len() <= 64));
    }

    #[test]
    fn key_forms_get_their_labels() {
        let pkcs8 = [0x30, 0x08, 0x02, 0x01, 0x00, 0x30, 0x00, 0x04, 0x01, 0x00];
        let sec1 = [0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x00];
        let pkcs1 = [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x05];
        for (der, label) in [(&pkcs8[..], "PRIVATE KEY"), (&sec1[..], "EC PRIVATE KEY"), (&pkcs1[..], "RSA PRIVATE KEY")] {
            let mut out = vec![0u8; der_to_pem(der, true, None).unwrap()];
            der_to_pem(der, true, Some(&mut out)).unwrap();
            assert!(std::str::from_utf8(&out).unwrap().starts_with(&std::format!("-----BEGIN {label}-----\n")));
        }
        assert_eq!(der_to_pem(&[0x30, 0x00], true, None), Err(Error::InvalidArgument));
    }

    #[test]
    fn not_der() {
        assert!(!is_der(b"-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(der_to_pem(b"hello", false, None), Err(Error::InvalidArgument));
        assert_eq!(der_to_pem(&[0x30, 0x05, 0x00], false, None), Err(Error::InvalidArgument));
        let mut small = [0u8; 10];
        assert_eq!(der_to_pem(&[0x30, 0x02, 0x05, 0x00], false, Some(&mut small)), Err(Error::MessageTooLong));
    }
}
