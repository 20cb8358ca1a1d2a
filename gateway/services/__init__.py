"""Services: the use cases that combine the pure layers (policy, crypto) with the store."""
