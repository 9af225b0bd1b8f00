package translate

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	egv1a1 "github.com/envoyproxy/gateway/api/v1alpha1"
	lua "github.com/yuin/gopher-lua"

	"github.com/egctl/egctl/ir"
)

// buildLua translates spec.lua[i] of owner for the proxy of gateway gw.
func (b *builder) buildLua(owner *policy, l *egv1a1.Lua, i int, gw nsName) (*ir.Lua, error) {
	field := fmt.Sprintf("spec.lua[%d]", i)
	var code string
	switch {
	case l.Type == egv1a1.LuaValueTypeValueRef || (l.Type == "" && l.ValueRef != nil):
		if l.ValueRef == nil || l.Inline != nil {
			return nil, fieldErr(field, "type ValueRef needs valueRef and no inline")
		}
		ref := l.ValueRef
		if (ref.Group != "" && ref.Group != "v1") || ref.Kind != "ConfigMap" {
			return nil, fieldErr(field+".valueRef", "%s is not supported; only a ConfigMap", groupKind(string(ref.Group), string(ref.Kind)))
		}
		cm := b.configMap(owner.key.Namespace, string(ref.Name))
		if cm == nil {
			return nil, fieldErr(field+".valueRef", "ConfigMap %s/%s not found", owner.key.Namespace, ref.Name)
		}
		// Envoy Gateway reads key "lua", else "the first" key of the map
		// (in Go's random map order); egctl takes the first key in
		// sorted order, so the choice is the same every run.
		var ok bool
		if code, ok = cm.Data["lua"]; !ok {
			keys := make([]string, 0, len(cm.Data))
			for k := range cm.Data {
				keys = append(keys, k)
			}
			if len(keys) == 0 {
				return nil, fieldErr(field+".valueRef", "ConfigMap %s/%s has no key lua (and no data at all)", owner.key.Namespace, ref.Name)
			}
			sort.Strings(keys)
			code = cm.Data[keys[0]]
		}
	case l.Type == egv1a1.LuaValueTypeInline || l.Type == "":
		if l.Inline == nil || l.ValueRef != nil {
			return nil, fieldErr(field, "type Inline needs inline and no valueRef")
		}
		code = *l.Inline
	default:
		return nil, fieldErr(field+".type", "unknown type %q (Inline or ValueRef)", l.Type)
	}
	name := eepName(owner, "lua", i)
	if err := b.validateLua(code, b.luaValidation(gw)); err != nil {
		return nil, fmt.Errorf("validation failed for lua body in policy with name %s: %w", name, err)
	}
	out := &ir.Lua{Name: name, Code: code}
	if l.FilterContext != nil && len(l.FilterContext.Raw) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(l.FilterContext.Raw, &obj); err != nil || obj == nil {
			return nil, fieldErr(field+".filterContext", "must be a JSON object")
		}
		out.FilterContext = string(l.FilterContext.Raw)
	}
	return out, nil
}

// luaValidation is the EnvoyProxy's luaValidation for gw's proxy; Strict,
// Envoy Gateway's default, when none is set.
func (b *builder) luaValidation(gw nsName) egv1a1.LuaValidation {
	if ep := b.envoyProxyOf(gw); ep != nil && ep.Spec.LuaValidation != nil && *ep.Spec.LuaValidation != "" {
		return *ep.Spec.LuaValidation
	}
	return egv1a1.LuaValidationStrict
}

type luaCheck struct {
	code string
	mode egv1a1.LuaValidation
}

// validateLua checks a script as far as can be done without Envoy, per
// EnvoyProxy luaValidation:
//
//   - Strict: the script compiles, its top level runs (as Envoy runs it
//     when it loads the configuration), and envoy_on_request and
//     envoy_on_response run against a stand-in for Envoy's stream handle
//     whose methods are those Envoy documents: a typo in a method name, a
//     call with the wrong argument types, a nil index fails here instead
//     of on the first request.
//   - InsecureSyntax: the script compiles.
//   - Disabled: not checked.
//
// Every mode needs envoy_on_request or envoy_on_response, as Envoy Gateway
// requires. The script runs in a sandbox (Lua 5.1, as LuaJIT): no io, no
// os beyond the clock, no loading of files or modules, bounded in time
// and in the length of strings it can build. It runs on the machine that
// compiles, so it must not be able to reach anything there.
func (b *builder) validateLua(code string, mode egv1a1.LuaValidation) error {
	if !strings.Contains(code, "envoy_on_request") && !strings.Contains(code, "envoy_on_response") {
		return errors.New("expected one of envoy_on_request() or envoy_on_response() to be defined")
	}
	k := luaCheck{code, mode}
	st := b.eepState()
	if err, ok := st.luaChecked[k]; ok {
		return err
	}
	var err error
	switch mode {
	case egv1a1.LuaValidationDisabled:
	case egv1a1.LuaValidationInsecureSyntax:
		err = luaSyntax(code)
	case egv1a1.LuaValidationStrict:
		err = luaRun(code)
	default:
		err = fmt.Errorf("EnvoyProxy luaValidation %q is not one of Strict, InsecureSyntax, Disabled", mode)
	}
	st.luaChecked[k] = err
	return err
}

func luaSyntax(code string) error {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	_, err := L.Load(strings.NewReader(code), luaScriptChunk)
	return cleanLuaError(err)
}

// Chunk names, so errors can say where in the script they happened.
const (
	luaScriptChunk = "script"
	luaMockChunk   = "egctl"
)

// luaTimeout bounds one script's validation run.
const luaTimeout = 2 * time.Second

// luaMaxString bounds strings the script builds with string.rep.
const luaMaxString = 1 << 20

//go:embed envoyextensionpolicy_lua_mock.lua
var luaMock string

func luaRun(code string) (rerr error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256, RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 80, IncludeGoStackTrace: false})
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), luaTimeout)
	defer cancel()
	openSandbox(L)
	mock, err := L.Load(strings.NewReader(luaMock), luaMockChunk)
	if err == nil {
		L.Push(mock)
		err = L.PCall(0, 0, nil)
	}
	if err != nil {
		return fmt.Errorf("internal error: Lua stand-in for Envoy: %v", err)
	}
	L.SetContext(ctx)
	defer func() {
		if r := recover(); r != nil {
			rerr = fmt.Errorf("lua: %v", r)
		}
	}()
	fn, err := L.Load(strings.NewReader(code), luaScriptChunk)
	if err != nil {
		return cleanLuaError(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		return luaRunError("loading the script", ctx, err)
	}
	for _, entry := range []struct{ fn, handle string }{
		{"envoy_on_request", "__egctl_request_handle"},
		{"envoy_on_response", "__egctl_response_handle"},
	} {
		f := L.GetGlobal(entry.fn)
		if f == lua.LNil {
			continue
		}
		if f.Type() != lua.LTFunction {
			return fmt.Errorf("%s is a %s, not a function", entry.fn, f.Type())
		}
		L.Push(f)
		L.Push(L.GetGlobal(entry.handle))
		if err := L.PCall(1, 0, nil); err != nil {
			return luaRunError(entry.fn, ctx, err)
		}
	}
	return nil
}

func luaRunError(where string, ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: did not finish within %s", where, luaTimeout)
	}
	return fmt.Errorf("%s: %w", where, cleanLuaError(err))
}

var (
	luaMockPos   = regexp.MustCompile(`^` + luaMockChunk + `:\d+: `)
	luaScriptPos = regexp.MustCompile(luaScriptChunk + `:(\d+):`)
	luaSpaces    = regexp.MustCompile(`\s+`)
	luaColumn    = regexp.MustCompile(`line (\d+)\(column:(\d+)\)`)
)

// cleanLuaError says where in the script an error happened ("line N: ..."),
// without gopher-lua's stack trace or the stand-in's own positions.
func cleanLuaError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ae *lua.ApiError
	trace := ""
	if errors.As(err, &ae) {
		msg, trace = ae.Object.String(), ae.StackTrace
	}
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg, trace = msg[:i], msg[i:]+trace
	}
	switch {
	case strings.HasPrefix(msg, luaScriptChunk+" line:"):
		msg = "line " + strings.TrimPrefix(msg, luaScriptChunk+" line:")
	case strings.HasPrefix(msg, luaScriptChunk+" at EOF:"):
		msg = "at the end of the script:" + strings.TrimPrefix(msg, luaScriptChunk+" at EOF:")
	case strings.HasPrefix(msg, luaScriptChunk+":"):
		msg = "line " + strings.TrimPrefix(msg, luaScriptChunk+":")
	case luaMockPos.MatchString(msg):
		msg = luaMockPos.ReplaceAllString(msg, "")
		if m := luaScriptPos.FindStringSubmatch(trace); m != nil {
			msg = "line " + m[1] + ": " + msg
		}
	}
	msg = luaColumn.ReplaceAllString(luaSpaces.ReplaceAllString(msg, " "), "line $1, column $2")
	return errors.New(strings.TrimSpace(msg))
}

// openSandbox opens what a script may use: the base library without file
// loading, string (bounded rep), table, math, a clock-only os, and
// LuaJIT's bit library, which Envoy's scripts may call.
func openSandbox(L *lua.LState) {
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}, {lua.OsLibName, lua.OpenOs}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	for _, f := range []string{"dofile", "loadfile", "require", "module"} {
		L.SetGlobal(f, lua.LNil)
	}
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	os := L.GetGlobal("os").(*lua.LTable)
	safe := L.NewTable()
	for _, f := range []string{"time", "clock", "date", "difftime"} {
		safe.RawSetString(f, os.RawGetString(f))
	}
	L.SetGlobal("os", safe)
	str := L.GetGlobal("string").(*lua.LTable)
	rep := str.RawGetString("rep")
	str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s, n := L.CheckString(1), L.CheckInt(2)
		if n > 0 && len(s)*n > luaMaxString {
			L.RaiseError("string.rep: result longer than %d bytes", luaMaxString)
		}
		L.Push(rep)
		L.Push(lua.LString(s))
		L.Push(lua.LNumber(n))
		L.Call(2, 1)
		return 1
	}))
	L.SetGlobal("bit", luaBit(L))
}

func luaBit(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	ints := func(L *lua.LState) []int32 {
		n := L.GetTop()
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(int64(L.CheckNumber(i + 1)))
		}
		return out
	}
	fold := func(f func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := ints(L)
			if len(v) == 0 {
				L.RaiseError("bad argument #1 (number expected)")
			}
			r := v[0]
			for _, x := range v[1:] {
				r = f(r, x)
			}
			L.Push(lua.LNumber(r))
			return 1
		}
	}
	shift := func(f func(a int32, n uint) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			a, n := int32(int64(L.CheckNumber(1))), uint(L.CheckInt(2))&31
			L.Push(lua.LNumber(f(a, n)))
			return 1
		}
	}
	t.RawSetString("band", L.NewFunction(fold(func(a, b int32) int32 { return a & b })))
	t.RawSetString("bor", L.NewFunction(fold(func(a, b int32) int32 { return a | b })))
	t.RawSetString("bxor", L.NewFunction(fold(func(a, b int32) int32 { return a ^ b })))
	t.RawSetString("tobit", L.NewFunction(fold(func(a, _ int32) int32 { return a })))
	t.RawSetString("bnot", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(^int32(int64(L.CheckNumber(1)))))
		return 1
	}))
	t.RawSetString("lshift", L.NewFunction(shift(func(a int32, n uint) int32 { return a << n })))
	t.RawSetString("rshift", L.NewFunction(shift(func(a int32, n uint) int32 { return int32(uint32(a) >> n) })))
	t.RawSetString("arshift", L.NewFunction(shift(func(a int32, n uint) int32 { return a >> n })))
	t.RawSetString("tohex", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(fmt.Sprintf("%08x", uint32(int64(L.CheckNumber(1))))))
		return 1
	}))
	return t
}
