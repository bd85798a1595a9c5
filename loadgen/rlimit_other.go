//go:build !unix

package loadgen

import "time"

func raiseFileLimit() uint64 { return 0 }

func cpuTime() time.Duration { return 0 }
