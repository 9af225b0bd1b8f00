package bench

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// stageProfileDir is hidden profiling support: with
//
//	go test -run '^$' -bench 'BenchmarkPipeline/10000' -benchtime 1x ./test/bench/ -args -stageprofile=/tmp/prof
//
// every stage sub-benchmark writes DIR/<routes>-<stage>.cpu.prof covering
// only its timed loop (go test's -cpuprofile also covers the setup run of
// the whole pipeline, which drowns the stage being looked at), plus heap
// profiles before and after the loop, to be read as
//
//	go tool pprof -sample_index=alloc_space -diff_base DIR/N-S.mem0.prof DIR/N-S.mem1.prof
//
// Do not combine it with go test's -cpuprofile: only one CPU profile can run.
var stageProfileDir = flag.String("stageprofile", "", "write per-stage CPU and heap profiles of BenchmarkPipeline into this directory")

// profileStage starts the stage's profiles, if asked for, and returns the
// function that stops them; call it before the sub-benchmark returns.
func profileStage(b *testing.B, routes int, stage string) (stop func()) {
	b.Helper()
	if *stageProfileDir == "" {
		return func() {}
	}
	base := filepath.Join(*stageProfileDir, strconv.Itoa(routes)+"-"+stage)
	if err := os.MkdirAll(*stageProfileDir, 0o755); err != nil {
		b.Fatal(err)
	}
	writeHeap(b, base+".mem0.prof")
	cpu, err := os.Create(base + ".cpu.prof")
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		b.Fatalf("starting the CPU profile (is go test's -cpuprofile also set?): %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := cpu.Close(); err != nil {
			b.Error(err)
		}
		writeHeap(b, base+".mem1.prof")
	}
}

func writeHeap(b *testing.B, path string) {
	b.Helper()
	// Allocation counts in the heap profile are published at the end of a
	// GC cycle; collect so the profile includes everything up to now.
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// reportCPU reports the process's user+sys CPU time per iteration as
// "cpu-s/op" when the returned function runs. On a machine shared with
// other work, ns/op counts time spent waiting for a core; CPU time does not
// (it does count the garbage collector's work on every thread, which is
// part of the cost being measured).
func reportCPU(b *testing.B) (stop func()) {
	b.Helper()
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure starts what every stage sub-benchmark reports: allocations, CPU
// time and, when asked for, profiles. Call the returned function when the
// timed loop ends.
func measure(b *testing.B, routes int, stage string) (stop func()) {
	b.Helper()
	b.ReportAllocs()
	stopProfile := profileStage(b, routes, stage)
	stopCPU := reportCPU(b)
	return func() {
		stopCPU()
		stopProfile()
	}
}
