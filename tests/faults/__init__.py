"""Fault injection: hostile rewrites, killed connections, full disks, Ctrl-C, leaked secrets."""
