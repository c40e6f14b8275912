"""The REST API (django-ninja, OpenAPI 3.1) at /api/: token or session auth, every query scoped to the user.

``app`` builds the :class:`~ninja.NinjaAPI`; ``routes_*`` hold the endpoints, kept small: they resolve
rows through ``access`` (which goes through ``scope_for``) and write through ``services``.
"""
