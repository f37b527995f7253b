// causal: placeholder
