"""The touchscreen ticket kiosk (routes, templates, ticket layout): see issue [2/5]."""
