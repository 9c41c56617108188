"""The vendor's console on the platform site (public schema): departments, support, billing."""
