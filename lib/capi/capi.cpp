// capi: placeholder until the C API lands.
