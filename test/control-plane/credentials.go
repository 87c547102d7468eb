package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// kubeVersion is what /version reports; the build sets it together with component-base's version variables.
var kubeVersion = "v1.36.3"

// The three identities of the test cluster: an administrator, a user with no rights at all, and a user bound
// only to the minimal lock Role shipped in the repository.
var users = []struct{ name, groups string }{
	{"admin", "system:masters"},
	{"alice", ""},
	{"locker", ""},
}

type credentials struct {
	caData                                 []byte
	servingCertPath, servingKeyPath, saKey string
	tokenFile                              string
	tokens                                 map[string]string
}

func writeCredentials(dir string) (*credentials, error) {
	certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey("127.0.0.1", []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	if err != nil {
		return nil, err
	}
	saKeyPEM, err := keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		return nil, err
	}
	c := &credentials{
		caData:          certPEM,
		servingCertPath: filepath.Join(dir, "serving.crt"),
		servingKeyPath:  filepath.Join(dir, "serving.key"),
		saKey:           filepath.Join(dir, "service-account.key"),
		tokenFile:       filepath.Join(dir, "tokens.csv"),
		tokens:          map[string]string{},
	}
	csv := ""
	for _, u := range users {
		tok, err := randomHex(24)
		if err != nil {
			return nil, err
		}
		c.tokens[u.name] = tok
		csv += fmt.Sprintf("%s,%s,%s-uid,%q\n", tok, u.name, u.name, u.groups)
	}
	for path, data := range map[string][]byte{
		c.servingCertPath: certPEM, c.servingKeyPath: keyPEM, c.saKey: saKeyPEM,
		c.tokenFile: []byte(csv), filepath.Join(dir, "ca.crt"): certPEM,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeKubeconfigs writes DIR/kubeconfig (contexts admin (current), alice, locker) and DIR/admin.kubeconfig
// (admin only, for the controller manager).
func writeKubeconfigs(dir, server string, c *credentials) error {
	build := func(names ...string) *clientcmdapi.Config {
		cfg := clientcmdapi.NewConfig()
		cfg.Clusters["cmlock-test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: c.caData}
		for _, n := range names {
			cfg.AuthInfos[n] = &clientcmdapi.AuthInfo{Token: c.tokens[n]}
			cfg.Contexts[n] = &clientcmdapi.Context{Cluster: "cmlock-test", AuthInfo: n, Namespace: "default"}
		}
		cfg.CurrentContext = names[0]
		return cfg
	}
	if err := clientcmd.WriteToFile(*build("admin", "alice", "locker"), filepath.Join(dir, "kubeconfig")); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*build("admin"), filepath.Join(dir, "admin.kubeconfig"))
}
