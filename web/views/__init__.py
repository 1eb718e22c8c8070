"""The console's pages, one module per area; each module's `add_routes` registers its routes."""
