//! Rewrites of the script text before brush-parser 0.4 reads it, one per construct bash
//! accepts and that parser does not (or reads differently). Each module says which and why;
//! each keeps line numbers, so error messages and `$LINENO` still match the script as
//! written. Text enters as the script, leaves as text the parser reads as bash would.

pub(crate) mod cmdsub_comments;
pub(crate) mod comsub_case;
pub(crate) mod condnl;
pub(crate) mod dq_blanks;
pub(crate) mod empty_for;
pub(crate) mod fnbody;
pub(crate) mod io_number;
