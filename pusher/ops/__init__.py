"""Operations: what an operator or the daemon does, as library calls the CLI and the daemon share."""
