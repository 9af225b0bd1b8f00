package certgen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File is one output file, relative to the output directory.
type File struct {
	Path string
	Data []byte
	Mode fs.FileMode
}

const (
	publicMode  fs.FileMode = 0o644
	privateMode fs.FileMode = 0o600
)

// Files lays the control plane out as Envoy Gateway's host mode does:
// one directory per Secret, one file per data key.
func (cp *ControlPlane) Files() []File {
	var out []File
	for _, d := range []struct {
		dir string
		kp  KeyPair
	}{{EnvoyGatewayName, cp.EnvoyGateway}, {EnvoyName, cp.Envoy}, {RateLimitName, cp.RateLimit}} {
		out = append(out,
			File{filepath.Join(d.dir, CACertKey), cp.CA.CertPEM, publicMode},
			File{filepath.Join(d.dir, TLSCertKey), d.kp.CertPEM, publicMode},
			File{filepath.Join(d.dir, TLSKeyKey), d.kp.KeyPEM, privateMode},
		)
	}
	return append(out, File{filepath.Join(OIDCHMACSecretName, HMACSecretKey), cp.OIDCHMACSecret, privateMode})
}

// Files returns tls.crt, tls.key and ca.crt, plus ca.key when the CA was
// made in this run (otherwise its key would be lost and no further
// certificate could be signed by it).
func (l *ListenerCert) Files() []File {
	out := []File{
		{TLSCertKey, l.Leaf.CertPEM, publicMode},
		{TLSKeyKey, l.Leaf.KeyPEM, privateMode},
		{CACertKey, l.CA.CertPEM, publicMode},
	}
	if l.CAGenerated {
		out = append(out, File{"ca.key", l.CA.KeyPEM, privateMode})
	}
	return out
}

// ErrExists is wrapped by WriteFiles when a file is already there.
var ErrExists = errors.New("file exists")

// WriteFiles writes files under dir. Unless overwrite is set, it first
// checks that none of them exists, so a refusal leaves nothing half
// written. Keys are created 0600 from the start (never briefly readable).
// It returns the paths written.
func WriteFiles(dir string, files []File, overwrite bool) ([]string, error) {
	if !overwrite {
		for _, f := range files {
			p := filepath.Join(dir, f.Path)
			if _, err := os.Lstat(p); err == nil {
				return nil, fmt.Errorf("refusing to overwrite %s: %w (pass --overwrite to replace it)", p, ErrExists)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, err
		}
		if err := writeFile(p, f.Data, f.Mode); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// writeFile writes via a temporary file and a rename, so a reader never
// sees a half-written key and an overwritten key file gets the new mode
// (os.WriteFile keeps an existing file's permissions).
func writeFile(p string, data []byte, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
