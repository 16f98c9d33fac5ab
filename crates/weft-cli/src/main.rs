//! The `weft` command line: `weft run`, `weft trace`, `weft inspect` and `weft convert` (see
//! [`weft_cli`]).

fn main() -> std::process::ExitCode {
    weft_cli::main()
}
