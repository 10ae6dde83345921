//! pre-deploy hook: applies `migrations/*.sql` (byte order) to the SQLite database at
//! `$DATABASE_PATH` (default `app.db` in the work directory) with the host's `sqlite3`,
//! through the bridge. Each applied file is recorded in `schema_migrations`, in the same
//! transaction as the migration, so a failed migration leaves nothing half applied and the
//! next deploy retries it. The policy must allow `sqlite3`.

use hookbox_sdk::{info, Command, HookError};

const TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
                     (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);";

fn sqlite(db: &str, sql: &str) -> Result<String, HookError> {
    let out = Command::new("sqlite3")
        .arg("-bail")
        .arg(db)
        .stdin(sql.as_bytes().to_vec())
        .output()?;
    if !out.success() {
        return Err(HookError::new(
            out.status,
            format!(
                "sqlite3 failed (status {}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    hookbox_sdk::run(|| {
        let ctx = hookbox_sdk::context()?;
        // The database must be in a directory granted to the hook (the work directory):
        // bridged commands are confined to the granted directories.
        let db = std::env::var("DATABASE_PATH")
            .unwrap_or_else(|_| format!("{}/app.db", ctx.work_dir));
        let dir = format!("{}/migrations", ctx.work_dir);
        let mut files: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect(),
            Err(e) => return Err(HookError::new(1, format!("{dir}: {e}"))),
        };
        files.sort();
        let applied = sqlite(&db, &format!("{TABLE}\nSELECT name FROM schema_migrations;"))?;
        let applied: Vec<&str> = applied.lines().collect();
        let mut count = 0;
        for name in &files {
            if applied.contains(&name.as_str()) {
                continue;
            }
            let sql = std::fs::read_to_string(format!("{dir}/{name}"))?;
            info!("applying migration {name}");
            let quoted = name.replace('\'', "''");
            sqlite(
                &db,
                &format!(
                    "BEGIN;\n{sql}\n;\nINSERT INTO schema_migrations(name) VALUES ('{quoted}');\nCOMMIT;\n"
                ),
            )?;
            count += 1;
        }
        println!("migrations: {count} applied, {} already up to date", files.len() - count);
        Ok(())
    })
}
