// Added by deploy/temporal/build-server.mjs to a copy of go.temporal.io/server's cmd/server before it is built:
// one binary for the server and its SQL tool, which share nearly all their code (separately they were 113 MiB and
// 37 MiB; together they are 114 MiB). Started under the name temporal-sql-tool (a link to temporal-server) it is
// the SQL tool, exactly as cmd/tools/sql's main runs it (the server already links the same SQL plugins); under any
// other name, the server.
package main

import (
	"os"
	"path/filepath"

	"go.temporal.io/server/tools/sql"
)

func init() {
	if filepath.Base(os.Args[0]) != "temporal-sql-tool" {
		return
	}
	if err := sql.RunTool(os.Args); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}
