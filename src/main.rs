//! The `flowcert` command line: thin over the library (see `src/cli/`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
