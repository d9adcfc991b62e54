"""The daemon: the scheduler, leader election, health and metrics endpoints, systemd notification."""
