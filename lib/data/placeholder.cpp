// data: placeholder until tokenizers land.
