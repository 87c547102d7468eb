// Command go-peer is an end-to-end test peer for kubectl-cmlock: a program that takes and releases locks exactly
// as the Go lock library does (see lock.go), so the tests can run it against cmlock on the real API server.
//
//	go-peer acquire NAME [--timeout 30s] [--labels k=v,...]   take the lock and leave it held; print its resourceVersion
//	go-peer release NAME                                      release it (the library's ownership check included)
//	go-peer hold NAME [--timeout 30s] [--labels k=v,...]      take it, hold it until stdin closes or SIGTERM/SIGINT, release
//	go-peer contend NAME --rounds N --counter FILE --log FILE [--timeout 10m] [--work 5ms]
//	                                                          N rounds of acquire, read-modify-write FILE, release
//
// Like the library, it is "in a Pod": POD_NAME and POD_NAMESPACE name the Pod that owns its locks (it must exist),
// and the locks live in POD_NAMESPACE. The cluster comes from KUBECONFIG.
//
// Exit codes: 0 ok, 1 error (including Release's "malformed" refusal), 3 Acquire timed out, 64 usage. A panic
// (the library's crash on a stale lock without an ownerReference) exits 2, as every Go panic does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const usage = "usage: go-peer acquire|release|hold|contend NAME [flags]"

func main() {
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("go-peer: ")
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(os.Stderr, usage)
		return 64
	}
	command, name := args[0], args[1]
	flags := flag.NewFlagSet("go-peer "+command, flag.ContinueOnError)
	timeout := flags.Duration("timeout", 30*time.Second, "wait limit and TTL, as the library's one timeout")
	labels := flags.String("labels", "", "labels for the lock (WithLabels), k=v,k=v")
	rounds := flags.Int("rounds", 1, "contend: how many times to take the lock")
	counter := flags.String("counter", "", "contend: the counter file to increment while holding the lock")
	holdLog := flags.String("log", "", "contend: the file to append one hold interval a line to")
	work := flags.Duration("work", 5*time.Millisecond, "contend: time spent between reading and writing the counter")
	if err := flags.Parse(args[2:]); err != nil || flags.NArg() > 0 {
		fmt.Fprintln(os.Stderr, usage)
		return 64
	}
	podName, namespace := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if podName == "" || namespace == "" {
		fmt.Fprintln(os.Stderr, "error: POD_NAME and POD_NAMESPACE must name the Pod this program runs as")
		return 64
	}
	client, err := newClient()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	lock := newLock(client, namespace, podName, name, *timeout)
	if *labels != "" {
		parsed, err := parseLabels(*labels)
		if err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
			return 64
		}
		lock.WithLabels(parsed)
	}
	ctx := context.Background()
	switch command {
	case "acquire":
		return acquire(ctx, lock)
	case "release":
		return fail(lock.Release(ctx))
	case "hold":
		return hold(ctx, lock)
	case "contend":
		if *counter == "" || *holdLog == "" || *rounds < 1 {
			fmt.Fprintln(os.Stderr, "error: contend needs --counter, --log and --rounds >= 1")
			return 64
		}
		return contend(ctx, lock, podName, *rounds, *counter, *holdLog, *work)
	default:
		fmt.Fprintln(os.Stderr, usage)
		return 64
	}
}

func newClient() (kubernetes.Interface, error) {
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(config)
}

func parseLabels(text string) (map[string]string, error) {
	labels := map[string]string{}
	for _, pair := range strings.Split(text, ",") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("bad label %q: want key=value", pair)
		}
		labels[key] = value
	}
	return labels, nil
}

// fail prints an error the way the tests read it and maps it to the exit code.
func fail(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
	if errors.Is(err, errTimedOut) {
		return 3
	}
	return 1
}

func acquire(ctx context.Context, lock *Lock) int {
	if err := lock.Acquire(ctx); err != nil {
		return fail(err)
	}
	fmt.Printf("acquired lock %s (resourceVersion %s)\n", lock.name, lock.createdRV)
	return 0
}

// hold keeps the lock until stdin closes or a signal asks to stop, then releases it.
func hold(ctx context.Context, lock *Lock) int {
	if err := lock.Acquire(ctx); err != nil {
		return fail(err)
	}
	fmt.Printf("acquired lock %s (resourceVersion %s)\n", lock.name, lock.createdRV)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(closed)
	}()
	select {
	case <-stop:
	case <-closed:
	}
	if err := lock.Release(ctx); err != nil {
		return fail(err)
	}
	fmt.Printf("released lock %s\n", lock.name)
	return 0
}

// monotonicNs is CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine, so hold intervals
// logged by this peer and by cmlock's children (perl's clock_gettime) can be compared.
func monotonicNs() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

// contend takes the lock `rounds` times; while holding it, it increments the counter file with a read, a pause
// and a write (a lost update shows if two holders overlap) and appends "START END FENCE HOLDER" to the log, the
// fence being the resourceVersion of the create that took the lock.
func contend(ctx context.Context, lock *Lock, pod string, rounds int, counter, holdLog string, work time.Duration) int {
	for round := 0; round < rounds; round++ {
		if err := lock.Acquire(ctx); err != nil {
			return fail(err)
		}
		start := monotonicNs()
		text, err := os.ReadFile(counter)
		if err != nil {
			return fail(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(text)))
		if err != nil {
			return fail(fmt.Errorf("counter file: %w", err))
		}
		time.Sleep(work)
		if err := os.WriteFile(counter, []byte(strconv.Itoa(n+1)+"\n"), 0o644); err != nil {
			return fail(err)
		}
		end := monotonicNs()
		line := fmt.Sprintf("%d %d %s go/%s/%d\n", start, end, lock.createdRV, pod, round)
		if err := appendLine(holdLog, line); err != nil {
			return fail(err)
		}
		if err := lock.Release(ctx); err != nil {
			return fail(err)
		}
	}
	return 0
}

// appendLine writes one short line with O_APPEND, which keeps it whole next to other writers.
func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
