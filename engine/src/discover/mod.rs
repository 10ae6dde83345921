//! Discovery: a project directory on disk becomes a [`Plan`] (which hooks run, at which point,
//! with which runner, timeout and failure rule).
//!
//! Data enters as a directory and [`DiscoverOptions`] (the values the CLI read from flags and
//! the environment: `PROJECT_PATH`, `--convention`, the Acquia environment, Site Factory's
//! arguments); it leaves as a [`Plan`] or a [`DiscoverError`] whose problems name the file, the
//! line and the fix. [`validate`] runs the same scan plus checks that need no hook to run
//! (shebangs, `bash -n`, executable bits, CRLF) and returns every [`Problem`] it finds.
//!
//! One module per convention: [`flux`] (`pre-deploy.sh` / `post-deploy.sh`), [`procfile`]
//! (`postdeploy:` / `release:`), [`factory`] (`factory-hooks/<hook>/`), [`acquia`]
//! (`hooks/common/<hook>/`, `hooks/<env>/<hook>/`) and [`config`] (`hookbox.toml`, the explicit
//! form, which also carries env, deploy commands, policy and limits). [`files`] holds the file
//! checks they share; nothing here runs a hook.

pub mod acquia;
pub mod commands;
pub mod config;
pub mod factory;
mod files;
pub mod flux;
pub mod procfile;
pub mod schema;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use files::Content;

use crate::plan::{
    Convention, FailureRule, Hook, HookProgram, Plan, Point, RunnerKind, SiteFactorySettings,
    Skipped,
};

pub use validate::validate;

/// What the caller knows that the files do not say. `Default` is "nothing": auto-detection, no
/// `PROJECT_PATH`, no Acquia environment, no Site Factory arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscoverOptions {
    /// `PROJECT_PATH`: a folder of the project (relative, inside it) whose hook files win over
    /// the root's, per file. Applies to every convention's files and to hookbox.toml.
    pub project_path: Option<PathBuf>,
    /// `--convention`: use only this convention's hooks (hookbox.toml's settings still apply,
    /// and its `[[hook]]` entries that name a file of the forced convention still override it).
    pub convention: Option<Convention>,
    /// Acquia Cloud environment whose `hooks/<env>/<hook>/` scripts run after `hooks/common/`.
    pub acquia_env: Option<String>,
    /// Site Factory's `sitegroup env db_role domain`, passed as `$1..$4` to its hooks.
    pub site_factory_args: Option<[String; 4]>,
    /// Code version of the source (production) environment; with `target_code_version`, the
    /// lifecycle runs `post-staging-update` only when they differ. Wins over hookbox.toml.
    pub source_code_version: Option<String>,
    /// Code version of the target (staged) environment. Wins over hookbox.toml.
    pub target_code_version: Option<String>,
    /// The operator's platform policy the project is narrowed by. `None`: developer mode
    /// ([`crate::platform::PlatformPolicy::developer`]).
    pub platform: Option<crate::platform::PlatformPolicy>,
}

/// How bad a [`Problem`] is. An error means the project will not run as written; a warning
/// is something a reader should look at (a Site Factory script left non-executable on purpose
/// is disabled, not broken). `validate` fails on errors, and on warnings with `--strict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in a project: where it is and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as the caller named the project directory joined with the file's place
    /// (lossily converted to UTF-8 so that it always serializes).
    pub file: PathBuf,
    /// 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the line, when known.
    pub column: Option<usize>,
    pub severity: Severity,
    /// Stable id of the check (`HB101`), listed in docs/validate.md.
    pub rule: &'static str,
    pub message: String,
    pub fix: Option<String>,
    /// When the project asks for more than the operator's platform policy grants: the
    /// ceiling it exceeds and where the operator set it. `validate` exits 2 for these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<String>,
}

impl Problem {
    pub(crate) fn new(file: PathBuf, line: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            file,
            line,
            column: None,
            severity: Severity::Error,
            rule: rules::GENERIC,
            message: message.into(),
            fix: None,
            ceiling: None,
        }
    }

    pub(crate) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Marks the problem as a platform ceiling exceeded (`rules::CEILING`).
    pub(crate) fn ceiling(mut self, ceiling: impl Into<String>) -> Self {
        self.ceiling = Some(ceiling.into());
        self.rule = rules::CEILING;
        self
    }

    pub(crate) fn rule(mut self, rule: &'static str) -> Self {
        self.rule = rule;
        self
    }

    pub(crate) fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub(crate) fn column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    /// The linter form: `file:line:col: error|warning: message [HBnnn]`, then the fix
    /// indented on the next line (the form compilers and shellcheck's gcc format use, which
    /// editors and CI annotators parse).
    pub fn lint_line(&self) -> String {
        let mut out = self.file.display().to_string();
        if let Some(line) = self.line {
            out.push_str(&format!(":{line}"));
            if let Some(col) = self.column {
                out.push_str(&format!(":{col}"));
            }
        }
        out.push_str(&format!(
            ": {}: {} [{}]",
            self.severity.as_str(),
            self.message,
            self.rule
        ));
        if let Some(fix) = &self.fix {
            out.push_str(&format!("\n  fix: {fix}"));
        }
        out
    }
}

/// The ids of `validate`'s checks. Each is documented in docs/validate.md (a test checks that
/// every id here is there).
pub mod rules {
    /// A problem not yet given its own id.
    pub const GENERIC: &str = "HB000";
    /// The project directory cannot be used.
    pub const PROJECT: &str = "HB001";
    /// A file cannot be read, is not UTF-8, is too large, or has a non-UTF-8 name.
    pub const FILE: &str = "HB002";
    /// hookbox.toml: a TOML syntax error.
    pub const CONFIG_SYNTAX: &str = "HB100";
    /// hookbox.toml: an unknown key.
    pub const CONFIG_UNKNOWN_KEY: &str = "HB101";
    /// hookbox.toml: a key with a value of the wrong type or out of range.
    pub const CONFIG_VALUE: &str = "HB102";
    /// hookbox.toml: a `[[hook]]` that cannot be made into a hook.
    pub const CONFIG_HOOK: &str = "HB103";
    /// Procfile: a line that is not `type: command`.
    pub const PROCFILE: &str = "HB200";
    /// A hook script without a shebang, or with one that is not the convention's.
    pub const SHEBANG: &str = "HB300";
    /// A script with CRLF line ends.
    pub const CRLF: &str = "HB301";
    /// A shell syntax error.
    pub const SYNTAX: &str = "HB302";
    /// A hook file that is empty or binary.
    pub const CONTENT: &str = "HB303";
    /// A Site Factory or Acquia hook script without its executable flag: not run.
    pub const NOT_EXECUTABLE: &str = "HB304";
    /// A `.sh` and a `.wasm` hook of one name.
    pub const CLASH: &str = "HB305";
    /// No hook at all was found: nothing will run (often a build step not run yet).
    pub const NO_HOOKS: &str = "HB306";
    /// A sandboxed hook calls a command the policy does not allow: it will fail with 127.
    pub const NOT_ALLOWED: &str = "HB400";
    /// Site Factory / Acquia layout: a folder or file in the wrong place.
    pub const LAYOUT: &str = "HB500";
    /// The project asks for more than the operator's platform policy grants.
    pub const CEILING: &str = "HB600";

    /// Every id, for the documentation test.
    pub const ALL: &[&str] = &[
        GENERIC,
        PROJECT,
        FILE,
        CONFIG_SYNTAX,
        CONFIG_UNKNOWN_KEY,
        CONFIG_VALUE,
        CONFIG_HOOK,
        PROCFILE,
        SHEBANG,
        CRLF,
        SYNTAX,
        CONTENT,
        NOT_EXECUTABLE,
        CLASH,
        NO_HOOKS,
        NOT_ALLOWED,
        LAYOUT,
        CEILING,
    ];
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " (fix: {fix})")?;
        }
        Ok(())
    }
}

/// Why a project has no plan.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// The project directory itself cannot be used.
    #[error("{}: {message}", path.display())]
    Project { path: PathBuf, message: String },
    /// The project's files have problems; each names its file, line and fix.
    #[error("{}", display_problems(problems))]
    Invalid { problems: Vec<Problem> },
}

fn display_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hook names of Site Factory's `factory-hooks/<hook>/` directories.
pub const SITE_FACTORY_HOOKS: [&str; 6] = [
    "post-staging-update",
    "db-update",
    "post-site-install",
    "post-site-duplication",
    "post-theme-deploy",
    "post-site-update",
];

/// Hook names of Acquia Cloud's `hooks/<env>/<hook>/` directories.
pub const ACQUIA_CLOUD_HOOKS: [&str; 4] = [
    "post-code-deploy",
    "post-code-update",
    "post-db-copy",
    "post-files-copy",
];

/// The point and failure rule a stage has by its convention, or `None` for a stage no
/// convention knows (hookbox.toml must then say `point`).
pub fn stage_defaults(stage: &str) -> Option<(Point, FailureRule)> {
    match stage {
        "pre-deploy" => Some((Point::BeforeBuild, FailureRule::Abort)),
        "post-deploy" => Some((Point::AfterSwitch, FailureRule::Warn)),
        "postdeploy" | "release" => Some((Point::BeforeSwitch, FailureRule::HookError)),
        s if SITE_FACTORY_HOOKS.contains(&s) || ACQUIA_CLOUD_HOOKS.contains(&s) => {
            Some((Point::Task, FailureRule::FailTask))
        }
        _ => None,
    }
}

/// The failure rule a point has when nothing else says.
pub fn point_failure(point: Point) -> FailureRule {
    match point {
        Point::BeforeBuild => FailureRule::Abort,
        Point::BeforeSwitch => FailureRule::HookError,
        Point::AfterSwitch => FailureRule::Warn,
        Point::Task => FailureRule::FailTask,
    }
}

/// What one scan of a project found; `errors` make [`discover`] fail, `lints` only matter to
/// [`validate`].
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub hooks: Vec<Hook>,
    pub skipped: Vec<Skipped>,
    pub processes: BTreeMap<String, String>,
    pub conventions: Vec<Convention>,
    pub errors: Vec<Problem>,
    pub lints: Vec<Problem>,
    /// Where a command hook was declared (hook index → file as shown, line), so `validate`
    /// can point `bash -n` errors at the Procfile or hookbox.toml line.
    pub origins: BTreeMap<usize, (PathBuf, usize)>,
    /// Commands that are not hooks but run by bash (`[deploy]`): (what, command, file, line).
    pub commands: Vec<(String, String, PathBuf, usize)>,
}

impl Scan {
    fn found(&mut self, convention: Convention) {
        if !self.conventions.contains(&convention) {
            self.conventions.push(convention);
        }
    }
}

/// The project as the scanners see it.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    /// Canonical project root: hook paths in the plan are under it.
    pub root: PathBuf,
    /// The directory as the caller named it: problems name files under it.
    pub shown_root: PathBuf,
    /// `PROJECT_PATH`, checked: relative, inside the root, a directory.
    pub project_path: Option<PathBuf>,
    pub opts: &'a DiscoverOptions,
    /// The project's default runner (hookbox.toml `runner`, else native).
    pub runner: RunnerKind,
}

impl Ctx<'_> {
    /// The absolute path of `rel` (relative to the root).
    pub fn abs(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }

    /// How problems name `rel`: under the directory the caller gave, lossily UTF-8.
    pub fn shown(&self, rel: &Path) -> PathBuf {
        lossy(&self.shown_root.join(rel))
    }

    /// Where the convention file `name` is: in `PROJECT_PATH` when it exists there (the
    /// subfolder wins), else in the root. `None` when neither has it. Existence does not
    /// follow symlinks, so a broken link or a loop is found and reported, not ignored.
    pub fn locate(&self, name: &str) -> Option<PathBuf> {
        if let Some(pp) = &self.project_path {
            let rel = pp.join(name);
            if exists_no_follow(&self.abs(&rel)) {
                return Some(rel);
            }
        }
        let rel = PathBuf::from(name);
        exists_no_follow(&self.abs(&rel)).then_some(rel)
    }

    /// Refuse a file whose real path (symlinks resolved) is outside the project: hookbox reads
    /// hook files with its own rights, and a tenant's link to `/etc/shadow` must not become a
    /// hook, an error message or an embedded script. Unresolvable paths pass here and get
    /// their precise error (loop, broken link) from the reader.
    pub fn contained(&self, abs: &Path) -> Result<(), String> {
        match std::fs::canonicalize(abs) {
            Ok(real) if !real.starts_with(&self.root) => {
                Err("is a symlink that leads outside the project".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether `forced` lets `convention` contribute hooks.
    pub fn allows(&self, convention: Convention) -> bool {
        self.opts.convention.is_none_or(|c| c == convention)
    }
}

pub(crate) fn exists_no_follow(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// A path that always serializes: invalid UTF-8 becomes U+FFFD.
pub(crate) fn lossy(path: &Path) -> PathBuf {
    PathBuf::from(path.to_string_lossy().into_owned())
}

/// Turn a project directory into a plan. Fails with every problem that stops the plan (a
/// malformed Procfile line, an unknown hookbox.toml key, a `.sh` beside a `.wasm` of the same
/// name, a hook that is a directory or a symlink loop …); files that are merely not run (no
/// executable bit where one is needed, empty files) are in `plan.skipped`.
pub fn discover(dir: &Path, opts: &DiscoverOptions) -> Result<Plan, DiscoverError> {
    let (plan, scan) = scan(dir, opts)?;
    if scan.errors.is_empty() {
        Ok(plan)
    } else {
        Err(DiscoverError::Invalid {
            problems: scan.errors,
        })
    }
}

/// The shared scan behind [`discover`] and [`validate`]: the plan (possibly incomplete) and
/// everything found on the way.
pub(crate) fn scan(dir: &Path, opts: &DiscoverOptions) -> Result<(Plan, Scan), DiscoverError> {
    let root = project_root(dir)?;
    let mut out = Scan::default();
    let developer = crate::platform::PlatformPolicy::developer();
    let platform = opts.platform.as_ref().unwrap_or(&developer);
    let mut ctx = Ctx {
        root,
        shown_root: dir.to_path_buf(),
        project_path: None,
        opts,
        // Under a platform policy, hooks whose project names no runner get the operator's.
        runner: platform.default_runner,
    };
    ctx.project_path = check_project_path(&ctx, &mut out);

    let cfg = config::load(&ctx, &mut out);
    if let Some(runner) = cfg.as_ref().and_then(|c| c.runner) {
        ctx.runner = runner;
    }

    if ctx.allows(Convention::FluxOrbit) {
        flux::scan(&ctx, &mut out);
    }
    if ctx.allows(Convention::Procfile) {
        procfile::scan(&ctx, &mut out);
    }
    let sf_default = cfg
        .as_ref()
        .and_then(|c| c.site_factory.default_command.clone());
    if ctx.allows(Convention::SiteFactory) {
        factory::scan(&ctx, sf_default.as_deref(), &mut out);
    }
    if ctx.allows(Convention::AcquiaCloud) {
        acquia::scan(&ctx, &mut out);
    }
    if let Some(cfg) = &cfg {
        out.found(Convention::HookboxToml);
        config::apply_hooks(&ctx, cfg, &mut out);
    }
    if let Some(forced) = opts.convention {
        // The plan says what was forced, even when its files are absent.
        out.conventions.retain(|c| *c == forced);
        out.found(forced);
    }
    check_sandbox_programs(&ctx, &mut out);
    if out.hooks.is_empty() && out.errors.is_empty() {
        // A deploy of it runs no hook and says nothing of it: a `.wasm` hook not built yet,
        // a script in the wrong folder, a forced convention that finds nothing.
        out.lints.push(
            Problem::new(
                ctx.shown_root.clone(),
                None,
                "no hooks found: nothing will run",
            )
            .fix(
                "add pre-deploy.sh / post-deploy.sh (Flux-Orbit), a Procfile `release:` or \
                     `postdeploy:` line, factory-hooks/ or hooks/ scripts, or `[[hook]]` in \
                     hookbox.toml; a project whose .wasm hooks are built (`make hooks`) must be \
                     built first",
            )
            .rule(rules::NO_HOOKS),
        );
    }
    // A file can be reached twice (a convention and a hookbox.toml override of it).
    dedup(&mut out.errors);
    dedup(&mut out.lints);
    tracing::debug!(
        root = %ctx.root.display(),
        conventions = ?out.conventions,
        hooks = out.hooks.len(),
        skipped = out.skipped.len(),
        errors = out.errors.len(),
        "discovered"
    );

    let mut site_factory = SiteFactorySettings::default();
    let mut plan = Plan {
        root: ctx.root.clone(),
        conventions: out.conventions.clone(),
        hooks: out.hooks.clone(),
        skipped: out.skipped.clone(),
        processes: out.processes.clone(),
        runner: ctx.runner,
        ..Plan::default()
    };
    if let Some(cfg) = &cfg {
        plan.env = cfg.env.clone();
        plan.deploy = cfg.deploy.clone();
        plan.policy = cfg.policy.clone();
        plan.limits = cfg.limits.clone();
        if let Some(cmd) = &cfg.site_factory.default_command {
            site_factory.default_command = cmd.clone();
        }
        site_factory.source_code_version = cfg.site_factory.source_code_version.clone();
        site_factory.target_code_version = cfg.site_factory.target_code_version.clone();
    }
    // The tenant's settings, narrowed by the operator's ceilings; asking for more is an
    // error that stops the plan (and is reported by `validate`).
    let cfg_shown = ctx.shown(
        cfg.as_ref()
            .map_or(Path::new(config::FILE_NAME), |c| c.rel.as_path()),
    );
    let (effective, refused) =
        crate::platform::narrow::narrow(platform, cfg.as_ref(), &cfg_shown, &mut plan);
    plan.effective_policy = Some(effective);
    out.errors.extend(refused);
    if opts.source_code_version.is_some() {
        site_factory.source_code_version = opts.source_code_version.clone();
    }
    if opts.target_code_version.is_some() {
        site_factory.target_code_version = opts.target_code_version.clone();
    }
    plan.site_factory = site_factory;
    Ok((plan, out))
}

/// Drop repeated problems, keeping the first of each in order.
fn dedup(problems: &mut Vec<Problem>) {
    let mut seen: Vec<Problem> = Vec::new();
    problems.retain(|p| {
        if seen.contains(p) {
            false
        } else {
            seen.push(p.clone());
            true
        }
    });
}

fn project_root(dir: &Path) -> Result<PathBuf, DiscoverError> {
    let fail = |message: String| DiscoverError::Project {
        path: lossy(dir),
        message,
    };
    let meta = std::fs::metadata(dir).map_err(|e| fail(files::io_message(&e)))?;
    if !meta.is_dir() {
        return Err(fail("is not a directory".into()));
    }
    std::fs::canonicalize(dir).map_err(|e| fail(files::io_message(&e)))
}

/// `PROJECT_PATH` must name a folder inside the project; anything else is an error rather
/// than a silent fallback to the root (which would run the wrong app's hooks).
fn check_project_path(ctx: &Ctx<'_>, out: &mut Scan) -> Option<PathBuf> {
    let pp = ctx.opts.project_path.as_ref()?;
    let bad = |msg: &str| {
        Problem::new(lossy(pp), None, format!("PROJECT_PATH {msg}"))
            .fix("set PROJECT_PATH to a folder of the project, relative to its root (`apps/web`)")
            .rule(rules::PROJECT)
    };
    let mut clean = PathBuf::new();
    for c in pp.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::CurDir => {}
            _ => {
                out.errors.push(bad("must be a relative path without `..`"));
                return None;
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return None;
    }
    match std::fs::metadata(ctx.abs(&clean)) {
        Ok(m) if m.is_dir() => {
            // A symlink inside the project could lead out of it.
            match std::fs::canonicalize(ctx.abs(&clean)) {
                Ok(real) if real.starts_with(&ctx.root) => Some(clean),
                _ => {
                    out.errors.push(bad("leads outside the project"));
                    None
                }
            }
        }
        Ok(_) => {
            out.errors.push(bad("is not a folder"));
            None
        }
        Err(e) => {
            out.errors
                .push(bad(&format!("cannot be used: {}", files::io_message(&e))));
            None
        }
    }
}

/// The sandbox runs shell scripts and wasm modules; a Python (or compiled) script set to the
/// sandbox runner could never run there, so say so now rather than at deploy time.
fn check_sandbox_programs(ctx: &Ctx<'_>, out: &mut Scan) {
    let mut problems = Vec::new();
    for hook in &out.hooks {
        if hook.runner != RunnerKind::Sandbox {
            continue;
        }
        if let HookProgram::Script(path) = &hook.program {
            let rel = path.strip_prefix(&ctx.root).unwrap_or(path);
            if let Ok(found) = files::inspect(path) {
                if !found.sandbox_runs(rel) {
                    problems.push(
                        Problem::new(
                            ctx.shown(rel),
                            Some(1),
                            "the sandbox runs shell scripts and wasm modules only; this is neither",
                        )
                        .fix("set `runner = \"native\"` for this hook in hookbox.toml, or compile it to wasm")
                        .rule(rules::CONTENT),
                    );
                }
            }
        }
    }
    out.errors.extend(problems);
}

/// What one hook file becomes: a script (native or the project's runner) or a wasm module
/// (always the sandbox). `None` when it is not run: the reason is in `out.skipped` (and a
/// lint), or an error is in `out.errors`. `require_exec` is Site Factory's and Acquia's rule:
/// a file without the executable bit is skipped and reported.
pub(crate) fn hook_program(
    ctx: &Ctx<'_>,
    out: &mut Scan,
    rel: &Path,
    require_exec: bool,
) -> Option<(HookProgram, RunnerKind)> {
    let shown = ctx.shown(rel);
    let Some(name) = rel.file_name().and_then(|n| n.to_str()) else {
        let reason =
            "file name is not valid UTF-8; hookbox cannot name it in logs, so it is not run";
        out.skipped.push(Skipped {
            path: shown.clone(),
            reason: reason.into(),
        });
        out.lints.push(
            Problem::new(shown, None, reason)
                .fix("rename it with a UTF-8 (ASCII) name")
                .rule(rules::FILE),
        );
        return None;
    };
    let abs = ctx.abs(rel);
    if let Err(msg) = ctx.contained(&abs) {
        out.errors.push(
            Problem::new(shown, None, format!("{name} {msg}"))
                .fix("keep hook files inside the project (copy the file instead of linking it)")
                .rule(rules::FILE),
        );
        return None;
    }
    let found = match files::inspect(&abs) {
        Ok(f) => f,
        Err(msg) => {
            out.errors.push(
                Problem::new(shown, None, format!("{name} {msg}"))
                    .fix("make the hook a readable regular file (or remove it)")
                    .rule(rules::FILE),
            );
            return None;
        }
    };
    fn skip(out: &mut Scan, shown: &Path, reason: String, fix: String, rule: &'static str) {
        out.skipped.push(Skipped {
            path: shown.to_path_buf(),
            reason: reason.clone(),
        });
        out.lints.push(
            Problem::new(shown.to_path_buf(), None, reason)
                .fix(fix)
                .rule(rule),
        );
    }
    if require_exec && !found.executable {
        skip(
            out,
            &shown,
            format!(
                "{name} is not executable, so it is not run (the executable flag is required here)"
            ),
            format!(
                "chmod +x {0} && git update-index --chmod=+x {0}",
                rel.display()
            ),
            rules::NOT_EXECUTABLE,
        );
        return None;
    }
    let is_wasm_name = rel.extension().is_some_and(|e| e == "wasm");
    match found.content {
        Content::Wasm if is_wasm_name => Some((HookProgram::Wasm(abs), RunnerKind::Sandbox)),
        _ if is_wasm_name => {
            out.errors.push(
                Problem::new(
                    shown,
                    None,
                    format!("{name} is not a wasm module (no `\\0asm` header)"),
                )
                .fix("build it for wasm32-wasip1, or rename it")
                .rule(rules::CONTENT),
            );
            None
        }
        Content::Wasm => {
            out.errors.push(
                Problem::new(
                    shown,
                    None,
                    format!("{name} is a wasm module without the .wasm extension"),
                )
                .fix("rename it to end in .wasm")
                .rule(rules::CONTENT),
            );
            None
        }
        Content::Empty => {
            skip(
                out,
                &shown,
                format!("{name} is empty: nothing to run"),
                "write the hook, or remove the file".into(),
                rules::CONTENT,
            );
            None
        }
        Content::Binary => {
            out.errors.push(
                Problem::new(
                    shown,
                    None,
                    format!("{name} is a binary file, neither a script nor a program"),
                )
                .fix("replace it with a script (`#!/bin/bash` first line) or remove it")
                .rule(rules::CONTENT),
            );
            None
        }
        Content::Elf if rel.extension().is_some_and(|e| e == "sh") => {
            out.errors.push(
                Problem::new(
                    shown,
                    None,
                    format!("{name} is a compiled program, not a shell script"),
                )
                .fix("put a shell script here, or compile the hook to wasm and name it .wasm")
                .rule(rules::CONTENT),
            );
            None
        }
        Content::Elf | Content::Text => Some((HookProgram::Script(abs), ctx.runner)),
    }
}

/// Report a `NAME.sh` beside a `NAME.wasm`: one hook, two programs, and no rule to choose.
pub(crate) fn clash(ctx: &Ctx<'_>, out: &mut Scan, sh_rel: &Path, wasm_rel: &Path) {
    out.errors.push(
        Problem::new(
            ctx.shown(sh_rel),
            None,
            format!(
                "both {} and {} exist: a .sh and a .wasm of the same name is ambiguous",
                sh_rel.display(),
                wasm_rel.display()
            ),
        )
        .fix("remove one of them")
        .rule(rules::CLASH),
    );
}

/// A hook of a file-based convention.
pub(crate) fn file_hook(
    name: &str,
    stage: &str,
    convention: Convention,
    program: HookProgram,
    runner: RunnerKind,
    args: Vec<String>,
) -> Hook {
    let (point, failure) = stage_defaults(stage).unwrap_or((Point::Task, FailureRule::FailTask));
    Hook {
        name: name.to_string(),
        stage: stage.to_string(),
        point,
        convention,
        program,
        runner,
        timeout: None,
        failure,
        args,
        retry: None,
    }
}
