"""The `gongpei` command line, one module per command group."""
