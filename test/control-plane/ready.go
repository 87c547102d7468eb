package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// waitReady polls /readyz as the admin until it answers ok, the process exits, or the limit passes.
func waitReady(c *credentials, port int, api *child, limit time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.caData)
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if api.exited() {
			return errors.New("exited during start-up")
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d/readyz", port), nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens["admin"])
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == "ok" {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", limit)
}

// provePlatform shows that the garbage collector works before the cluster is declared ready: a ConfigMap
// owned by another ConfigMap must disappear once its owner is deleted. Tests of ownerReferences would
// otherwise fail for reasons that have nothing to do with cmlock.
func provePlatform(dir string, limit time.Duration) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cms := cs.CoreV1().ConfigMaps("default")
	owner, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gc-canary-owner-"}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("gc canary: %w", err)
	}
	dep, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		GenerateName:    "gc-canary-dependent-",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}},
	}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("gc canary: %w", err)
	}
	background := metav1.DeletePropagationBackground
	if err := cms.Delete(ctx, owner.Name, metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		return fmt.Errorf("gc canary: %w", err)
	}
	started := time.Now()
	for {
		_, err := cms.Get(ctx, dep.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			logf("garbage collector works: dependent removed %s after its owner", time.Since(started).Round(time.Millisecond))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("garbage collector did not remove the canary's dependent within %s", limit)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
