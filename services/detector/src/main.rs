//! `nvm-detector`: see the library's `cli` module for the commands.

fn main() -> std::process::ExitCode {
    nvm_detector::cli::main()
}
