//! Reads the fuzzer's bytes as a script: operations, modem answers and the clock. When the
//! bytes run out the modem answers `OK` and the clock ticks 1 ms, so every operation can end.

use crate::modem::{template, Context, TEMPLATES};

pub struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Script { data }
    }

    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    pub fn byte_or(&mut self, default: u8) -> u8 {
        self.byte().unwrap_or(default)
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte_or(0), self.byte_or(0)])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from(self.u16()) << 16 | u32::from(self.u16())
    }

    pub fn take(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// The modem's answer: one or more pieces, each a real answer or raw bytes. Bit 7 of a
    /// piece's byte picks raw bytes (length in the next byte), bit 6 chains another piece.
    pub fn reply(&mut self, cx: &Context<'_>) -> Vec<u8> {
        let Some(mut b) = self.byte() else { return b"\r\nOK\r\n".to_vec() };
        let mut out = Vec::new();
        loop {
            if b & 0x80 != 0 {
                let len = usize::from(self.byte_or(0));
                out.extend_from_slice(self.take(len));
            } else {
                out.extend(template((b & 0x3f) % TEMPLATES, cx));
            }
            if b & 0x40 == 0 || out.len() > 8192 {
                return out;
            }
            match self.byte() {
                Some(next) => b = next,
                None => return out,
            }
        }
    }

    /// How long the exchange took, at most its own timeout: 1 ms to over 2 minutes.
    pub fn elapsed_ms(&mut self, timeout_ms: u32) -> u32 {
        let b = self.byte_or(0);
        let scale = [1, 10, 100, 2_000][usize::from(b >> 6)];
        (u32::from(b & 0x3f) * scale).clamp(1, timeout_ms.max(1))
    }
}
