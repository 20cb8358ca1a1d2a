"""The partner client: what landlords, the municipality and AMW run (``gateway-client``)."""
