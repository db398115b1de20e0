"""JSON Schemas of the manifest, project file and saved plan (data, read as package resources)."""
