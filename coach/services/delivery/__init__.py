"""Delivery and channels: planning each family's day, the leased outbox, Web Push and devices."""
