//! One guest for every sandbox test: `probe COMMAND ARGS...` does one thing and reports it
//! on stdout. A failed attempt prints `ERR <error>` and exits 3, so a test can tell "the
//! sandbox refused" from "the probe crashed".

use std::io::{Read, Write};

fn fail(what: impl std::fmt::Display) -> ! {
    println!("ERR {what}");
    std::process::exit(3)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cmd = args.get(1).map(String::as_str).unwrap_or("");
    let rest = &args[2.min(args.len())..];
    let arg = |i: usize| rest.get(i).cloned().unwrap_or_default();
    match cmd {
        "exit" => std::process::exit(arg(0).parse().unwrap_or(1)),
        "args" => {
            for a in &args {
                println!("{a}");
            }
        }
        "env" => {
            for (k, v) in std::env::vars() {
                println!("{k}={v}");
            }
        }
        "read" => match std::fs::read_to_string(arg(0)) {
            Ok(text) => print!("OK {text}"),
            Err(e) => fail(e),
        },
        "write" => match std::fs::write(arg(0), arg(1)) {
            Ok(()) => println!("OK"),
            Err(e) => fail(e),
        },
        "list" => match std::fs::read_dir(arg(0)) {
            Ok(entries) => {
                for e in entries.flatten() {
                    println!("{}", e.file_name().to_string_lossy());
                }
            }
            Err(e) => fail(e),
        },
        "count" => {
            // A fixed amount of work, for fuel accounting.
            let n: u64 = arg(0).parse().unwrap_or(0);
            let mut acc = 0u64;
            for i in 0..n {
                acc = std::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
            }
            println!("{acc}");
        }
        "spin" => loop {
            std::hint::black_box(0);
        },
        "sleep-loop" => loop {
            std::thread::sleep(std::time::Duration::from_millis(100));
        },
        "alloc" => {
            // Grows memory 1 MiB at a time and touches it, until refused.
            let mut chunks: Vec<Vec<u8>> = Vec::new();
            loop {
                chunks.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&chunks);
            }
        }
        "flood" => {
            let total: u64 = arg(0).parse().unwrap_or(0);
            let chunk = vec![b'x'; 1 << 20];
            let mut out = std::io::stdout().lock();
            let mut sent = 0u64;
            while sent < total {
                let _ = out.write_all(&chunk);
                sent += chunk.len() as u64;
            }
            let _ = out.flush();
            eprintln!("flood done");
        }
        "socket" => match std::net::TcpStream::connect(arg(0)) {
            Ok(mut s) => {
                let _ = s.write_all(b"hello from the guest");
                println!("OK connected");
            }
            Err(e) => fail(e),
        },
        "stdin" => {
            let mut s = String::new();
            match std::io::stdin().read_to_string(&mut s) {
                Ok(n) => println!("OK {n}"),
                Err(e) => fail(e),
            }
        }
        "context" => match hookbox_sdk::context() {
            Ok(c) => println!("{} {} {} {}", c.stage, c.hook, c.work_dir, c.args.join(",")),
            Err(e) => fail(e),
        },
        "log" => hookbox_sdk::log::info(&arg(0)),
        "exec" => {
            let out = hookbox_sdk::Command::new(arg(0))
                .args(rest.iter().skip(1).cloned())
                .output();
            match out {
                Ok(o) => {
                    print!("{}", String::from_utf8_lossy(&o.stdout));
                    eprint!("{}", String::from_utf8_lossy(&o.stderr));
                    std::process::exit(o.status)
                }
                Err(e) => {
                    println!("ERR {e}");
                    std::process::exit(e.exit_code())
                }
            }
        }
        "tenant" => {
            // What one tenant of many sees: its variable, its file, and a neighbour's file.
            println!("env={}", std::env::var("TENANT").unwrap_or_default());
            match std::fs::read_to_string("mine.txt") {
                Ok(t) => println!("mine={t}"),
                Err(e) => println!("mine=ERR {e}"),
            }
            match std::fs::read_to_string(arg(0)) {
                Ok(t) => println!("neighbour=OK {t}"),
                Err(e) => println!("neighbour=ERR {e}"),
            }
        }
        "trap" => {
            #[allow(unconditional_panic)]
            let v = [1][std::hint::black_box(5)];
            println!("{v}");
        }
        "residue" => residue(arg(0).as_bytes()),
        other => fail(format!("unknown probe command {other:?}")),
    }
}

/// `residue MARKER`: whether this instance's linear memory holds what an earlier run left
/// (MARKER, each byte XORed with 0x5A so that the pattern exists nowhere but where a run
/// wrote it), then writes it over 1 MiB of newly grown memory and checks that its own scan
/// finds it there (so a "none" means the scan would have seen a residue).
fn residue(marker: &[u8]) {
    if marker.is_empty() {
        fail("residue needs a marker");
    }
    let found_before = scan(marker);
    let grown = core::arch::wasm32::memory_grow::<0>(16);
    if grown == usize::MAX {
        fail("memory.grow refused");
    }
    let start = grown * 65536;
    let mut at = start;
    while at + marker.len() <= start + 16 * 65536 {
        for (i, b) in marker.iter().enumerate() {
            // SAFETY: [start, start + 1 MiB) was just grown: memory no allocation owns.
            unsafe { std::ptr::write_volatile((at + i) as *mut u8, b ^ 0x5A) };
        }
        at += marker.len();
    }
    println!("residue={}", if found_before { "found" } else { "none" });
    println!("selfcheck={}", if scan(marker) { "found" } else { "none" });
}

fn scan(marker: &[u8]) -> bool {
    let end = core::arch::wasm32::memory_size::<0>() * 65536;
    // From 1 KiB: address 0 is the null pointer.
    (1024..end.saturating_sub(marker.len())).any(|at| {
        marker.iter().enumerate().all(|(i, b)| {
            // SAFETY: every address below memory.size is readable in wasm.
            unsafe { std::ptr::read_volatile((at + i) as *const u8) == b ^ 0x5A }
        })
    })
}
