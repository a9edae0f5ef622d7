//! The interactive shell on a pseudo-terminal, as a person uses it: Tab completes a table
//! name, and Ctrl-C stops a query at once, both while it computes and while its rows pour
//! onto a terminal slower than the query.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `socialcx` process on a pseudo-terminal it has as its controlling terminal (so Ctrl-C
/// typed there is a SIGINT to it). A thread gathers what it writes, answers the cursor
/// position query as a terminal does, and reads slowly when asked to, like a slow terminal.
struct Terminal {
    child: Child,
    master: File,
    output: Arc<Mutex<Vec<u8>>>,
    slow: Arc<AtomicBool>,
}

impl Terminal {
    fn start(args: &[&str]) -> Terminal {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors it opened into `master` and `slave`.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors are open and owned by nothing else.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut command = Command::new(env!("CARGO_BIN_EXE_socialcx"));
        command
            .args(args)
            .env_remove("SOCIALCX_LAKE")
            .env_remove("SOCIALCX_LOG")
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() == -1 || libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("the shell starts");
        drop(command); // the parent's copies of the terminal's other end
        let output = Arc::new(Mutex::new(Vec::new()));
        let slow = Arc::new(AtomicBool::new(false));
        {
            let (output, slow) = (Arc::clone(&output), Arc::clone(&slow));
            let mut from = master.try_clone().unwrap();
            let mut answer = master.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                // Ends at EIO, once the shell has exited.
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let asked = {
                        let mut out = output.lock().unwrap();
                        out.extend_from_slice(&buf[..n]);
                        // A query that ends in this chunk (it is 4 bytes: not all in the 3 before).
                        let start = out.len().saturating_sub(n + 3);
                        out[start..].windows(4).filter(|w| *w == b"\x1b[6n").count()
                    };
                    for _ in 0..asked {
                        let _ = answer.write_all(b"\x1b[1;1R");
                    }
                    if slow.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(10)); // about 100 KB/s
                    }
                }
            });
        }
        Terminal {
            child,
            master,
            output,
            slow,
        }
    }

    /// Type `keys` (`\r` is Enter, `\t` Tab, `\x03` Ctrl-C).
    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
    }

    /// Read like a slow terminal (about 100 KB/s), or as fast as the shell writes.
    fn read_slowly(&self, slow: bool) {
        self.slow.store(slow, Ordering::SeqCst);
    }

    /// What the shell wrote from byte `from` on, as text.
    fn text_from(&self, from: usize) -> String {
        let out = self.output.lock().unwrap();
        String::from_utf8_lossy(&out[from.min(out.len())..]).into_owned()
    }

    /// Wait until what the shell writes after byte `from` holds `needle`; the byte after it.
    fn wait_for(&self, from: usize, needle: &str, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            {
                let out = self.output.lock().unwrap();
                let rest = &out[from.min(out.len())..];
                if let Some(i) = rest
                    .windows(needle.len())
                    .position(|w| w == needle.as_bytes())
                {
                    return from + i + needle.len();
                }
            }
            if Instant::now() > deadline {
                let text = self.text_from(from);
                let tail: String = text
                    .chars()
                    .rev()
                    .take(2000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                panic!("no {needle:?} within {limit:?}; the shell wrote (the end):\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The CPU time the shell's process has used, in clock ticks (1/100 s on Linux).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // After "pid (name) ": state is field 3, utime 14 and stime 15.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// CPU ticks spent over the next `span`.
    fn cpu_over(&self, span: Duration) -> u64 {
        let before = self.cpu_ticks();
        std::thread::sleep(span);
        self.cpu_ticks() - before
    }

    /// Wait for the process to exit (at most `limit`).
    fn exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the shell did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tab_completes_and_ctrl_c_stops_a_query_at_once_in_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    let history = history.to_str().unwrap();
    let mut term = Terminal::start(&["--lake", "memory://", "shell", "--history", history]);
    let long = Duration::from_secs(60);
    let mut at = term.wait_for(0, "socialcx> ", long);
    term.type_keys(".format csv\r");
    at = term.wait_for(at, "socialcx> ", long);

    // Tab completes `conv` to the one table it can be: the query runs on `conversations`.
    term.type_keys("SELECT count(*) AS n FROM conv\t;\r");
    at = term.wait_for(at, "1 row in", long);
    let answer = term.text_from(0);
    assert!(answer.contains("n\r\n0\r\n"), "{answer}");
    assert!(!answer.contains("not found"), "{answer}");
    at = term.wait_for(at, "socialcx> ", long);

    // A query that computes without output: Ctrl-C stops it, and its work, at once.
    term.type_keys(
        "SELECT count(*) AS n FROM generate_series(1, 100000000000) WHERE value % 7 = 0;\r",
    );
    let started = term.cpu_ticks();
    let deadline = Instant::now() + long;
    while term.cpu_ticks() < started + 50 {
        assert!(Instant::now() < deadline, "the query never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pressed = Instant::now();
    term.type_keys("\x03");
    at = term.wait_for(at, "query cancelled", Duration::from_secs(10));
    assert!(
        pressed.elapsed() < Duration::from_secs(5),
        "{:?}",
        pressed.elapsed()
    );
    at = term.wait_for(at, "socialcx> ", long);
    std::thread::sleep(Duration::from_millis(300));
    let spent = term.cpu_over(Duration::from_secs(2));
    assert!(
        spent <= 20,
        "the cancelled query kept computing: {spent} ticks in 2 s"
    );

    // A query whose rows pour onto a terminal slower than the query: Ctrl-C stops it at
    // once too, not after the batches it has ready are all written.
    term.read_slowly(true);
    term.type_keys("SELECT value, repeat('x', 200) AS pad FROM generate_series(1, 10000000000);\r");
    at = term.wait_for(at, &"x".repeat(200), long);
    let pressed = Instant::now();
    term.type_keys("\x03");
    at = term.wait_for(at, "query cancelled", Duration::from_secs(20));
    assert!(
        pressed.elapsed() < Duration::from_secs(10),
        "{:?}",
        pressed.elapsed()
    );
    term.read_slowly(false);
    at = term.wait_for(at, "socialcx> ", long);
    std::thread::sleep(Duration::from_millis(300));
    let spent = term.cpu_over(Duration::from_secs(2));
    assert!(
        spent <= 20,
        "the cancelled query kept running: {spent} ticks in 2 s"
    );

    // The shell goes on.
    term.type_keys("SELECT 6 * 7 AS answer;\r");
    at = term.wait_for(at, "answer\r\n42\r\n", long);
    term.wait_for(at, "socialcx> ", long);
    term.type_keys(".quit\r");
    assert!(term.exit(long).success());
}
