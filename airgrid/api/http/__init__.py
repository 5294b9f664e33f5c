"""The HTTP API (FastAPI): application, settings, authentication, error contract,
request rules, routers and their schemas.
"""
