"""The service's web layer: control API, OpenAPI document, dashboard, vendor resources, sink glue."""
