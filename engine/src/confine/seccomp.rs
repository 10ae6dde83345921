//! The seccomp filter of confined code without a network grant: no `AF_UNIX` sockets, no
//! io_uring.
//!
//! Why: Landlock does not mediate `connect` on a named UNIX socket, and a network namespace
//! does not hide the file system, so without this a hook with `network = "none"` reaches every
//! socket file whose mode lets its user connect — a 0666 daemon socket, or, for root kept as
//! root (`hookbox shell`), a 0600 root one. seccomp cannot read `connect`'s address, so the
//! filter refuses the socket itself: `socket(AF_UNIX, …)` fails with `EACCES`. `socketpair`
//! (anonymous, used by programs for their own pipes) stays allowed. io_uring could create a
//! socket without the `socket` system call (`IORING_OP_SOCKET`), so `io_uring_setup` fails with
//! `ENOSYS` (programs then fall back to ordinary calls). Other architectures' calling
//! conventions (x32, i386 on x86-64) are refused the same way, so a 32-bit program cannot go
//! around the filter with `socketcall`.
//!
//! The program is a constant: nothing is built after `fork`.

use libc::sock_filter;

const BPF_LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K

const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
const DENY_SOCKET: u32 = SECCOMP_RET_ERRNO | libc::EACCES as u32;
const NO_SUCH_CALL: u32 = SECCOMP_RET_ERRNO | libc::ENOSYS as u32;

/// Offsets in `struct seccomp_data`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// The low 32 bits of the first argument (little-endian), the socket's family.
const OFFSET_ARG0_LOW: u32 = 16;

/// `io_uring_setup`, the same number on every architecture.
const NR_IO_URING_SETUP: u32 = 425;

#[cfg(target_arch = "x86_64")]
mod arch {
    pub const AUDIT_ARCH: u32 = 0xC000_003E;
    pub const NR_SOCKET: u32 = 41;
    /// x32 system calls have this bit set in their number.
    pub const X32_BIT: u32 = 0x4000_0000;
    pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    pub const I386_NR_SOCKETCALL: u32 = 102;
    pub const I386_NR_SOCKET: u32 = 359;
}

#[cfg(target_arch = "aarch64")]
mod arch {
    pub const AUDIT_ARCH: u32 = 0xC000_00B7;
    pub const NR_SOCKET: u32 = 198;
    /// No x32 here: a number no call has.
    pub const X32_BIT: u32 = 0xFFFF_FFFF;
    /// No 32-bit compat filter on aarch64 (a value no arch field has).
    pub const AUDIT_ARCH_I386: u32 = 0xFFFF_FFFF;
    pub const I386_NR_SOCKETCALL: u32 = 0xFFFF_FFFF;
    pub const I386_NR_SOCKET: u32 = 0xFFFF_FFFF;
}

const fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// The filter. Jump offsets count from the next instruction; the labels are the targets.
pub(super) static NO_UNIX_SOCKETS: [sock_filter; 16] = [
    stmt(BPF_LD_W_ABS, OFFSET_ARCH),                 // 0
    jump(BPF_JEQ_K, arch::AUDIT_ARCH, 1, 0),         // 1: → 3 native
    jump(BPF_JEQ_K, arch::AUDIT_ARCH_I386, 4, 12),   // 2: → 7 compat, else → 15
    stmt(BPF_LD_W_ABS, OFFSET_NR),                   // 3: native
    jump(BPF_JGE_K, arch::X32_BIT, 10, 0),           // 4: → 15
    jump(BPF_JEQ_K, arch::NR_SOCKET, 5, 0),          // 5: → 11 family
    jump(BPF_JEQ_K, NR_IO_URING_SETUP, 8, 6),        // 6: → 15, else → 13
    stmt(BPF_LD_W_ABS, OFFSET_NR),                   // 7: 32-bit compat
    jump(BPF_JEQ_K, arch::I386_NR_SOCKETCALL, 5, 0), // 8: → 14
    jump(BPF_JEQ_K, arch::I386_NR_SOCKET, 1, 0),     // 9: → 11 family
    jump(BPF_JEQ_K, NR_IO_URING_SETUP, 4, 2),        // 10: → 15, else → 13
    stmt(BPF_LD_W_ABS, OFFSET_ARG0_LOW),             // 11: family (low word of arg 0)
    jump(BPF_JEQ_K, libc::AF_UNIX as u32, 1, 0),     // 12: → 14, else → 13
    stmt(BPF_RET_K, SECCOMP_RET_ALLOW),              // 13
    stmt(BPF_RET_K, DENY_SOCKET),                    // 14
    stmt(BPF_RET_K, NO_SUCH_CALL),                   // 15
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every jump lands inside the program, and the program ends with returns (the kernel
    /// refuses a filter that does not, and the child would then report the step as failed).
    #[test]
    fn jumps_stay_inside_the_program() {
        for (pc, insn) in NO_UNIX_SOCKETS.iter().enumerate() {
            if insn.code == BPF_JEQ_K || insn.code == BPF_JGE_K {
                for off in [insn.jt, insn.jf] {
                    assert!(pc + 1 + usize::from(off) < NO_UNIX_SOCKETS.len(), "pc {pc}");
                }
            }
        }
        assert!(NO_UNIX_SOCKETS[13..].iter().all(|i| i.code == BPF_RET_K));
    }
}
