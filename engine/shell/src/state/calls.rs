//! Where the shell is in the code it runs: call frames, loop depth, LINENO.

/// One call frame: a function call or a `source`.
#[derive(Clone, Debug)]
pub struct Frame {
    pub name: String,
    /// The file the frame's code came from.
    pub src: String,
    /// The line it was called from, in `call_src`.
    pub call_line: usize,
    pub call_src: String,
    /// What the frame pushed on BASH_ARGV (a sourced file's name; a function's
    /// arguments under `shopt -s extdebug`).
    pub argv: Option<Vec<String>>,
}

/// Function and `source` frames and what they nest.
#[derive(Clone, Debug)]
pub struct Calls {
    pub func_depth: u32,
    pub loop_depth: u32,
    pub funcnames: Vec<String>,
    /// Call frames (functions and `source`), innermost last.
    pub frames: Vec<Frame>,
    /// The file the running code came from (`main` for -c and stdin).
    pub cur_source: String,
    pub sourcing: bool,
    /// Running a script file (bash then shows a `main` frame).
    pub script_mode: bool,
    /// The main script's arguments once BASH_ARGV was first needed (bash fills it lazily).
    pub argv_main: Option<Vec<String>>,
    /// Nesting shown by `set -x` (command substitution, source, traps).
    pub xdepth: u32,
}

impl Default for Calls {
    fn default() -> Self {
        Calls {
            func_depth: 0,
            loop_depth: 0,
            funcnames: Vec::new(),
            frames: Vec::new(),
            cur_source: "main".into(),
            sourcing: false,
            script_mode: false,
            argv_main: None,
            xdepth: 0,
        }
    }
}

/// LINENO and the offset the running text's lines count from (a function body, `eval`).
#[derive(Clone, Debug, Default)]
pub struct Lines {
    pub lineno: usize,
    pub line_offset: usize,
}
