"""The REST API under ``/api/v1`` (flask-smorest + marshmallow), its spec and its docs page.

``app.register_api`` puts it on an app; ``base`` has the machinery (authentication,
scopes, rate limits, the error shape), ``tickets`` and ``people`` the core's resources,
``serialize`` the views of tickets and messages (shared with the webhooks' payloads),
``docs`` the browsable reference. Plugins add endpoints with the ``helpdesk_api_blueprints``
hook. Integrators' guide: docs/api_rest.md. (This package file imports nothing, so the web
layer can use ``helpdesk.api.base`` without a cycle.)
"""
