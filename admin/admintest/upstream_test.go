package admintest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func startUpstream(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}
