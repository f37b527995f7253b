// Anchor source for the precompiled torch header shared by all targets.
