"""Pure dispatcher logic: event state folded from facts, allocation, retry and overlap rules."""
