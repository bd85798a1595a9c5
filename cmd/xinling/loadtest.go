package main

import "io"

func loadtestCommand(args []string, stdout, stderr io.Writer) error {
	return usagef("loadtest is not built yet")
}
