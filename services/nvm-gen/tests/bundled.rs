//! The committed data set is exactly what its README's command produces.

use std::path::PathBuf;

use clap::Parser;
use nvm_gen::cli::Cli;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

fn readme() -> String {
    std::fs::read_to_string(data_dir().join("README.md")).expect("data/README.md")
}

/// The generator arguments of the command documented in data/README.md.
fn documented_arguments() -> Vec<String> {
    let readme = readme();
    let command = readme
        .lines()
        .find(|l| l.starts_with("cargo run") && l.contains("-p nvm-gen"))
        .expect("a `cargo run ... -p nvm-gen -- ...` line");
    let (_, args) = command.split_once(" -- ").expect("arguments after --");
    args.split_whitespace().map(str::to_owned).collect()
}

fn documented_cli() -> Cli {
    let args = documented_arguments();
    Cli::try_parse_from(std::iter::once("nvm-gen".to_owned()).chain(args))
        .expect("documented arguments parse")
}

#[test]
fn regenerating_with_the_documented_command_reproduces_the_data_set() {
    let cli = documented_cli();
    assert_eq!(
        cli.output.as_deref(),
        Some(std::path::Path::new("data/nvm-flows.log"))
    );
    let mut regenerated = Vec::new();
    nvm_gen::write_all(&cli.config(), &mut regenerated).expect("generation");
    let committed = std::fs::read(data_dir().join("nvm-flows.log")).expect("data/nvm-flows.log");
    assert_eq!(regenerated.len(), committed.len(), "sizes differ");
    assert!(regenerated == committed, "contents differ");
}

#[test]
fn the_readme_names_the_sessions_and_broken_lines_the_run_has() {
    let generator =
        nvm_gen::write_all(&documented_cli().config(), &mut std::io::sink()).expect("generation");
    let readme = readme();
    for session in generator.sessions() {
        let row = format!("| {} | {} |", session.label, session.host);
        assert!(readme.contains(&row), "README lacks {row:?}");
    }
    for (line, _) in &generator.stats().malformed {
        assert!(
            readme.contains(&format!("| {line} |")),
            "README lacks malformed line {line}"
        );
    }
    let late = &generator.stats().late_lines;
    let (first, last) = (late.first().unwrap().0, late.last().unwrap().0);
    assert!(
        readme.contains(&format!("lines {first}–{last}")),
        "README lacks late lines"
    );
}
