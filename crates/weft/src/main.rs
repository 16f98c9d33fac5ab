//! The `weft` command line: `weft run`, `weft trace`, `weft inspect` and `weft convert` (see
//! [`weft::cli`]).

fn main() -> std::process::ExitCode {
    weft::cli::main()
}
