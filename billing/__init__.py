"""Stripe billing: department licenses and integration device subscriptions."""
