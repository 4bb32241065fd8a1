//! The detector's command line, built inside the test crate so that cargo
//! guarantees the tests always run the current code.

fn main() -> std::process::ExitCode {
    nvm_detector::cli::main()
}
