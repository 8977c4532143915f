"""The operator's commands, one module per bin/ command."""
