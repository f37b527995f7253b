// go.mod: the Go example's module; it uses the memtx module beside it in the tree (the build tree lays both
// out the same way, with the SWIG-generated package in place).
module memtx-example

go 1.19

require memtx v0.0.0

replace memtx => ../../bindings/go
