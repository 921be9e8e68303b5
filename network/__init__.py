"""Road network: OSM files to drive and walk graphs, snapping, travel-time matrices, caching."""
