//! CPU time of this process: every thread's time on a CPU, from `/proc/self/task/*/schedstat` (its
//! first field, nanoseconds). Threads that ended are not counted; the bench's runtime keeps its threads.

use std::time::Duration;

/// CPU time used so far by the threads of this process that are alive.
pub fn used() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|line| line.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    Duration::from_nanos(nanos)
}
