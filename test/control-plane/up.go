package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// state is what the supervisor publishes in DIR/state.json once the cluster is ready. Test harnesses read it.
type state struct {
	PID        int    `json:"pid"`
	Server     string `json:"server"`
	Kubeconfig string `json:"kubeconfig"`
	// Control is a loopback HTTP endpoint: POST /apiserver/stop and /apiserver/start restart only the
	// API server while etcd keeps its data.
	Control string `json:"control"`
	Version string `json:"version"`
}

func up(args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := fs.String("dir", ".cluster", "state directory (certificates, tokens, kubeconfig, logs, etcd data)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fail(err)
	}
	s := &supervisor{dir: abs}
	if err := s.start(); err != nil {
		s.shutdown()
		return fail(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	got := <-sig
	logf("received %s, stopping", got)
	s.shutdown()
	return 0
}

func fail(err error) int {
	logf("error: %v", err)
	return 1
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s controlplane: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
}

type supervisor struct {
	dir      string
	creds    *credentials
	etcd     *embed.Etcd
	etcdURL  string
	apiPort  int
	mu       sync.Mutex // guards apiserver (stop/start come from the control endpoint)
	api      *child
	cm       *child
	control  *http.Server
	stopOnce sync.Once
}

func (s *supervisor) start() error {
	// A fresh data directory each time: tests want a clean cluster, and etcd starts in well under a second.
	for _, sub := range []string{"etcd", "apiserver-certs"} {
		if err := os.RemoveAll(filepath.Join(s.dir, sub)); err != nil {
			return err
		}
	}
	_ = os.Remove(filepath.Join(s.dir, "state.json"))
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	creds, err := writeCredentials(s.dir)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	s.creds = creds

	if err := s.startEtcd(); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	if s.apiPort, err = freePort(); err != nil {
		return err
	}
	server := fmt.Sprintf("https://127.0.0.1:%d", s.apiPort)
	if err := writeKubeconfigs(s.dir, server, creds); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := s.startAPIServer(); err != nil {
		return err
	}
	if err := s.startControllerManager(); err != nil {
		return err
	}
	if err := provePlatform(s.dir, 90*time.Second); err != nil {
		return err
	}
	control, err := s.serveControl()
	if err != nil {
		return err
	}
	st := state{PID: os.Getpid(), Server: server, Kubeconfig: filepath.Join(s.dir, "kubeconfig"), Control: control, Version: kubeVersion}
	return writeJSONAtomic(filepath.Join(s.dir, "state.json"), st)
}

func (s *supervisor) startEtcd() error {
	clientPort, err := freePort()
	if err != nil {
		return err
	}
	peerPort, err := freePort()
	if err != nil {
		return err
	}
	cfg := embed.NewConfig()
	cfg.Name = "cmlock-test"
	cfg.Dir = filepath.Join(s.dir, "etcd")
	cfg.LogLevel = "error"
	cfg.UnsafeNoFsync = true
	client := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peer := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ListenMetricsUrls = nil
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return errors.New("etcd not ready after 60s")
	}
	s.etcd, s.etcdURL = e, client.String()
	logf("etcd ready at %s", s.etcdURL)
	return nil
}

func (s *supervisor) apiServerArgs() []string {
	c := s.creds
	return []string{
		"--etcd-servers=" + s.etcdURL,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", s.apiPort),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--cert-dir=" + filepath.Join(s.dir, "apiserver-certs"),
		"--tls-cert-file=" + c.servingCertPath,
		"--tls-private-key-file=" + c.servingKeyPath,
		"--token-auth-file=" + c.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.saKey,
		"--service-account-signing-key-file=" + c.saKey,
		"--disable-admission-plugins=ServiceAccount",
		"--v=1",
	}
}

func (s *supervisor) startAPIServer() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api != nil {
		return nil
	}
	started := time.Now()
	api, err := startChild(s.dir, "kube-apiserver", s.apiServerArgs())
	if err != nil {
		return err
	}
	s.api = api
	if err := waitReady(s.creds, s.apiPort, api, 120*time.Second); err != nil {
		return fmt.Errorf("kube-apiserver: %w (see %s)", err, api.logPath)
	}
	logf("kube-apiserver ready on 127.0.0.1:%d after %s", s.apiPort, time.Since(started).Round(time.Millisecond))
	return nil
}

// stopAPIServer gives kube-apiserver grace to shut down; its graceful shutdown otherwise waits on the
// controller manager's open watches for longer than a restart test wants to.
func (s *supervisor) stopAPIServer(grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api != nil {
		s.api.stop(grace)
		s.api = nil
		logf("kube-apiserver stopped")
	}
}

func (s *supervisor) startControllerManager() error {
	cm, err := startChild(s.dir, "kube-controller-manager", []string{
		"--kubeconfig=" + filepath.Join(s.dir, "admin.kubeconfig"),
		"--controllers=garbage-collector-controller,namespace-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		"--v=1",
	})
	if err != nil {
		return err
	}
	s.cm = cm
	return nil
}

// serveControl lets tests restart only the API server, while etcd (in this process) keeps the data.
func (s *supervisor) serveControl() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /apiserver/stop", func(w http.ResponseWriter, _ *http.Request) {
		s.stopAPIServer(3 * time.Second)
		fmt.Fprintln(w, "stopped")
	})
	mux.HandleFunc("POST /apiserver/start", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.startAPIServer(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "started")
	})
	s.control = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.control.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

func (s *supervisor) shutdown() {
	s.stopOnce.Do(func() {
		_ = os.Remove(filepath.Join(s.dir, "state.json"))
		if s.control != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = s.control.Shutdown(ctx)
			cancel()
		}
		if s.cm != nil {
			s.cm.stop(10 * time.Second)
		}
		s.stopAPIServer(15 * time.Second)
		if s.etcd != nil {
			s.etcd.Close()
		}
		logf("stopped")
	})
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
