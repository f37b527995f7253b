// config: placeholder.
