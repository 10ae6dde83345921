fn main() {
    std::process::exit(hookbox::cli::main());
}
