"""What every room uses: errors and exit codes, Ctrl-C safety, directories, config.toml."""
