"""The dispatcher's application layer: reacts to facts, ownership changes and timers."""
