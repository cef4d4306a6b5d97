"""System endpoints: health, the OpenAPI document and its offline documentation page."""
