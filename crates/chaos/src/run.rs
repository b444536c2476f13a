//! One regime: rounds of random operations by `signin` processes and an in-process app on one shared
//! session, faults injected meanwhile, invariants checked after every operation, and lost sessions
//! explained at the end.
//!
//! A round keeps the session in one place (the keystore, chunked; or a file on the small disk): it
//! signs in, runs the workers and the fault injector until its share of operations is done, then
//! signs out and checks that nothing of the session is left. Sign-ins and sign-outs are serialised
//! with the checks (the harness must know whether the user is signed in); everything else runs at once.

use std::{
    collections::{BTreeMap, HashSet},
    os::unix::process::ExitStatusExt,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use native_oidc::{Auth, Config, FileVault, HttpClient, KeystoreVault, OidcClient, SessionStore};
use tauri_plugin_oidc_core::{Controller, Platform};
use testkit::{token_hash, Browser, LoginAction, Outcome, SecretItem, CLIENT_ID};
use tokio::io::AsyncReadExt;

use crate::{
    checks::{self, StoredSession},
    ledger::{self, now_ms, Loss, Span, Swallow},
    proxy::{Faults, CALM},
    rng::Rng,
    world::{Backing, Place, World, CHUNK_BYTES, OTHER_USER, SERVICE},
};

/// How long one operation may take before it counts as hung.
const OP_TIMEOUT: Duration = Duration::from_secs(90);
/// `signin` workers beside the in-process app.
const SIGNIN_WORKERS: u64 = 3;

/// What a regime must reach.
#[derive(Clone, Copy, Debug)]
pub struct Targets {
    /// Operations.
    pub ops: u64,
    /// Keystore outages (Secret Service stopped and restarted).
    pub outages: u64,
    /// SIGKILLs of `signin` processes.
    pub kills: u64,
    /// Operations per round.
    pub round_ops: u64,
    /// At most this long (then the run fails for not reaching its targets).
    pub max: Duration,
}

/// A regime: the provider's grace period, and whether processes are killed.
#[derive(Clone, Copy, Debug)]
pub struct Regime {
    /// `calm` or `kills`.
    pub name: &'static str,
    /// `IDP_REFRESH_TOKEN_GRACE`.
    pub grace: u64,
    /// SIGKILL `signin` processes at random moments.
    pub kills: bool,
    /// What it must reach.
    pub targets: Targets,
}

/// The figures of a regime.
#[derive(Debug, Default)]
pub struct Figures {
    /// Operations run (including killed ones).
    pub ops: u64,
    /// Operations by kind and outcome.
    pub outcomes: BTreeMap<String, u64>,
    /// Processes SIGKILLed.
    pub kills: u64,
    /// Keystore outages.
    pub outages: u64,
    /// Disk-full episodes.
    pub disk_full: u64,
    /// Faults injected by the proxy.
    pub proxy_faults: u64,
    /// Token answers dropped by the proxy after the provider answered.
    pub dropped_answers: u64,
    /// Invariant checks run, and skipped (the store could not be looked at).
    pub checks: u64,
    /// Checks that could not read the store (Secret Service down).
    pub checks_skipped: u64,
    /// Sessions lost.
    pub lost: u64,
    /// Sessions found gone after a sign-out that revoked them but could not erase the stored copy
    /// (not losses: the user asked to sign out).
    pub signed_out_unerased: u64,
    /// Of them, not explained by swallowed tokens.
    pub unexplained: u64,
    /// Rounds (sign-in … sign-out).
    pub rounds: u64,
    /// Everything that broke an invariant.
    pub violations: Vec<String>,
    /// Each loss, explained or not.
    pub losses: Vec<String>,
    /// Targets the regime did not reach.
    pub short_of: Vec<String>,
}

/// What the harness believes about the shared session.
#[derive(Debug, Default)]
struct Belief {
    signed_in: bool,
    grant: Option<String>,
    last_token: Option<String>,
    /// A sign-in or sign-out was killed since the last one that completed: it may have left what a
    /// write cut short leaves (chunks no entry names, a temporary file), which the next completed
    /// write or removal under the lock erases. Until then, "signed out, nothing left" is not checked.
    cut_short: bool,
}

/// What a sign-in or sign-out did to what a killed one may have left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leftovers {
    /// It was killed: it may have left some.
    MayRemain,
    /// It completed a write or a removal under the lock. Every keystore write sweeps the chunks no
    /// entry names; a file's temporary copies go only with a removal, but the check runs only when
    /// signed out, that is after one.
    Erased,
    /// It wrote and removed nothing (it failed first): as before.
    AsBefore,
}

impl Leftovers {
    /// For a `signin login` or `logout` run: a login that exited 0 wrote the session; a logout that
    /// exited 0 or found no session (`not_signed_in`, after clearing the store under its lock)
    /// erased the store; one killed, or stopped by the store (the keystore went away between the
    /// entry and its chunks), may have left some.
    fn of(run: &Run, kind: &str) -> Self {
        match (run.killed, kind, run.outcome().as_str()) {
            (true, ..) => Leftovers::MayRemain,
            (false, "login" | "logout", "ok") | (false, "logout", "not_signed_in") => {
                Leftovers::Erased
            }
            (false, _, "storage") => Leftovers::MayRemain,
            _ => Leftovers::AsBefore,
        }
    }

    /// For an operation of the in-process app (never killed), by its outcome.
    fn of_app(outcome: &str) -> Self {
        match outcome {
            "SignedIn" | "signed_out" => Leftovers::Erased,
            "signed_out_unerased" | "SignInFailed(Engine(Storage))" => Leftovers::MayRemain,
            _ => Leftovers::AsBefore,
        }
    }
}

struct State {
    world: World,
    regime: Regime,
    backing: Mutex<Backing>,
    belief: Mutex<Belief>,
    /// Written by sign-ins and sign-outs, read by checks (which must know whether the user is signed in).
    membership: tokio::sync::RwLock<()>,
    secrets: Mutex<HashSet<String>>,
    violations: Mutex<Vec<String>>,
    losses: Mutex<Vec<Loss>>,
    swallows: Mutex<Vec<Swallow>>,
    spans: Mutex<Vec<Span>>,
    outcomes: Mutex<BTreeMap<String, u64>>,
    ops: AtomicU64,
    round_ops: AtomicU64,
    kills: AtomicU64,
    outages: AtomicU64,
    disk_full: AtomicU64,
    checks: AtomicU64,
    checks_skipped: AtomicU64,
    stop: AtomicBool,
    /// When the regime's time is up (a round under way ends early then).
    deadline: Instant,
    other: Mutex<OtherSnapshot>,
    durations: Mutex<BTreeMap<&'static str, (u64, u64)>>,
}

/// How the keystore entries `before` became `now`, by name (never a value: they hold tokens).
fn keystore_change(before: &[(String, String)], now: &[(String, String)]) -> String {
    let find = |entries: &'_ [(String, String)], name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut names: Vec<&str> = before.iter().chain(now).map(|(n, _)| n.as_str()).collect();
    names.sort();
    names.dedup();
    let changes: Vec<String> = names
        .into_iter()
        .filter_map(|name| match (find(before, name), find(now, name)) {
            (Some(_), None) => Some(format!("{name} removed")),
            (None, Some(_)) => Some(format!("{name} added")),
            (Some(a), Some(b)) if a != b => Some(format!(
                "{name} rewritten ({} → {} bytes)",
                a.len(),
                b.len()
            )),
            _ => None,
        })
        .collect();
    if changes.is_empty() {
        "same".into()
    } else {
        format!("changed: {}", changes.join(", "))
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct OtherSnapshot {
    file: Vec<u8>,
    keystore: Vec<(String, String)>,
}

/// The outcome of one `signin` process.
struct Run {
    code: Option<i32>,
    killed: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn outcome(&self) -> String {
        if self.killed {
            return "killed".into();
        }
        match self.code {
            Some(0) => "ok".into(),
            Some(3) => "not_signed_in".into(),
            _ => self
                .stderr
                .lines()
                .rev()
                .find_map(|line| line.strip_prefix("error: "))
                .and_then(|rest| rest.split(':').next())
                .unwrap_or("failed")
                .to_string(),
        }
    }
}

/// Runs a regime and returns its figures.
pub async fn run_regime(
    regime: Regime,
    bus: Arc<Mutex<testkit::SessionBus>>,
    rng: &mut Rng,
) -> Figures {
    let world = World::start(bus, regime.grace, rng.fork(1)).await;
    if let Some(why) = &world.disk.fallback {
        eprintln!(
            "chaos: no tmpfs ({why}): the full disk is simulated in the in-process app's vault only (ENOSPC on write); signin processes see no full disk"
        );
    }
    let state = Arc::new(State {
        world,
        regime,
        backing: Mutex::new(Backing::Keystore),
        belief: Mutex::new(Belief::default()),
        membership: tokio::sync::RwLock::new(()),
        secrets: Mutex::new(HashSet::new()),
        violations: Mutex::new(Vec::new()),
        losses: Mutex::new(Vec::new()),
        swallows: Mutex::new(Vec::new()),
        spans: Mutex::new(Vec::new()),
        outcomes: Mutex::new(BTreeMap::new()),
        ops: AtomicU64::new(0),
        round_ops: AtomicU64::new(0),
        kills: AtomicU64::new(0),
        outages: AtomicU64::new(0),
        disk_full: AtomicU64::new(0),
        checks: AtomicU64::new(0),
        checks_skipped: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        deadline: Instant::now() + regime.targets.max,
        other: Mutex::new(OtherSnapshot::default()),
        durations: Mutex::new(BTreeMap::new()),
    });
    state.sign_in_other_user().await;
    let started = Instant::now();
    let progress = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                println!(
                    "chaos: {} after {} s: {} operations, {} kills, {} keystore outages, {} sessions lost, {} violations",
                    state.regime.name,
                    started.elapsed().as_secs(),
                    state.ops.load(Ordering::SeqCst),
                    state.kills.load(Ordering::SeqCst),
                    state.outages.load(Ordering::SeqCst),
                    state.losses.lock().map(|l| l.len()).unwrap_or(0),
                    state.violations.lock().map(|v| v.len()).unwrap_or(0),
                );
            }
        })
    };
    let mut rounds = 0;
    loop {
        let backing = if rounds % 2 == 0 {
            Backing::Keystore
        } else {
            Backing::File
        };
        state.round(backing, rng.fork(100 + rounds)).await;
        rounds += 1;
        let reached = state.reached();
        if reached.is_empty() || started.elapsed() > regime.targets.max {
            break;
        }
        if state.violations.lock().map(|v| v.len()).unwrap_or(0) > 20 {
            break; // enough to read
        }
    }
    progress.abort();
    state.figures(rounds)
}

impl State {
    /// Records a violation (each distinct one once).
    fn violation(&self, what: String) {
        if let Ok(mut v) = self.violations.lock() {
            // The same state seen after another operation is the same violation.
            let key = |text: &str| {
                text.split_once(": ")
                    .map_or(text.to_string(), |(_, rest)| rest.to_string())
            };
            if !v.iter().any(|seen| key(seen) == key(&what)) {
                eprintln!("chaos [{}] VIOLATION: {what}", self.regime.name);
                v.push(what);
            }
        }
    }

    fn backing(&self) -> Backing {
        self.backing.lock().map(|b| *b).unwrap_or(Backing::Keystore)
    }

    fn count(&self, kind: &str, outcome: &str) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            *outcomes.entry(format!("{kind} {outcome}")).or_default() += 1;
        }
    }

    fn span(&self, from_ms: u64, what: String) {
        if let Ok(mut spans) = self.spans.lock() {
            spans.push(Span {
                from_ms,
                to_ms: now_ms(),
                what,
            });
        }
    }

    fn reached(&self) -> Vec<String> {
        let t = self.regime.targets;
        let mut short = Vec::new();
        let (ops, outages, kills) = (
            self.ops.load(Ordering::SeqCst),
            self.outages.load(Ordering::SeqCst),
            self.kills.load(Ordering::SeqCst),
        );
        if ops < t.ops {
            short.push(format!("operations {ops} < {}", t.ops));
        }
        if outages < t.outages {
            short.push(format!("keystore outages {outages} < {}", t.outages));
        }
        if self.regime.kills && kills < t.kills {
            short.push(format!("kills {kills} < {}", t.kills));
        }
        short
    }

    /// Signs the other user in, once, in the keystore and in a file; what is stored is kept to compare.
    async fn sign_in_other_user(&self) {
        let w = &self.world;
        for (place, backing) in [
            (&w.other_keystore, Backing::Keystore),
            (&w.other_file, Backing::File),
        ] {
            let args = w.login_args(OTHER_USER);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = self
                .spawn("setup", "login-other", place, backing, &args, None)
                .await;
            assert_eq!(
                run.code,
                Some(0),
                "the other user's sign-in failed: {}",
                run.stderr
            );
        }
        let items = checks::keystore_items(&self.world);
        let snapshot = self
            .other_snapshot(items.as_deref())
            .expect("the Secret Service answers at start");
        assert!(
            !snapshot.file.is_empty() && !snapshot.keystore.is_empty(),
            "the other user's sessions are stored: file {} bytes, keystore items {:?} of {:?}",
            snapshot.file.len(),
            snapshot
                .keystore
                .iter()
                .map(|(name, _)| name)
                .collect::<Vec<_>>(),
            checks::keystore_items(&self.world)
                .unwrap_or_default()
                .iter()
                .map(|item| item.attribute("username").unwrap_or("?").to_string())
                .collect::<Vec<_>>()
        );
        *self.other.lock().expect("snapshot") = snapshot;
    }

    fn other_snapshot(&self, items: Option<&[testkit::SecretItem]>) -> Option<OtherSnapshot> {
        let w = &self.world;
        Some(OtherSnapshot {
            file: std::fs::read(&w.other_file.file).unwrap_or_default(),
            keystore: checks::entries_of(items?, &w.other_keystore)
                .into_iter()
                .filter(|(name, _)| !name.starts_with("probe"))
                .map(|(name, secret)| (name, secret.to_string()))
                .collect(),
        })
    }

    /// One round on `backing`.
    async fn round(self: &Arc<Self>, backing: Backing, mut rng: Rng) {
        *self.backing.lock().expect("backing") = backing;
        self.round_ops.store(0, Ordering::SeqCst);
        self.stop.store(false, Ordering::SeqCst);
        self.world.proxy.set_faults(CALM);
        for _ in 0..5 {
            if self.sign_in_with_signin("setup").await {
                break;
            }
        }
        let controller = match self.controller(backing).await {
            Ok((controller, platform)) => Some((Arc::new(controller), platform)),
            Err(error) => {
                let others = checks::keystore_items(&self.world).is_some();
                self.violation(format!(
                    "the in-process app cannot open its {} store ({error}), while secret-tool {} the Secret Service",
                    backing.as_str(),
                    if others { "reaches" } else { "does not reach" }
                ));
                None
            }
        };
        let mut tasks = Vec::new();
        for worker in 0..SIGNIN_WORKERS {
            let state = self.clone();
            let rng = rng.fork(worker);
            tasks.push(tokio::spawn(async move {
                state.signin_worker(worker, rng).await
            }));
        }
        if let Some((controller, platform)) = controller.clone() {
            let state = self.clone();
            let rng = rng.fork(10);
            tasks.push(tokio::spawn(async move {
                state.app_worker(controller, platform, rng).await
            }));
        }
        let faults = {
            let state = self.clone();
            let rng = rng.fork(20);
            tokio::spawn(async move { state.inject_faults(rng).await })
        };
        for task in tasks {
            if let Err(error) = task.await {
                self.violation(format!("a worker panicked: {error}"));
            }
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Err(error) = faults.await {
            self.violation(format!("the fault injector panicked: {error}"));
        }
        self.calm().await;
        drop(controller);
        // Sign out, and nothing of the session may be left. Signed out already, but after a sign-in
        // or sign-out that was cut short, sign out all the same: the next round keeps the session in
        // the other place, where nothing would erase what this one left.
        let _membership = self.membership.write().await;
        // What the store holds now: a session that went while the store could not be read (the
        // keyring down at the last check) is seen here, and counted as lost (the ledger explains it or
        // not), rather than met by the sign-out as one that was never there.
        //
        // This check must judge: a check skipped while the keyring was down (or restarting: `calm`
        // just started it, and secret-tool can fail for a moment) would leave a session that went
        // meanwhile (a refresh that met revoked tokens) believed stored, and the sign-out below would
        // find nothing to sign out of.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.check_locked("setup end of round").await {
            if Instant::now() > deadline {
                self.violation("the store could not be read for 30 s at the end of a round".into());
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let seen = self.stored_summary().await;
        let (signed_in, cut_short) = self
            .belief
            .lock()
            .map(|b| (b.signed_in, b.cut_short))
            .unwrap_or((false, false));
        if signed_in || cut_short {
            let args = self.world.logout_args();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = self
                .spawn("setup", "logout", &self.world.shared, backing, &args, None)
                .await;
            // Signed out already (a sign-out cut short after it erased the session), it finds
            // nothing to sign out of: it exits 1 with `not_signed_in`, having erased what a killed
            // one may have left.
            let signed_out =
                run.code == Some(0) || (!signed_in && run.outcome() == "not_signed_in");
            if !signed_out {
                self.violation(format!(
                    "sign-out at the end of a round failed (the store held {seen} before it, {} after; \
                     the last operations: {}): {}",
                    self.stored_summary().await,
                    self.last_spans(8),
                    run.stderr.trim()
                ));
            }
            self.after_membership_change(
                "setup logout",
                run.code == Some(0),
                Leftovers::of(&run, "logout"),
            )
            .await;
        }
    }

    /// Ends every fault: the Secret Service runs, the disk has room, the proxy forwards.
    async fn calm(&self) {
        self.world.proxy.set_faults(CALM);
        self.world.disk.free();
        let bus = self.world.bus.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(mut bus) = bus.lock() {
                if !bus.secret_service_running() {
                    bus.start_secret_service();
                }
            }
        })
        .await;
    }

    fn round_done(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
            || self.round_ops.load(Ordering::SeqCst) >= self.regime.targets.round_ops
            || Instant::now() > self.deadline
    }

    fn signed_in(&self) -> bool {
        self.belief.lock().map(|b| b.signed_in).unwrap_or(false)
    }

    /// A `signin` worker: random commands on the shared session, some of them killed.
    async fn signin_worker(self: Arc<Self>, worker: u64, mut rng: Rng) {
        let who = format!("signin-{worker}");
        while !self.round_done() {
            let kind = if !self.signed_in() && rng.chance(0.7) {
                "login"
            } else {
                ["status", "token", "refresh", "call", "login", "logout"]
                    [rng.weighted(&[20, 20, 25, 25, 4, 3])]
            };
            let kill = (self.regime.kills && rng.chance(0.35)).then(|| {
                let mean = self.mean_duration(kind).max(20);
                Duration::from_millis(rng.below(mean * 12 / 10 + 1))
            });
            self.ops.fetch_add(1, Ordering::SeqCst);
            self.round_ops.fetch_add(1, Ordering::SeqCst);
            let backing = self.backing();
            let shared = self.world.shared.clone();
            match kind {
                "login" | "logout" => {
                    let _membership = self.membership.write().await;
                    let args = if kind == "login" {
                        self.world.login_args("demo")
                    } else {
                        self.world.logout_args()
                    };
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let run = self.spawn(&who, kind, &shared, backing, &args, kill).await;
                    self.after_membership_change(
                        &format!("{who} {kind} ({})", run.outcome()),
                        run.code == Some(0) && kind == "logout",
                        Leftovers::of(&run, kind),
                    )
                    .await;
                }
                _ => {
                    let api = self.world.api_url.to_string();
                    let args: Vec<&str> = match kind {
                        "call" => vec!["call", &api],
                        other => vec![other],
                    };
                    self.spawn(&who, kind, &shared, backing, &args, kill).await;
                    self.check(&format!("{who} {kind}")).await;
                }
            }
        }
    }

    fn mean_duration(&self, kind: &'static str) -> u64 {
        self.durations
            .lock()
            .ok()
            .and_then(|d| d.get(kind).map(|(total, n)| total / (*n).max(1)))
            .unwrap_or(150)
    }

    /// Runs `signin` (killed after `kill`, if given) and checks its output.
    async fn spawn(
        &self,
        who: &str,
        kind: &str,
        place: &Place,
        backing: Backing,
        args: &[&str],
        kill: Option<Duration>,
    ) -> Run {
        let started_ms = now_ms();
        let started = Instant::now();
        let mut child = match self.world.signin(place, backing, args).spawn() {
            Ok(child) => child,
            Err(error) => {
                self.violation(format!("{who}: cannot start signin: {error}"));
                return Run {
                    code: None,
                    killed: false,
                    stdout: String::new(),
                    stderr: String::new(),
                };
            }
        };
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let out = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text).await;
            text
        });
        let err = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let limit = kill.unwrap_or(OP_TIMEOUT);
        let status = match tokio::time::timeout(limit, child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = child.start_kill();
                let killed_at = now_ms();
                let status = child.wait().await.ok();
                if kill.is_none() {
                    self.violation(format!(
                        "{who} {kind} hung for {} s and was killed",
                        OP_TIMEOUT.as_secs()
                    ));
                } else if status.and_then(|s| s.signal()) == Some(9) {
                    if let Ok(mut swallows) = self.swallows.lock() {
                        swallows.push(Swallow {
                            from_ms: started_ms,
                            to_ms: killed_at,
                            who: format!("{who} {kind} (SIGKILL)"),
                        });
                    }
                }
                status
            }
        };
        let killed = kill.is_some() && status.and_then(|s| s.signal()) == Some(9);
        if killed {
            self.kills.fetch_add(1, Ordering::SeqCst);
        } else if let Ok(mut durations) = self.durations.lock() {
            let kind: &'static str = match kind {
                "status" => "status",
                "token" => "token",
                "refresh" => "refresh",
                "call" => "call",
                "login" => "login",
                "logout" => "logout",
                _ => "other",
            };
            let entry = durations.entry(kind).or_default();
            entry.0 += started.elapsed().as_millis() as u64;
            entry.1 += 1;
        }
        let run = Run {
            code: status.and_then(|s| s.code()),
            killed,
            stdout: out.await.unwrap_or_default(),
            stderr: err.await.unwrap_or_default(),
        };
        // (A panic of the stand-in browser, whose output signin passes on, is not signin's.)
        let panicked = run
            .stderr
            .lines()
            .any(|line| line.contains("panicked at") && !line.contains("crates/testkit/"));
        if panicked {
            self.violation(format!("{who} {kind} panicked: {}", run.stderr.trim()));
        }
        let leaked = self
            .secrets
            .lock()
            .map(|s| s.iter().any(|secret| run.stderr.contains(secret.as_str())))
            .unwrap_or(false);
        if leaked {
            self.violation(format!("{who} {kind} printed a token on stderr"));
        }
        if run
            .stderr
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.violation(format!(
                "{who} {kind} printed control characters: {:?}",
                run.stderr
            ));
        }
        let _ = &run.stdout;
        self.count(kind, &run.outcome());
        self.span(started_ms, format!("{who} {kind}: {}", run.outcome()));
        run
    }

    /// Signs the shared session in with `signin login`, without faults; true when signed in.
    async fn sign_in_with_signin(&self, who: &str) -> bool {
        let _membership = self.membership.write().await;
        let args = self.world.login_args("demo");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = self
            .spawn(
                who,
                "login",
                &self.world.shared,
                self.backing(),
                &args,
                None,
            )
            .await;
        self.after_membership_change(&format!("{who} login"), false, Leftovers::of(&run, "login"))
            .await;
        run.code == Some(0) && self.signed_in()
    }

    /// After a sign-in or sign-out (the membership lock held): what the store holds is the truth.
    ///
    /// It is read under the store's lock, as every reader that judges it must: refreshes go on
    /// meanwhile (a killed sign-out leaves the session to them), and `secret-tool` reads a chunked
    /// value item by item, so a read without the lock can meet a write half done — a head naming
    /// the generation whose chunks the writer has just replaced.
    async fn after_membership_change(&self, who: &str, signed_out: bool, leftovers: Leftovers) {
        if let Ok(mut belief) = self.belief.lock() {
            match leftovers {
                Leftovers::MayRemain => belief.cut_short = true,
                Leftovers::Erased => belief.cut_short = false,
                Leftovers::AsBefore => {}
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.stored_locked().await.and_then(|(_, stored)| stored) {
                Ok(Ok(stored)) => {
                    let token = stored
                        .as_ref()
                        .and_then(|s| s["refresh_token"].as_str())
                        .map(token_hash);
                    let events = self.world.token_events();
                    if let Ok(mut belief) = self.belief.lock() {
                        belief.signed_in = stored.is_some();
                        belief.grant = token.as_deref().and_then(|t| ledger::grant_of(&events, t));
                        belief.last_token = token;
                    }
                    if signed_out && stored.is_some() {
                        self.violation(format!("{who} succeeded, but the session is still stored"));
                    }
                    break;
                }
                Ok(Err(why)) => {
                    self.violation(format!("{who}: the stored session is damaged: {why}"));
                    break;
                }
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(why) => {
                    self.violation(format!(
                        "{who}: the store could not be read for 30 s: {why}"
                    ));
                    break;
                }
            }
        }
        self.check_locked(who).await;
    }

    /// The keystore's items and the stored session, read under the store's lock (`Err` when the lock
    /// cannot be had now; the session is `Err` when the store cannot be read now, `Ok(Err)` when what
    /// it holds is not a whole session).
    async fn stored_locked(&self) -> Result<(Option<Vec<SecretItem>>, StoredSession), String> {
        let shared = &self.world.shared;
        let lock = SessionStore::file(&shared.file)
            .lock()
            .await
            .map_err(|e| format!("the store's lock: {e}"))?;
        let items = checks::keystore_items(&self.world);
        let stored = checks::stored_session(items.as_deref(), shared, self.backing());
        drop(lock);
        Ok((items, stored))
    }

    /// What the store holds, in words, for a report: read under the lock, as the checks read it.
    async fn stored_summary(&self) -> String {
        match self.stored_locked().await {
            Err(why) => why,
            Ok((items, stored)) => {
                let names = items
                    .map(|items| {
                        checks::entries_of(&items, &self.world.shared)
                            .into_iter()
                            .map(|(name, _)| name)
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_else(|| "unreadable".into());
                let session = match stored {
                    Err(why) => format!("unreadable ({why})"),
                    Ok(Err(why)) => format!("damaged ({why})"),
                    Ok(Ok(None)) => "no session".into(),
                    Ok(Ok(Some(_))) => "a session".into(),
                };
                format!(
                    "{session} in its {} store [keystore entries: {names}]",
                    self.backing().as_str()
                )
            }
        }
    }

    /// The last `n` operations, oldest first, for a report.
    fn last_spans(&self, n: usize) -> String {
        let spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        let mut last: Vec<_> = spans.iter().rev().take(n).collect();
        last.reverse();
        last.iter()
            .map(|s| {
                format!(
                    "{} ({}–{} ms)",
                    s.what,
                    s.from_ms % 100_000,
                    s.to_ms % 100_000
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The invariants, after an operation.
    async fn check(&self, who: &str) {
        let _membership = self.membership.read().await;
        self.check_locked(who).await;
    }

    /// The invariants (the membership lock held): under the store's lock, the stored session is whole
    /// and present while signed in; nothing is set aside; the other user's sessions are as they were;
    /// signed out, no token of the session is left anywhere.
    /// False when the store could not be read, so nothing was judged.
    async fn check_locked(&self, who: &str) -> bool {
        self.checks.fetch_add(1, Ordering::SeqCst);
        let Ok((items, stored)) = self.stored_locked().await else {
            self.checks_skipped.fetch_add(1, Ordering::SeqCst);
            return false;
        };
        let shared = &self.world.shared;
        match stored {
            Err(_) => {
                self.checks_skipped.fetch_add(1, Ordering::SeqCst);
                return false;
            }
            Ok(Err(why)) => self.violation(format!("after {who}: under the lock, {why}")),
            Ok(Ok(Some(session))) => {
                let tokens = checks::tokens_of(&session);
                let token = session["refresh_token"].as_str().map(token_hash);
                if let Ok(mut secrets) = self.secrets.lock() {
                    secrets.extend(tokens);
                }
                let mut belief = self.belief.lock().expect("belief");
                if !belief.signed_in {
                    drop(belief);
                    self.violation(format!(
                        "after {who}: a session is stored again after it was signed out or lost"
                    ));
                    if let Ok(mut belief) = self.belief.lock() {
                        belief.signed_in = true;
                    }
                } else {
                    if belief.grant.is_none() || belief.last_token != token {
                        let events = self.world.token_events();
                        if let Some(grant) =
                            token.as_deref().and_then(|t| ledger::grant_of(&events, t))
                        {
                            belief.grant = Some(grant);
                        }
                    }
                    belief.last_token = token;
                }
            }
            Ok(Ok(None)) => {
                let lost = {
                    let mut belief = self.belief.lock().expect("belief");
                    let lost = belief.signed_in.then(|| Loss {
                        at_ms: now_ms(),
                        grant: belief.grant.clone(),
                        last_token: belief.last_token.clone(),
                        seen_by: who.to_string(),
                    });
                    belief.signed_in = false;
                    lost
                };
                if let Some(loss) = lost {
                    eprintln!(
                        "chaos [{}] session lost (seen after {who})",
                        self.regime.name
                    );
                    if let Ok(mut losses) = self.losses.lock() {
                        losses.push(loss);
                    }
                }
            }
        }
        // Nothing set aside, in a file or in the keystore.
        let aside = checks::set_aside_files(self.world.disk.dir());
        if !aside.is_empty() {
            self.violation(format!("after {who}: set aside: {aside:?}"));
            for file in aside {
                let _ = std::fs::remove_file(file); // reported once
            }
        }
        if let Some(items) = &items {
            let aside: Vec<&str> = items
                .iter()
                .filter_map(|item| item.attribute("username"))
                .filter(|account| account.contains(".corrupt"))
                .collect();
            if !aside.is_empty() {
                self.violation(format!("after {who}: set aside in the keystore: {aside:?}"));
            }
        }
        // The other user's sessions are untouched.
        if let Some(now) = self.other_snapshot(items.as_deref()) {
            let before = self.other.lock().expect("snapshot").clone();
            if now != before {
                self.violation(format!(
                    "after {who}: the other user's session changed (file {}, keystore {})",
                    if now.file == before.file {
                        "same"
                    } else {
                        "changed"
                    },
                    keystore_change(&before.keystore, &now.keystore),
                ));
                *self.other.lock().expect("snapshot") = now;
            }
        }
        // Signed out: no token of the session anywhere (once whatever a killed sign-in or sign-out
        // left has been erased by the next one to complete).
        let cut_short = self.belief.lock().map(|b| b.cut_short).unwrap_or(false);
        if !self.signed_in() && !cut_short {
            let secrets = self.secrets.lock().map(|s| s.clone()).unwrap_or_default();
            let found = checks::files_with_secrets(shared.folder(), &secrets);
            if !found.is_empty() {
                self.violation(format!(
                    "after {who}: signed out, but tokens remain in {found:?}"
                ));
            }
            if let Some(items) = &items {
                let left: Vec<String> = checks::entries_of(items, shared)
                    .into_iter()
                    .map(|(name, _)| name)
                    // A keystore probe's canary holds random bytes; a sign-in in progress (`pending`,
                    // the app's, which may outlive a sign-out by another process) holds no token here
                    // (no DPoP key: the harness signs in without DPoP); the list of accounts holds
                    // ids only (a process killed between the sign-out's erase and its update of the
                    // list leaves it naming the default).
                    .filter(|name| {
                        !name.starts_with("probe")
                            && !name.starts_with("pending")
                            && name != native_oidc::store::ACCOUNTS
                    })
                    .collect();
                if !left.is_empty() {
                    self.violation(format!(
                        "after {who}: signed out, but keystore items remain: {left:?}"
                    ));
                }
            }
        }
        true
    }

    /// The in-process app's store on the shared session, as `signin` opens it.
    async fn controller(
        &self,
        backing: Backing,
    ) -> Result<(Controller<AppPlatform>, AppPlatform), native_oidc::Error> {
        let shared = &self.world.shared;
        let vault: Arc<dyn native_oidc::Vault> = match backing {
            // The Secret Service client blocks: not on a runtime thread.
            Backing::Keystore => {
                let prefix = shared.prefix();
                let vault =
                    tokio::task::spawn_blocking(move || KeystoreVault::open(SERVICE, &prefix))
                        .await
                        .map_err(|e| native_oidc::Error::Storage(e.to_string()))??;
                Arc::new(vault.with_max_value_size(CHUNK_BYTES))
            }
            Backing::File => self.world.disk.wrap(Arc::new(FileVault::new(&shared.file))),
        };
        let mut lock = shared.file.as_os_str().to_owned();
        lock.push(".lock");
        let store = SessionStore::new(vault).with_lock_file(lock.into());
        let config = Config::new(
            self.world.idp.issuer(),
            CLIENT_ID,
            "com.okta.example:/callback",
        )?
        .with_post_logout_redirect_uri("com.okta.example:/logout")?;
        let proxy = reqwest::Proxy::http(&self.world.proxy.url)
            .map_err(|e| native_oidc::Error::Config(e.to_string()))?;
        let http = reqwest::Client::builder()
            .proxy(proxy)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(native_oidc::http::CONNECT_TIMEOUT)
            .timeout(native_oidc::http::REQUEST_TIMEOUT)
            .build()
            .map_err(|e| native_oidc::Error::Config(e.to_string()))?;
        let client = OidcClient::with_http_client(config, HttpClient::from_reqwest(http));
        let platform = AppPlatform::default();
        // As the real app does: several accounts, in slots of this store (one account here).
        let app = Controller::new(
            Auth::new(client, store.clone()).with_accounts(native_oidc::Accounts::new(store)),
            platform.clone(),
            Some(self.world.api_base.clone()),
        );
        Ok((app, platform))
    }

    /// The in-process app: restore, refresh, API calls, profile reloads, sign-in and sign-out.
    async fn app_worker(
        self: Arc<Self>,
        app: Arc<Controller<AppPlatform>>,
        platform: AppPlatform,
        mut rng: Rng,
    ) {
        let started = tokio::spawn({
            let app = app.clone();
            async move { app.start().await }
        });
        let _ = started.await;
        while !self.round_done() {
            let kind = if !self.signed_in() && rng.chance(0.5) {
                "sign-in"
            } else {
                [
                    "restore", "refresh", "call", "profile", "sign-in", "sign-out",
                ][rng.weighted(&[15, 25, 30, 20, 4, 3])]
            };
            self.ops.fetch_add(1, Ordering::SeqCst);
            self.round_ops.fetch_add(1, Ordering::SeqCst);
            let membership = matches!(kind, "sign-in" | "sign-out");
            let guard = if membership {
                Some(self.membership.write().await)
            } else {
                None
            };
            let started_ms = now_ms();
            let task = {
                let (app, platform) = (app.clone(), platform.clone());
                tokio::spawn(async move { app_op(&app, &platform, kind).await })
            };
            let outcome = match tokio::time::timeout(OP_TIMEOUT, task).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(error)) => {
                    self.violation(format!("app {kind} panicked: {error}"));
                    "panic".into()
                }
                Err(_) => {
                    self.violation(format!("app {kind} hung for {} s", OP_TIMEOUT.as_secs()));
                    "hung".into()
                }
            };
            self.count(&format!("app-{kind}"), &outcome);
            self.span(started_ms, format!("app {kind}: {outcome}"));
            if membership {
                self.after_membership_change(
                    &format!("app {kind} ({outcome})"),
                    false,
                    Leftovers::of_app(&outcome),
                )
                .await;
                drop(guard);
            } else {
                self.check(&format!("app {kind}")).await;
            }
        }
    }

    /// Injects faults until the round ends.
    async fn inject_faults(self: Arc<Self>, mut rng: Rng) {
        while !self.round_done() {
            tokio::time::sleep(Duration::from_millis(500 + rng.below(1500))).await;
            if self.round_done() {
                break;
            }
            let keystore = self.backing() == Backing::Keystore;
            match rng.weighted(&[if keystore { 4 } else { 0 }, 2, 3]) {
                0 => {
                    let down = Duration::from_millis(200 + rng.below(800));
                    let bus = self.world.bus.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        if let Ok(mut bus) = bus.lock() {
                            bus.stop_secret_service();
                        }
                    })
                    .await;
                    self.outages.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(down).await;
                    let bus = self.world.bus.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        if let Ok(mut bus) = bus.lock() {
                            bus.start_secret_service();
                        }
                    })
                    .await;
                }
                1 => {
                    let disk = self.world.disk.clone();
                    let _ = tokio::task::spawn_blocking(move || disk.fill()).await;
                    self.disk_full.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200 + rng.below(1300))).await;
                    self.world.disk.free();
                }
                _ => {
                    let faults = if rng.chance(0.3) {
                        CALM
                    } else {
                        Faults {
                            delay: 0.3,
                            max_delay_ms: 1500,
                            server_error: 0.05 + rng.below(10) as f64 / 100.0,
                            too_many: 0.05,
                            drop_before: 0.05,
                            drop_answer: if self.regime.kills { 0.05 } else { 0.0 },
                        }
                    };
                    self.world.proxy.set_faults(faults);
                }
            }
        }
    }

    fn figures(&self, rounds: u64) -> Figures {
        let events = self.world.token_events();
        let mut swallows = self.swallows.lock().map(|s| s.clone()).unwrap_or_default();
        let dropped = self
            .world
            .proxy
            .stats
            .dropped_answers
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default();
        swallows.extend(dropped.iter().map(|(from_ms, to_ms)| Swallow {
            from_ms: *from_ms,
            to_ms: *to_ms,
            who: "the proxy (answer dropped)".into(),
        }));
        swallows.sort_by_key(|s| s.to_ms);
        let mut used = vec![false; swallows.len()];
        let losses = self.losses.lock().map(|l| l.clone()).unwrap_or_default();
        let spans = self.spans.lock().map(|s| s.clone()).unwrap_or_default();
        let mut figures = Figures {
            ops: self.ops.load(Ordering::SeqCst),
            outcomes: self.outcomes.lock().map(|o| o.clone()).unwrap_or_default(),
            kills: self.kills.load(Ordering::SeqCst),
            outages: self.outages.load(Ordering::SeqCst),
            disk_full: self.disk_full.load(Ordering::SeqCst),
            proxy_faults: self.world.proxy.stats.faults.load(Ordering::SeqCst),
            dropped_answers: dropped.len() as u64,
            checks: self.checks.load(Ordering::SeqCst),
            checks_skipped: self.checks_skipped.load(Ordering::SeqCst),
            lost: losses.len() as u64,
            rounds,
            violations: self
                .violations
                .lock()
                .map(|v| v.clone())
                .unwrap_or_default(),
            short_of: self.reached(),
            ..Default::default()
        };
        for loss in &losses {
            if let Some(why) = ledger::ended_by_sign_out(loss, &events, &spans) {
                figures.lost -= 1;
                figures.signed_out_unerased += 1;
                figures
                    .losses
                    .push(format!("not a loss (seen after {}): {why}", loss.seen_by));
                continue;
            }
            let verdict = ledger::explain(
                loss,
                &events,
                &swallows,
                &mut used,
                &spans,
                self.regime.grace,
            );
            if !verdict.explained {
                figures.unexplained += 1;
            }
            figures.losses.push(format!(
                "{} (seen after {}): {}",
                if verdict.explained {
                    "explained"
                } else {
                    "UNEXPLAINED"
                },
                loss.seen_by,
                verdict.why
            ));
        }
        figures
    }
}

/// The app's platform: the browser is this harness, which signs in on the provider's pages itself.
#[derive(Clone, Default)]
pub struct AppPlatform {
    opened: Arc<Mutex<Option<url::Url>>>,
}

impl Platform for AppPlatform {
    fn open_browser(&self, url: &url::Url) -> Result<(), String> {
        if let Ok(mut opened) = self.opened.lock() {
            *opened = Some(url.clone());
        }
        Ok(())
    }

    fn state_changed(&self, _view: &tauri_plugin_oidc_core::AuthView) {}
}

/// One operation of the in-process app; its outcome in a word.
async fn app_op(app: &Controller<AppPlatform>, platform: &AppPlatform, kind: &str) -> String {
    let view = |v: tauri_plugin_oidc_core::AuthView| {
        if v.is_signed_in() {
            "signed_in"
        } else {
            "signed_out"
        }
        .to_string()
    };
    match kind {
        "restore" => view(app.start().await),
        "refresh" => view(app.refresh().await),
        "call" => match app.call_api("/api/whoami").await {
            Ok(response) => format!("http_{}", response.status),
            Err(error) => error.kind.as_str().to_string(),
        },
        "profile" => match app.auth().load_profile().await {
            Ok(_) => "ok".into(),
            Err(error) => error.kind().to_string(),
        },
        "sign-in" => {
            if let Err(error) = app.sign_in(None).await {
                return error.kind.as_str().to_string();
            }
            let Some(url) = platform.opened.lock().ok().and_then(|mut u| u.take()) else {
                return "no_browser".into();
            };
            let action = LoginAction::SignIn {
                username: "demo".into(),
                password: "demo".into(),
            };
            match Browser::new().open(url.as_str(), &action).await {
                Outcome::AppRedirect(callback) => {
                    format!("{:?}", app.handle_url(callback.as_str()).await)
                }
                Outcome::Page { status, .. } => format!("login_page_{status}"),
            }
        }
        _ => {
            let (view_after, task) = app.sign_out().await;
            let unerased = task.as_ref().is_some_and(|t| t.erase_error().is_some());
            if let Some(task) = task {
                app.finish_sign_out(task).await;
            }
            if unerased {
                return "signed_out_unerased".into();
            }
            view(view_after)
        }
    }
}
