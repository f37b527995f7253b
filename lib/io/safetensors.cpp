// safetensors: placeholder.
