"""People: accounts and passwords, staff management and reset links, invites and their QR codes."""
