"""`make bench`: every speed figure of Sluis beside its physical floor, measured in one run."""
