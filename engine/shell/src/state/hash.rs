//! `hash`'s table of remembered command paths.

/// One remembered command: its name, the path it runs, how often it was used, and the PATH
/// it was remembered under (bash forgets every entry when PATH is assigned; here, when PATH
/// has changed).
#[derive(Clone, Debug)]
pub struct Hashed {
    pub name: String,
    pub path: String,
    pub hits: u32,
    pub under: String,
}
