module atomic.local/sdk

go 1.23
