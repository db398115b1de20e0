"""JSON Schemas of the manifest, project file and saved plan (data; read with importlib.resources)."""
