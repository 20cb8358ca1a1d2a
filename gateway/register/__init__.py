"""The processing register, and the GDPR art. 30 register of processing activities."""
