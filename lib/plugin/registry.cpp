// plugin registry: placeholder.
