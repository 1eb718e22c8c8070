"""Custom Rasa NLU components: the entity normaliser and the live catalogue matcher."""
