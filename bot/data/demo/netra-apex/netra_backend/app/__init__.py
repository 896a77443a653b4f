"""The Netra backend application package."""
