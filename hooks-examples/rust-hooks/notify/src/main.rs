//! post-deploy hook: announces the deployment. With `NOTIFY_URL` set it posts a JSON message
//! with `curl` through the bridge (the policy must allow `curl` and grant the network; with
//! the network denied the post fails, and a failed post-deploy hook is only a WARNING).
//! Without it, the message goes to the log.

use hookbox_sdk::{info, Command, HookError};

fn main() {
    hookbox_sdk::run(|| {
        let ctx = hookbox_sdk::context()?;
        let app = std::env::var("APP_NAME").unwrap_or_else(|_| "app".into());
        let message = format!("{app}: deployment finished ({} / {})", ctx.stage, ctx.hook);
        let Ok(url) = std::env::var("NOTIFY_URL") else {
            info!("{message} (NOTIFY_URL not set: not posted)");
            println!("{message}");
            return Ok(());
        };
        let body = format!("{{\"text\":{:?}}}", message);
        let out = Command::new("curl")
            .args(["-fsS", "--max-time", "10", "-H", "Content-Type: application/json"])
            .args(["-d", body.as_str(), url.as_str()])
            .output()?;
        if !out.success() {
            return Err(HookError::new(
                1,
                format!(
                    "notification failed (curl status {}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        println!("notified: {message}");
        Ok(())
    })
}
