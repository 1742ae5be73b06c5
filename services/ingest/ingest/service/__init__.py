"""The two workers (bridge, projector) and `rebuild`: adapters wired into loops."""
