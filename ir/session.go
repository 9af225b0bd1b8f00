package ir

import (
	"errors"
	"fmt"
	"time"
)

// SessionPersistence is Gateway API sessionPersistence: the first answer
// tells the client which endpoint served it (a cookie or a header), and
// later requests that carry it go back to that endpoint while it is
// healthy. Exactly one of Cookie and Header is set. Shared by every route
// of a rule: never modify it.
type SessionPersistence struct {
	Cookie *SessionCookie `json:",omitempty"`
	Header *SessionHeader `json:",omitempty"`
}

// SessionCookie keeps the session in a cookie named Name. Its Path is the
// route's path (xds derives it from the match).
type SessionCookie struct {
	Name string
	// TTL, when set, makes the cookie permanent (Max-Age) and the session
	// invalid after that long; 0 is a session cookie without expiry.
	TTL time.Duration `json:",omitempty"`
}

// SessionHeader keeps the session in the header Name, which the response
// carries and the client sends back.
type SessionHeader struct {
	Name string
}

func (s *SessionPersistence) validate() error {
	switch {
	case s.Cookie != nil && s.Header != nil:
		return errors.New("session persistence: both cookie and header")
	case s.Cookie != nil:
		if s.Cookie.Name == "" {
			return errors.New("session persistence: cookie without a name")
		}
		if s.Cookie.TTL < 0 {
			return fmt.Errorf("session persistence: negative TTL %s", s.Cookie.TTL)
		}
	case s.Header != nil:
		if s.Header.Name == "" {
			return errors.New("session persistence: header without a name")
		}
	default:
		return errors.New("session persistence: neither cookie nor header")
	}
	return nil
}
