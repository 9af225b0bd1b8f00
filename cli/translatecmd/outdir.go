package translatecmd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Files written into --output-dir are named after Gateways, whose names
// come from pull requests. The loader refuses names the API server would
// refuse (no '/', no "..", lower-case DNS names), and this file does not
// trust that alone:
//
//   - the file name must be "<namespace>_<name>.<ext>" made of DNS
//     characters, so it cannot name a directory or leave --output-dir;
//   - it is written through an os.Root on --output-dir, which refuses any
//     path that resolves outside it;
//   - it is written to a fresh temporary file that is then renamed over
//     the final name, so a reader never sees half a bootstrap and an
//     existing symlink at that name is replaced, never followed.

// bootstrapFileName is "ns_name.ext" for the proxy "ns/name". "_" occurs
// in no Kubernetes name, so the mapping is unambiguous.
func bootstrapFileName(proxy, ext string) (string, error) {
	ns, name, ok := strings.Cut(proxy, "/")
	file := ns + "_" + name + "." + ext
	if !ok || !safeName.MatchString(ns) || !safeName.MatchString(name) || (ext != "yaml" && ext != "json") {
		return "", fmt.Errorf("internal error: Gateway %q does not make a safe file name", proxy)
	}
	return file, nil
}

// safeName is a DNS-1123 subdomain, the most a Gateway name or namespace
// may be; it has no empty label, so no "." or "..".
var safeName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// writeOutputFile writes data to dir/name atomically, mode 0600 (a
// bootstrap carries private keys).
func writeOutputFile(dir, name string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if fi, err := root.Lstat(name); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a directory", dir+string(os.PathSeparator)+name)
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = root.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Rename replaces a symlink at name rather than writing through it.
	return root.Rename(tmp, name)
}
