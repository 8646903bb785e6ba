//! The operations a script can start, with what each `mas_*_begin` must answer.

use microatsocket::ffi::*;
use microatsocket::hostname::HostName;

use crate::{limits_from, Harness, OpKind, Socket};

impl Harness<'_> {
    pub(crate) fn one_op(&mut self, op: u8, interrupt: u8) {
        match op % 12 {
            0 => {
                assert_eq!(mas_reset_begin(), 0);
                self.drive(OpKind::Reset, interrupt);
                for s in &mut self.sockets {
                    s.live = false;
                }
                assert_eq!(mas_slots_in_use(), 0, "slots in use after a reset");
            }
            1 | 2 => self.open(op & 0x80 != 0),
            3 => {
                let (handle, live) = self.pick();
                let peer = self.peer();
                // Safety: NULL or a live local.
                let rc = unsafe { mas_connect_begin(handle, as_ptr(&peer)) };
                let bad_peer = peer.is_none_or(|p| p.family != 4 && p.family != 6);
                self.expect_begin(rc, live, if bad_peer { Some(MAS_EINVAL) } else { None }, &[]);
                if rc == 0 {
                    self.drive(OpKind::Connect, interrupt);
                }
            }
            4 | 5 => self.sendto(interrupt),
            6 => {
                let (handle, live) = self.pick();
                let timeout = match self.script.byte_or(0) {
                    0 => 0,
                    255 => -1,
                    t => i32::from(t) * 20,
                };
                let rc = mas_recvfrom_begin(handle, timeout, self.now);
                self.expect_begin(rc, live, None, &[MAS_ENOTCONN]);
                if rc == 0 {
                    self.drive(OpKind::RecvFrom { timeout_ms: u32::try_from(timeout).ok() }, interrupt);
                }
            }
            7 => {
                let (handle, live) = self.pick();
                let rc = mas_poll_begin(handle, self.now);
                self.expect_begin(rc, live, None, &[]);
                if rc == 0 {
                    self.drive(OpKind::Poll, interrupt);
                }
            }
            8 => self.resolve(interrupt),
            9 => {
                let (handle, live) = self.pick();
                let rc = mas_close_begin(handle);
                self.expect_begin(rc, live, None, &[]);
                if rc == 0 {
                    self.drive(OpKind::Close, interrupt);
                    // Ended, refused or abandoned: the slot is free and the handle stale.
                    for s in self.sockets.iter_mut().filter(|s| s.handle == handle) {
                        s.live = false;
                    }
                }
            }
            10 => {
                self.limits = limits_from(self.script.byte_or(0));
                // Safety: a live local.
                assert_eq!(unsafe { mas_configure(&self.limits) }, 0);
            }
            _ => {
                let (handle, live) = self.pick();
                let port = self.script.u16();
                let rc = mas_socket_bind(handle, port);
                self.any_bound |= rc == 0;
                self.expect_begin(rc, live, None, &[]);
            }
        }
    }

    pub(crate) fn open(&mut self, bind: bool) {
        let live = self.sockets.iter().filter(|s| s.live).count();
        let mut handle = 0;
        // Safety: a live local.
        let rc = unsafe { mas_socket_open(&mut handle) };
        if live == 6 {
            assert_eq!(rc, MAS_ENOMEM, "a seventh socket");
            return;
        }
        assert_eq!(rc, 0, "open with {live} sockets open");
        self.sockets.push(Socket { handle, live: true });
        if bind {
            let port = self.script.u16();
            assert_eq!(mas_socket_bind(handle, port), 0);
            self.any_bound = true;
        }
    }

    pub(crate) fn sendto(&mut self, interrupt: u8) {
        let (handle, live) = self.pick();
        let len = match self.script.byte_or(1) {
            b @ 0..=199 => usize::from(b % 64),
            b => usize::from(b - 200) * 30,
        };
        let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(37) ^ 0x0d).collect();
        let peer = self.peer();
        // Safety: live locals (or NULL).
        let rc = unsafe { mas_sendto_begin(handle, data.as_ptr(), len, as_ptr(&peer)) };
        let bad_peer = peer.is_some_and(|p| p.family != 4 && p.family != 6);
        let refusals = [MAS_ENOTCONN, MAS_EMSGSIZE, MAS_EINVAL];
        self.expect_begin(rc, live, if bad_peer { Some(MAS_EINVAL) } else { None }, &refusals);
        if rc == MAS_EINVAL && !bad_peer {
            assert_eq!(len, 0, "a datagram refused as invalid");
        }
        if rc == 0 {
            self.drive(OpKind::SendTo { len }, interrupt);
        }
    }

    pub(crate) fn resolve(&mut self, interrupt: u8) {
        let host: Vec<u8> = match self.script.byte_or(0) % 6 {
            0 => b"a.test".to_vec(),
            1 => b"x.Pycom_Dummy.test".to_vec(),
            // Too long for a 124-byte command: the fallback query.
            2 => [&[b'a'; 60][..], b".", &[b'b'; 60], b".", &[b'c'; 60], b".test"].concat(),
            3 => {
                let len = usize::from(self.script.byte_or(0));
                self.script.take(len).to_vec()
            }
            4 => b"localhost".to_vec(),
            _ => b"coap.me.".to_vec(),
        };
        let family = [4, 6, 4, 6, 0][usize::from(self.script.byte_or(0) % 5)];
        let server = self.peer();
        let query_id = self.script.u16();
        // Family 0 with a server: our own AAAA and A queries over one socket (getaddrinfo's
        // af=0 once the modem's resolver failed); the modem's resolver takes 4 or 6 only.
        let both = family == 0 && server.is_some();
        // Safety: live locals (or NULL).
        let rc = unsafe {
            if both {
                mas_resolve_own_begin(host.as_ptr().cast(), host.len(), family, as_ptr(&server), query_id)
            } else {
                mas_resolve_begin(host.as_ptr().cast(), host.len(), family, as_ptr(&server), query_id)
            }
        };
        let valid = HostName::parse(&host).is_ok()
            && (matches!(family, 4 | 6) || both)
            && server.is_none_or(|s| s.family == 4 || s.family == 6);
        assert_eq!(rc, if valid { 0 } else { MAS_EINVAL }, "resolve of {host:?}, family {family}");
        if rc == 0 {
            self.drive(OpKind::Resolve { family }, interrupt);
        }
    }

    /// Checks what a `mas_*_begin` answered: `first` if an argument is refused before the
    /// handle is looked at, `EBADF` for a closed socket, else success or one of `refusals`.
    pub(crate) fn expect_begin(&self, rc: i32, live: Option<bool>, first: Option<i32>, refusals: &[i32]) {
        if let Some(code) = first {
            assert_eq!(rc, code);
            return;
        }
        match live {
            Some(false) => assert_eq!(rc, MAS_EBADF, "a closed socket's handle reached its slot"),
            Some(true) => assert!(rc == 0 || refusals.contains(&rc), "refused with {rc}"),
            None => assert!(rc == 0 || rc == MAS_EBADF || refusals.contains(&rc), "refused with {rc}"),
        }
    }

    /// A socket's handle (open or closed), or now and then any number at all.
    pub(crate) fn pick(&mut self) -> (mas_handle, Option<bool>) {
        let b = self.script.byte_or(0);
        if b >= 0xf8 || self.sockets.is_empty() {
            return (self.script.u32(), None);
        }
        let s = &self.sockets[usize::from(b) % self.sockets.len()];
        (s.handle, Some(s.live))
    }

    /// A peer address: either family, the longest text, an IPv4-mapped one, a bad family, or
    /// none (NULL: the connected peer).
    pub(crate) fn peer(&mut self) -> Option<mas_addr> {
        let b = self.script.byte_or(0);
        let port = if b & 0x80 != 0 { self.script.u16() } else { 7 };
        let mut ip = [0u8; 16];
        let family = match b % 8 {
            0 => {
                ip[..4].copy_from_slice(&[127, 0, 0, 1]);
                4
            }
            1 => {
                ip[15] = 1;
                6
            }
            2 => {
                ip[..4].copy_from_slice(&[10, 0, 0, b]);
                4
            }
            3 => {
                ip[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
                ip[15] = b;
                6
            }
            4 => {
                ip[10..].copy_from_slice(&[0xff, 0xff, 1, 2, 3, 4]);
                6
            }
            5 => 5,
            6 => return None,
            _ => {
                ip = [0xff; 16];
                6
            }
        };
        Some(mas_addr { family, port, ip })
    }
}

fn as_ptr(addr: &Option<mas_addr>) -> *const mas_addr {
    addr.as_ref().map_or(std::ptr::null(), |a| a as *const mas_addr)
}
