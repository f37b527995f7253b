// go.mod: the Go module memtx, the Go binding of libmemtx (standard library only; no downloads).
module memtx

go 1.19
