package conformance

import (
	"io"
	"net"
	"sync"
	"time"
)

// forwarder gives a backend process a Pod's network identity: it listens on
// the Pod's own loopback IP at the container port the manifests name, and
// relays every connection to the loopback port the process really bound.
// echo-basic binds all interfaces, so two replicas cannot both bind 3000;
// with forwarders every Pod still "listens on 3000" at its own address, and
// an EndpointSlice written by a test from Pod IPs works as in a cluster.
type forwarder struct {
	l      net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

func startForwarder(listen, target string) (*forwarder, error) {
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	f := &forwarder{l: l, target: target, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

func (f *forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go f.relay(c)
	}
}

func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = true
	return true
}

func (f *forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *forwarder) relay(in net.Conn) {
	defer f.wg.Done()
	defer f.untrack(in)
	out, err := net.Dial("tcp", f.target)
	if err != nil {
		return
	}
	if !f.track(out) {
		out.Close()
		return
	}
	defer f.untrack(out)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Half-close so the other side sees EOF (HTTP/1.0 bodies, TLS
		// close_notify) while the reverse direction finishes.
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
}

// close stops accepting, cuts every relayed connection and waits.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.l.Close()
	f.wg.Wait()
}

// relay is a TCP or UDP forwarder.
type relay interface{ close() }

// udpForwarder is the UDP counterpart of forwarder: one upstream socket per
// client address, so replies find their way back.
type udpForwarder struct {
	pc     *net.UDPConn
	target *net.UDPAddr
	// answer, when set, replaces the upstream: it builds the reply to a
	// datagram itself (the DNS stand-in).
	answer func([]byte) []byte

	mu       sync.Mutex
	sessions map[string]*net.UDPConn
	closed   bool
	wg       sync.WaitGroup
}

func startUDPForwarder(listen, target string, answer func([]byte) []byte) (*udpForwarder, error) {
	la, err := net.ResolveUDPAddr("udp", listen)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP("udp", la)
	if err != nil {
		return nil, err
	}
	f := &udpForwarder{pc: pc, answer: answer, sessions: map[string]*net.UDPConn{}}
	if answer == nil {
		if f.target, err = net.ResolveUDPAddr("udp", target); err != nil {
			pc.Close()
			return nil, err
		}
	}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

func (f *udpForwarder) serve() {
	defer f.wg.Done()
	buf := make([]byte, 64*1024)
	for {
		n, from, err := f.pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if f.answer != nil {
			if out := f.answer(buf[:n]); out != nil {
				_, _ = f.pc.WriteToUDP(out, from)
			}
			continue
		}
		up, err := f.session(from)
		if err != nil {
			continue
		}
		_, _ = up.Write(buf[:n])
	}
}

func (f *udpForwarder) session(from *net.UDPAddr) (*net.UDPConn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, net.ErrClosed
	}
	if up := f.sessions[from.String()]; up != nil {
		return up, nil
	}
	up, err := net.DialUDP("udp", nil, f.target)
	if err != nil {
		return nil, err
	}
	f.sessions[from.String()] = up
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		b := make([]byte, 64*1024)
		for {
			// A session without traffic for a minute is forgotten.
			_ = up.SetReadDeadline(time.Now().Add(time.Minute))
			n, err := up.Read(b)
			if err != nil {
				f.mu.Lock()
				delete(f.sessions, from.String())
				f.mu.Unlock()
				up.Close()
				return
			}
			_, _ = f.pc.WriteToUDP(b[:n], from)
		}
	}()
	return up, nil
}

func (f *udpForwarder) close() {
	f.mu.Lock()
	f.closed = true
	for _, up := range f.sessions {
		up.Close()
	}
	f.mu.Unlock()
	f.pc.Close()
	f.wg.Wait()
}

// dnsAnswer stands in for the suite's coredns backend (an image the
// harness cannot run): it answers every well-formed query NOERROR with no
// records, which is what the suite's UDPRoute test needs — a DNS reply
// that came through the Gateway.
func dnsAnswer(q []byte) []byte {
	if len(q) < 12 || q[2]&0x80 != 0 || q[4] != 0 || q[5] != 1 {
		return nil // not a single-question query
	}
	// Walk the question name to find where the question ends.
	i := 12
	for i < len(q) && q[i] != 0 {
		if q[i]&0xC0 != 0 {
			return nil
		}
		i += int(q[i]) + 1
	}
	end := i + 1 + 4 // zero label, QTYPE, QCLASS
	if end > len(q) {
		return nil
	}
	out := append([]byte(nil), q[:end]...)
	out[2] = 0x80 | (q[2] & 0x79) // QR, keep opcode and RD
	out[3] = 0x80                 // RA, RCODE NOERROR
	for j := 6; j < 12; j++ {     // no answer, authority or additional records
		out[j] = 0
	}
	return out
}
