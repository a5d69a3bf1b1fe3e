"""Domain logic with no request in it. Views parse input, call a service, then render or answer JSON."""
