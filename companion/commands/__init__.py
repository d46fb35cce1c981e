"""Command-line subcommands, one module each, loaded lazily by `companion.cli`."""
