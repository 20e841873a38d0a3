"""The REST API's request and response models: the OpenAPI document's schemas.

The response models mirror the JSON the package's `to_dict`s produce (a test keeps their
fields equal); the request models validate what a client sends before the service sees it.
"""
