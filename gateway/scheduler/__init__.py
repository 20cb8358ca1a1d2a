"""The scheduler: retention, deadlines, monthly deliveries, checkpoints and key warnings.

``gateway scheduler`` runs these jobs in a process of its own (never inside gunicorn), holding
the one scheduler lock of its database; ``gateway jobs list|run`` shows and runs them by hand.
"""
