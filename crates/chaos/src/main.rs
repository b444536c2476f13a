//! `chaos`: the chaos test of the session store (issue 19). Several `signin` processes and an
//! in-process app (tauri-plugin-oidc-core's `Controller`) share one session against dev/idp and do random operations
//! (status, token, refresh, API calls against the demo API, profile reloads, sign-in while others
//! refresh, sign-out and sign-in again) while the harness injects faults: the Secret Service stopped
//! and restarted, every keystore session chunked, a full disk, a fault proxy in front of dev/idp and
//! the demo API (delays, 5xx, 429, dropped connections), and SIGKILL at random moments.
//!
//! Two regimes:
//! - `calm`: no kills, `IDP_REFRESH_TOKEN_GRACE=0`: every other fault, and no session may be lost;
//! - `kills`: kills too, with the grace period Okta uses (30 s): a process killed after the provider
//!   rotated the refresh token and before its save returned takes the only copy of the new token; the
//!   grace period covers one such kill, not two in a row. Every lost session must be explained by such
//!   a double loss (see [`ledger`]); an unexplained one fails the run.
//!
//! After every operation the harness checks: the stored session is whole under the store's lock and
//! present while signed in; nothing is set aside (`*.corrupt`); the other user's sessions are as they
//! were; signed out, no token of the session is in any file or keystore item; no process panicked or
//! printed a token. It prints its seed first (`--seed N` replays the same choices) and its figures
//! last, and exits non-zero on any violation or unexplained loss, and (the long run only) on a target
//! not reached.
//!
//! Usage: `chaos [--short] [--seed N] [--regime calm|kills|both]` (needs the `signin` and
//! `testkit-browser` binaries beside it: `make chaos` builds them).

mod checks;
mod disk;
mod ledger;
mod proxy;
mod rng;
mod run;
mod world;

use std::{process::ExitCode, time::Duration};

use run::{Figures, Regime, Targets};

fn usage() -> ExitCode {
    eprintln!("usage: chaos [--short] [--seed N] [--regime calm|kills|both]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // The in-process app's log, for a failure's story: RUST_LOG=native_oidc=info,tauri_plugin_oidc_core=info.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let mut args = std::env::args().skip(1);
    let (mut short, mut seed, mut regimes) = (false, None, "both".to_string());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--short" => short = true,
            "--seed" => match args.next().and_then(|s| s.parse().ok()) {
                Some(value) => seed = Some(value),
                None => return usage(),
            },
            "--regime" => match args.next() {
                Some(value) if ["calm", "kills", "both"].contains(&value.as_str()) => {
                    regimes = value
                }
                _ => return usage(),
            },
            _ => return usage(),
        }
    }
    let seed = seed.unwrap_or_else(ledger::now_ms);
    println!(
        "chaos: seed {seed} (replay: chaos --seed {seed}{})",
        if short { " --short" } else { "" }
    );
    let (calm, kills) = if short {
        (
            Targets {
                ops: 160,
                outages: 3,
                kills: 0,
                round_ops: 80,
                max: Duration::from_secs(60),
            },
            Targets {
                ops: 100,
                outages: 0,
                kills: 15,
                round_ops: 50,
                max: Duration::from_secs(50),
            },
        )
    } else {
        (
            Targets {
                ops: 5_000,
                outages: 20,
                kills: 0,
                round_ops: 600,
                max: Duration::from_secs(40 * 60),
            },
            Targets {
                ops: 600,
                outages: 0,
                kills: 200,
                round_ops: 300,
                max: Duration::from_secs(30 * 60),
            },
        )
    };
    let mut chosen = Vec::new();
    if regimes != "kills" {
        chosen.push(Regime {
            name: "calm",
            grace: 0,
            kills: false,
            targets: calm,
        });
    }
    if regimes != "calm" {
        chosen.push(Regime {
            name: "kills",
            grace: 30,
            kills: true,
            targets: kills,
        });
    }
    // One Secret Service for the whole run, and this process on its bus before any thread starts: the
    // in-process app's keystore client connects once per process.
    let bus_dir = tempfile::tempdir().expect("temp dir");
    let bus = testkit::SessionBus::with_secret_service(bus_dir.path());
    for (name, value) in bus.env() {
        if name == "DBUS_SESSION_BUS_ADDRESS" {
            std::env::set_var(name, value);
        }
    }
    let bus = std::sync::Arc::new(std::sync::Mutex::new(bus));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut rng = rng::Rng::new(seed);
    let mut failed = false;
    for regime in chosen {
        println!(
            "chaos: regime {} (IDP_REFRESH_TOKEN_GRACE={}, {})",
            regime.name,
            regime.grace,
            if regime.kills {
                "SIGKILL at random moments"
            } else {
                "no kills"
            }
        );
        let figures = runtime.block_on(run::run_regime(regime, bus.clone(), &mut rng));
        failed |= report(&regime, &figures, !short);
    }
    println!(
        "chaos: seed {seed}: {}",
        if failed { "FAILED" } else { "passed" }
    );
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints a regime's figures; true when it failed. Targets not reached fail the long run only (the
/// short one is bounded in time on a machine shared with other work).
fn report(regime: &Regime, f: &Figures, targets_count: bool) -> bool {
    println!(
        "chaos: {}: {} operations in {} rounds, {} kills, {} keystore outages, {} disk-full episodes, \
         {} proxy faults ({} token answers dropped), {} checks ({} could not read the store), \
         {} sessions lost, {} of them unexplained ({} more ended by a sign-out that could not erase \
         the stored copy)",
        regime.name,
        f.ops,
        f.rounds,
        f.kills,
        f.outages,
        f.disk_full,
        f.proxy_faults,
        f.dropped_answers,
        f.checks,
        f.checks_skipped,
        f.lost,
        f.unexplained,
        f.signed_out_unerased
    );
    let outcomes: Vec<String> = f
        .outcomes
        .iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect();
    println!("chaos: {}: outcomes: {}", regime.name, outcomes.join(", "));
    for loss in &f.losses {
        println!("chaos: {}: gone: {loss}", regime.name);
    }
    for violation in &f.violations {
        println!("chaos: {}: VIOLATION: {violation}", regime.name);
    }
    for short in &f.short_of {
        println!("chaos: {}: target not reached: {short}", regime.name);
    }
    let lost_calm = !regime.kills && f.lost > 0;
    !f.violations.is_empty()
        || f.unexplained > 0
        || lost_calm
        || (targets_count && !f.short_of.is_empty())
}
