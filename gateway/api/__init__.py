"""API v1 for partners: flask-smorest blueprints, marshmallow schemas, problem+json errors."""
