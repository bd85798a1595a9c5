package main

import "io"

func serveCommand(args []string, stdout, stderr io.Writer) error {
	return usagef("serve is not built yet")
}
