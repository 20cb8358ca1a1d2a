"""The processing register (append-only, tamper-evident) and the GDPR art. 30 register of
processing activities, both exported for the Autoriteit Persoonsgegevens."""
