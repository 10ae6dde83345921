//! In-guest small tools (`cat`, `head`, `wc`, …) so hooks need not cross the bridge for them.
//! Placeholder until the shelltools branch lands: no tool is found, so every such name falls
//! through to an external command.

/// What a tool sees of the shell that runs it.
pub struct ToolContext<'a> {
    /// The shell's current directory.
    pub cwd: &'a std::path::Path,
    /// Exported variables, in order.
    pub env: &'a [(String, String)],
    pub stdin: &'a mut dyn std::io::Read,
    pub stdout: &'a mut dyn std::io::Write,
    pub stderr: &'a mut dyn std::io::Write,
}

/// A tool: args[0] is the tool's name; returns the exit status.
pub type Tool = fn(args: &[String], ctx: &mut ToolContext<'_>) -> i32;

/// The in-guest tool of that name, if there is one.
pub fn find(name: &str) -> Option<Tool> {
    let _ = name;
    None
}
