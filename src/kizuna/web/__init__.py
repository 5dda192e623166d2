"""Web personalisation: slots, the choice of what each visitor sees, and the demo shop."""
