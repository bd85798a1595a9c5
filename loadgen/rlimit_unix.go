//go:build unix

package loadgen

import (
	"syscall"
	"time"
)

// raiseFileLimit lifts the soft open-file limit to the hard one, since every
// keep-alive connection holds a descriptor and a default soft limit of 1024
// would cap a 100,000-respondent run. It returns the limit now in force, or
// 0 if unknown.
func raiseFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
		}
	}
	return uint64(r.Cur)
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
