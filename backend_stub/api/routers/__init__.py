"""The core API's routes, one module per area; ``api.app.create_app`` includes them."""
