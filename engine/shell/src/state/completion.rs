//! The table of programmable-completion specifications (`complete`, `compgen`).

use std::cell::RefCell;
use std::rc::Rc;

/// One completion specification.
#[derive(Clone, Default, Debug)]
pub struct Spec {
    pub(crate) actions: u32,
    pub(crate) options: u32,
    pub(crate) globpat: Option<String>,
    pub(crate) words: Option<String>,
    pub(crate) prefix: Option<String>,
    pub(crate) suffix: Option<String>,
    pub(crate) filterpat: Option<String>,
    pub(crate) command: Option<String>,
    pub(crate) funcname: Option<String>,
}

pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) seq: u64,
    /// Names given together to one `complete` share one specification (as `compopt` shows).
    pub(crate) spec: Rc<RefCell<Spec>>,
}

/// The table of completion specifications.
#[derive(Default)]
pub struct Completions {
    /// bash creates its table on the first `complete`; removing from no table succeeds.
    pub(crate) created: bool,
    pub(crate) seq: u64,
    pub(crate) entries: Vec<Entry>,
}
