"""The platform's services; each is deployable alone from the same image."""
