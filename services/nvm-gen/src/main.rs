//! `nvm-gen`: writes Cisco NVM flow records; see `nvm_gen::cli`.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    nvm_gen::cli::run(&nvm_gen::cli::Cli::parse())
}
