"""The command-line shell: parse input, call the core, format output."""
