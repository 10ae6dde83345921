//! readline's key map and variables as `bind` edits them.

use std::collections::BTreeMap;

/// What a key sequence runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Binding {
    Func(String),
    Macro(Vec<u8>),
    Shell(String),
}

/// The key map (filled on first use: most scripts never call `bind`).
#[derive(Clone, Default)]
pub struct KeyMap {
    pub(crate) loaded: bool,
    pub(crate) keys: BTreeMap<Vec<u8>, Binding>,
    /// readline variables (`set name value`), in `bind -v` order.
    pub(crate) vars: Vec<(&'static str, String)>,
}
