// Command controlplane runs a real Kubernetes control plane on loopback for kubectl-cmlock's tests and demo:
// an embedded etcd, kube-apiserver (RBAC, static tokens) and kube-controller-manager (garbage collector and
// namespace controllers).
//
// One multi-call binary: each Kubernetes component runs as its own process (their signal-context helpers
// panic when set up twice in one process), started by the `up` supervisor, which re-executes itself.
//
//	controlplane up --dir DIR            supervise everything; DIR/state.json appears once the cluster is ready
//	controlplane kube-apiserver ...      (internal) the real kube-apiserver command
//	controlplane kube-controller-manager ...  (internal) the real kube-controller-manager command
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: controlplane up --dir DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "kube-apiserver":
		os.Exit(runComponent(apiserver.NewAPIServerCommand(), os.Args[2:]))
	case "kube-controller-manager":
		os.Exit(runComponent(controllermanager.NewControllerManagerCommand(), os.Args[2:]))
	case "up":
		os.Exit(up(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "controlplane: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func runComponent(cmd *cobra.Command, args []string) int {
	cmd.SetArgs(args)
	return cli.Run(cmd)
}
