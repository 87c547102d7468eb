package main

// The lock, behaving like the Go library kubectl-cmlock grows out of (v0.3.6), written from the facts gathered in
// issue 12 and the library's documented API, not from its code. Each rule below is a fact about the library that
// the end-to-end tests rely on, including its faults: TTL counted from when Acquire started, stale locks and
// releases deleted by name without preconditions, expiry judged on the local clock, doubling sleeps with no cap,
// and the panic on a stale lock that has no ownerReference.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// expiresAtKey is the one data key the library writes and reads: Unix seconds, decimal.
const expiresAtKey = "expiresAt"

// errTimedOut is Acquire giving up: the deadline had passed after a failed try.
var errTimedOut = errors.New("timed out waiting for the lock")

// Lock mirrors the library's Lock: a name, one timeout used both as wait limit and as TTL, optional labels.
type Lock struct {
	client    kubernetes.Interface
	namespace string // POD_NAMESPACE
	podName   string // POD_NAME
	name      string
	timeout   time.Duration
	labels    map[string]string
	// firstSleep is the first pause between tries (the library: one second); it doubles after every failed try.
	firstSleep time.Duration
	// createdRV is the resourceVersion of our create: the contention log records it as a fencing token.
	createdRV string
}

func newLock(c kubernetes.Interface, namespace, podName, name string, timeout time.Duration) *Lock {
	return &Lock{client: c, namespace: namespace, podName: podName, name: name, timeout: timeout, firstSleep: time.Second}
}

// WithLabels sets the only labels the lock carries (the library writes no label of its own).
func (l *Lock) WithLabels(labels map[string]string) *Lock {
	l.labels = labels
	return l
}

// myPod reads the Pod named by POD_NAME / POD_NAMESPACE: the lock's owner.
func (l *Lock) myPod(ctx context.Context) (*corev1.Pod, error) {
	pod, err := l.client.CoreV1().Pods(l.namespace).Get(ctx, l.podName, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("getting my pod %s/%s: %w", l.namespace, l.podName, err)
	}
	return pod, nil
}

// data is what the library writes: expiresAt = when Acquire *started* + timeout, or nothing when timeout <= 0.
func (l *Lock) data(started time.Time) map[string]string {
	data := map[string]string{}
	if l.timeout > 0 {
		data[expiresAtKey] = strconv.FormatInt(started.Add(l.timeout).Unix(), 10)
	}
	return data
}

// Acquire creates the ConfigMap; on AlreadyExists it reads it and deletes it when stale, then creates again.
// Between failed tries it sleeps 1 s, 2 s, 4 s, ... without cap; the deadline is checked only after a failed
// try, so a try that starts before the deadline may create a lock whose expiresAt has already passed.
func (l *Lock) Acquire(ctx context.Context) error {
	started := time.Now()
	deadline := started.Add(l.timeout)
	pod, err := l.myPod(ctx)
	if err != nil {
		return err
	}
	controller := true
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      l.name,
			Namespace: l.namespace,
			Labels:    l.labels,
			OwnerReferences: []metav1.OwnerReference{
				{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: &controller},
			},
		},
		Data: l.data(started),
	}
	sleep := l.firstSleep
	for {
		created, err := l.client.CoreV1().ConfigMaps(l.namespace).Create(ctx, cm, metav1.CreateOptions{})
		if err == nil {
			l.createdRV = created.ResourceVersion
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating lock %s: %w", l.name, err)
		}
		found, err := l.client.CoreV1().ConfigMaps(l.namespace).Get(ctx, l.name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			// Gone between our create and our read: a failed try like any other.
		case err != nil:
			return fmt.Errorf("getting lock %s: %w", l.name, err)
		case l.stale(found):
			// The library names the stale lock's owner as it deletes it: ownerReferences[0], unchecked. A lock
			// without one panics here (index out of range) and the program dies.
			log.Printf("deleting stale lock %s held by %s %s", l.name, found.OwnerReferences[0].Kind,
				found.OwnerReferences[0].Name)
			err := l.client.CoreV1().ConfigMaps(l.namespace).Delete(ctx, l.name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting stale lock %s: %w", l.name, err)
			}
			continue // create again at once
		}
		if time.Now().After(deadline) {
			return errTimedOut
		}
		log.Printf("lock %s is held; trying again in %s", l.name, sleep)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		sleep *= 2
	}
}

// stale is the library's test: no expiresAt while our own timeout is positive, or an expiresAt that parses as an
// int64 and lies in the past of *our* clock. Anything unparseable is not stale.
func (l *Lock) stale(cm *corev1.ConfigMap) bool {
	text, ok := cm.Data[expiresAtKey]
	if !ok {
		return l.timeout > 0
	}
	expiresAt, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return false
	}
	return time.Now().After(time.Unix(expiresAt, 0))
}

// errMalformed is the library's refusal to release a lock whose owners are not exactly its own Pod.
var errMalformed = errors.New("Owner references on found lock is malformed")

// Release reads the lock, insists that its one ownerReference is our Pod, then deletes it by name: no
// preconditions, so whatever lock holds that name at the moment of the delete is deleted.
func (l *Lock) Release(ctx context.Context) error {
	found, err := l.client.CoreV1().ConfigMaps(l.namespace).Get(ctx, l.name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("getting lock %s: %w", l.name, err)
	}
	pod, err := l.myPod(ctx)
	if err != nil {
		return err
	}
	if len(found.OwnerReferences) != 1 || found.OwnerReferences[0].UID != pod.UID {
		return errMalformed
	}
	if err := l.client.CoreV1().ConfigMaps(l.namespace).Delete(ctx, l.name, metav1.DeleteOptions{}); err != nil {
		return fmt.Errorf("deleting lock %s: %w", l.name, err)
	}
	return nil
}
