//! The functions a shell has defined.

use super::{Map, Set};
use brush_parser::ast;
use std::rc::Rc;

#[derive(Clone, Default)]
pub struct Functions {
    pub funcs: Map<String, Rc<ast::FunctionDefinition>>,
    /// Where each function was defined.
    pub func_src: Map<String, String>,
    /// Functions marked `readonly -f`: they cannot be redefined.
    pub readonly_funcs: Set<String>,
    /// Functions marked by `export -f`: child shells get them as BASH_FUNC_name%%.
    pub exported_funcs: Set<String>,
}
