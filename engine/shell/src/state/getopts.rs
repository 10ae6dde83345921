//! Where `getopts` is in the arguments.

#[derive(Clone, Debug)]
pub struct Getopts {
    /// The position inside the current word (options grouped as `-abc`).
    pub getopts_sub: usize,
    /// The OPTIND getopts last set (a script resetting OPTIND restarts it).
    pub getopts_last_ind: usize,
}

impl Default for Getopts {
    fn default() -> Self {
        Getopts {
            getopts_sub: 0,
            getopts_last_ind: 1,
        }
    }
}
