package main

import "io"

func verifyCommand(args []string, stdout, stderr io.Writer) error {
	return usagef("verify is not built yet")
}
