//! What builtins keep between calls: aliases, hash table, directory stack, completion specs, history, key map.

use super::{completion, hash, history, keymap, Map};
use std::path::PathBuf;

#[derive(Clone, Default)]
pub struct BuiltinState {
    pub aliases: Map<String, String>,
    /// `hash`: remembered command paths, in the order they were added.
    pub hashed: Vec<hash::Hashed>,
    /// Whether the running select loop has shown its menu.
    pub select_menu_shown: bool,
    /// Builtins turned off with `enable -n`.
    pub disabled_builtins: Vec<String>,
    pub dirstack: Vec<PathBuf>,
    pub completions: completion::Completions,
    pub history: history::History,
    pub keymap: keymap::KeyMap,
}
