// Command xinling is the whole product in one binary: the server and the
// tools around it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// usageError is bad command-line input: the message is printed as is,
// with no stack trace, and the exit status is 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errFailed means the command ran and reported a failure it already printed
// (invalid documents, failing vectors): exit status 1.
var errFailed = errors.New("failed")

const usage = `usage: xinling <command> [arguments]

commands:
  scales list [--json]           list the built-in instruments
  scales validate [PATH...]      check documents (built-ins by default)
  scales test [PATH...]          run documents' test vectors
  score --scale ID ...           score one set of answers (xinling score --help)
  serve                          run the server (xinling serve --help)
  loadtest --target URL ...      drive virtual respondents against a server (or several)
  verify --data DIR --ack-log F  check that every acknowledged answer is stored (--mongo-uri, --submit-log)
  user add --name N --role R --unit U   create a staff account (the first admin)
  demo                           seed a demo org tree and accounts, print their logins
  backup --out FILE [--data DIR]   consistent copy of the embedded store, while it serves
  restore --from FILE [--data DIR] [--force]   put a backup in place (server stopped)
  rekey                          re-encrypt personal data under the current key (xinling rekey --help)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFailed):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "xinling:", ue.msg)
		return 2
	default:
		fmt.Fprintln(stderr, "xinling:", err)
		return 1
	}
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "scales":
		return scalesCommand(args[1:], stdout, stderr)
	case "score":
		return scoreCommand(args[1:], stdout, stderr)
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "loadtest":
		return loadtestCommand(args[1:], stdout, stderr)
	case "verify":
		return verifyCommand(args[1:], stdout, stderr)
	case "user":
		return userCommand(args[1:], stdout, stderr)
	case "demo":
		return demoCommand(args[1:], stdout, stderr)
	case "backup":
		return backupCommand(args[1:], stdout, stderr)
	case "restore":
		return restoreCommand(args[1:], stdout, stderr)
	case "rekey":
		return rekeyCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}
