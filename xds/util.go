package xds

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

type anyMsg = anypb.Any

// cloneOf deep-copies a message, keeping its static type.
func cloneOf[T proto.Message](m T) T {
	return proto.Clone(m).(T)
}
