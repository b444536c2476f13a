//! CPU time of this process: every thread's time on a CPU, ended threads included, from the
//! process CPU-time clock (`CLOCK_PROCESS_CPUTIME_ID`). One system call, so the meter itself does not
//! show up in the figure it measures.

use std::time::Duration;

use rustix::time::{clock_gettime, ClockId};

/// CPU time used so far by all threads of this process.
pub fn used() -> Duration {
    let now = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
