"""Scenario reports: report.html with an offline Leaflet map, tables and PNG plots."""
