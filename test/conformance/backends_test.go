package conformance

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLineLogSince(t *testing.T) {
	l := &lineLog{}
	l.consume(strings.NewReader("early\n"))
	l.lines[0].at = time.Now().Add(-time.Minute)
	l.consume(strings.NewReader("late 1\nlate 2\n"))
	got := string(l.since(time.Now().Add(-10 * time.Second)))
	if got != "late 1\nlate 2\n" {
		t.Fatalf("since 10s ago = %q", got)
	}
	if all := string(l.since(time.Time{})); !strings.HasPrefix(all, "early\n") {
		t.Fatalf("since zero = %q", all)
	}
}

func TestForwarderRelaysAndCloses(t *testing.T) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c) // until the client half-closes
				_, _ = c.Write([]byte("echo:" + string(b)))
			}()
		}
	}()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	listen := net.JoinHostPort("127.1.250.9", strconv.Itoa(port))
	f, err := startForwarder(listen, up.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", listen, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte("hi"))
	_ = c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(b) != "echo:hi" {
		t.Fatalf("through the forwarder: %q, %v", b, err)
	}
	f.close()
	if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		c.Close()
		t.Fatal("forwarder still accepts after close")
	}
}

func TestDNSStandInThroughUDPForwarder(t *testing.T) {
	port, err := freeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.1.250.10", strconv.Itoa(port))
	f, err := startUDPForwarder(addr, "", dnsAnswer)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	// ID 0xbeef, RD, one question: foo.bar.com. A IN
	q := []byte{0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'f', 'o', 'o', 3, 'b', 'a', 'r', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 512)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	r := b[:n]
	if n != len(q) || r[0] != 0xbe || r[1] != 0xef || r[2]&0x80 == 0 || r[3]&0x0f != 0 || r[5] != 1 || r[7] != 0 {
		t.Fatalf("reply % x is not a NOERROR answer to the query", r)
	}
	if dnsAnswer(r) != nil {
		t.Fatal("a reply was answered as if it were a query")
	}
}
